"""Split brain of a replicated pool, on stand-ins of both nodes: each node's DRBD is the real apply.drbd.DrbdHost over
a fake runner that answers get-gi and acts on /proc/drbd as DRBD 8.4 would; each node reaches the other's service
functions as its API does. Detection from both nodes' generations, refusals that name the field and change nothing,
a plan without confirm, the victim's and the survivor's commands in order with it, and an unreachable peer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sanappliance.apply import drbd as A
from sanappliance.apply.runner import Result
from sanappliance.drbd import commands
from sanappliance.drbd.status import Device
from sanappliance.errors import SanError
from sanappliance.service import replicated, split_brain
from sanappliance.service.env import Env
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import config

from .fakes import FakeSystem, MemoryStore

HEAD = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 2A29C3B7D3B1D9E4A1C2F3D\n"
WARNING = "DRBD module version: 8.4.11\n   userland version: 9.22.0\nmixing different major numbers will not work!\n"
# the generation both nodes had when the link went, the one before it, and each node's new one since (A: node1's,
# with the primary bit set as DRBD prints it on the Primary)
X, Y, A1, B2 = 0xBA3AAB0D4A6AD1B6, 0xBA39AB0D4A6AD1B6, 0xD2C6E4B37A4B2B4D, 0x6F0C2A9E81D3C55A
RES = "san-p1"


class Node:
    """One node's DRBD as its runner and /proc/drbd show it."""

    def __init__(self, lab: Lab, name: str, cstate: str, role: str, oos: int, gi: tuple[int, int, int, int]) -> None:
        self.lab, self.name = lab, name
        self.cstate, self.role, self.disk, self.oos, self.gi = cstate, role, "UpToDate", oos, gi
        self.root = lab.tmp / name
        (self.root / "proc").mkdir(parents=True)
        self.write()
        self.env = Env(MemoryStore(config()), FakeSystem())
        self.hosts = replicated.Hosts(Cluster(lab, name), A.DrbdHost(root=self.root, runner=self.run),
                                      hostname=name)

    def write(self) -> None:
        connected = self.cstate not in ("StandAlone", "WFConnection")
        peer_role, peer_disk = ("Secondary", "UpToDate") if connected else ("Unknown", "DUnknown")
        (self.root / "proc/drbd").write_text(
            HEAD + f" 0: cs:{self.cstate} ro:{self.role}/{peer_role} ds:{self.disk}/{peer_disk} C r-----\n"
            f"    ns:0 nr:0 dw:{self.oos} dr:2048 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:{self.oos}\n"
            " 1: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n"
            "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n")

    def run(self, argv, check=True, timeout=None, **_):
        argv = list(argv)
        assert argv[0] == commands.DRBDADM and argv[-1] == RES, argv
        command = argv[1]
        if command == "get-gi":
            primary = int(self.role == "Primary")
            text = ":".join(f"{x:016X}" for x in self.gi) + f":1:1:{primary}:{int(self.cstate == 'Connected')}:0:0:0\n"
            return Result(tuple(argv), 0, text, WARNING)
        self.lab.log.append((self.name, " ".join(argv[1:-1])))
        if command == "disconnect":
            self.cstate = "StandAlone"
        elif command == "secondary":
            self.role = "Secondary"
        elif command == "connect":
            self.cstate = "WFConnection"
        else:
            raise AssertionError(argv)
        self.write()
        return Result(tuple(argv), 0, "", WARNING)


class Cluster:
    """This node's cluster side: its spec (both nodes with API pins) and the other node's API."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab, self.name = lab, name
        self.spec = replace(two_nodes(), nodes=tuple(replace(n, api_pin="ab" * 32) for n in two_nodes().nodes))

    def read_spec(self):
        return self.spec

    def hostname(self) -> str:
        return self.name

    def authkey(self) -> bytes:
        return b"k" * 256

    def call_peer(self, address, pinned, user, secret, method, params):
        if self.lab.unreachable:
            raise SanError("cannot reach the peer's API: Connection refused", field="peer", value=address)
        other = self.lab.other(self.name)
        self.lab.log.append((other.name, f"api {method}"))
        fn = {"san_peer_replica_gi": split_brain.replica_gi,
              "san_peer_replica_recover": split_brain.replica_recover}[method]
        return fn(other.env, other.hosts, **params)


class Lab:
    def __init__(self, tmp) -> None:
        self.tmp, self.log, self.unreachable = tmp, [], False
        self.nodes: dict[str, Node] = {}

    def add(self, *args) -> Node:
        node = Node(self, *args)
        self.nodes[node.name] = node
        return node

    def other(self, name: str) -> Node:
        return self.nodes["node2" if name == "node1" else "node1"]

    def changes(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if not entry[1].startswith("api")]


def split(tmp_path) -> Lab:
    """A split brain: node1 stayed Primary and wrote, node2 was made Primary alone, wrote, and stepped down; since
    the link came back both are StandAlone."""
    lab = Lab(tmp_path)
    lab.add("node1", "StandAlone", "Primary", 4096, (A1, X, Y, 0))
    lab.add("node2", "StandAlone", "Secondary", 12288, (B2, X, Y, 0))
    return lab


@pytest.fixture
def lab(tmp_path):
    return split(tmp_path)


def ask(lab: Lab, name: str = "node1"):
    node = lab.nodes[name]
    return node.env, node.hosts


def test_a_split_brain_is_found_from_both_nodes_generations(lab):
    found = split_brain.diagnose(*ask(lab), "p1")
    assert found.split_brain and found.relation == "split-brain" and found.health == "split-brain"
    assert found.changed == ("node1", "node2") and found.ancestor == f"{X:016X}"
    assert (found.here.node, found.peer.node) == ("node1", "node2")
    assert found.here.generations.current == A1 & ~1 and found.peer.generations.current == B2
    assert (found.here.device.out_of_sync_kib, found.peer.device.out_of_sync_kib) == (4096, 12288)
    text = "\n".join(found.lines())
    assert "pool p1: SPLIT BRAIN" in text and "node1 (this node): Primary, StandAlone" in text
    assert f"current {A1 & ~1:016X}  bitmap {X:016X}" in text and f"current {B2:016X}" in text
    assert "sanctl /pools/p1 recover victim=NODE" in found.explanation and "12288 KiB" in found.explanation
    assert lab.changes() == [] and ("node2", "api san_peer_replica_gi") in lab.log
    data = found.as_dict()
    assert data["split_brain"] and [n["node"] for n in data["nodes"]] == ["node1", "node2"]
    assert data["nodes"][1]["generations"] == {"current": f"{B2:016X}", "bitmap": f"{X:016X}",
                                               "history": [f"{Y:016X}", f"{0:016X}"]}
    mirrored = split_brain.diagnose(*ask(lab, "node2"), "p1")  # the same from the other node
    assert mirrored.split_brain and mirrored.changed == ("node2", "node1")


def test_one_node_reconnecting_is_still_a_split_brain(lab):
    lab.nodes["node1"].cstate = "WFConnection"
    lab.nodes["node1"].write()
    assert split_brain.diagnose(*ask(lab), "p1").split_brain


def test_standalone_without_a_split_brain_and_in_sync_are_not(lab):
    node2 = lab.nodes["node2"]
    node2.gi = (X, 0, Y, 0)  # node2 stayed at the old generation: node1 only is newer
    found = split_brain.diagnose(*ask(lab), "p1")
    assert found.health == "disconnected" and found.relation == "newer" and found.changed == ("node1",)
    assert "connecting again resyncs it" in found.explanation
    node2.gi = (0x1234567890ABCDEE, 0, 0x2222, 0)
    assert "nothing in common" in split_brain.diagnose(*ask(lab), "p1").explanation
    for node in lab.nodes.values():
        node.cstate, node.gi = "Connected", (A1, 0, X, Y)
        node.write()
    found = split_brain.diagnose(*ask(lab), "p1")
    assert found.health == "ok" and found.relation == "same" and found.changed == ()


def test_refusals_name_the_field_and_change_nothing(lab):
    env, hosts = ask(lab)
    for args, field, words in (
            (("p1", "node3"), "victim", "node1 or node2"),
            (("p1", "node1"), "victim", "move the pool to the other node first: sanctl /pools/p1 move node2"),
            (("local", "node2"), "pool", "not a replicated pool"),
            (("nosuch", "node2"), "pool", "no such pool")):
        with pytest.raises(SanError) as err:
            split_brain.recover(env, hosts, *args, confirm=True)
        assert err.value.field == field and words in err.value.message, (args, err.value)
    lab.nodes["node2"].gi = (X, 0, Y, 0)  # no split brain
    with pytest.raises(SanError) as err:
        split_brain.recover(env, hosts, "p1", "node2", confirm=True)
    assert err.value.field == "pool" and "no split brain" in err.value.message
    assert lab.changes() == []


def test_without_confirm_it_only_says_what_it_would_do_and_what_is_lost(lab):
    env, hosts = ask(lab)
    result = split_brain.recover(env, hosts, "p1", "node2")
    assert not result.done and (result.victim, result.survivor) == ("node2", "node1")
    assert result.plan == (
        f"node2: {commands.DRBDADM} disconnect {RES}  (skipped: StandAlone already)",
        f"node2: {commands.DRBDADM} secondary {RES}  (skipped: Secondary already)",
        f"node2: {commands.DRBDADM} connect --discard-my-data {RES}  (node2 throws its changes away and resyncs "
        "from node1)",
        f"node1: {commands.DRBDADM} connect {RES}")
    assert f"node2's changes since the split (generation {B2:016X}, from the common generation {X:016X}" in \
        result.lost and "12288 KiB out of sync on node2" in result.lost
    dry = split_brain.recover(replace(env, dry_run=True), hosts, "p1", "node2", confirm=True)
    assert dry.dry_run and not dry.done and dry.plan == result.plan
    assert lab.changes() == []


def test_confirmed_the_victim_discards_then_the_survivor_connects(lab):
    env, hosts = ask(lab)
    result = split_brain.recover(env, hosts, "p1", "node2", confirm=True)
    assert result.done
    assert lab.changes() == [("node2", "connect --discard-my-data"), ("node1", "connect")]
    assert [e for e in lab.log if e[1].startswith("api")][-1] == ("node2", "api san_peer_replica_recover")
    assert result.lines == ("node2: disconnect: StandAlone already", "node2: secondary: Secondary already",
                            "node2: connect --discard-my-data: done: its changes are discarded, it resyncs from "
                            "the peer", "node1: connect: done")


def test_a_victim_here_that_tried_to_reconnect_is_disconnected_first(lab):
    node1, node2 = lab.nodes["node1"], lab.nodes["node2"]
    node1.role, node2.role = "Secondary", "Primary"  # node2 serves; node1, the victim, asked from node1
    node1.cstate = "WFConnection"
    for node in (node1, node2):
        node.write()
    split_brain.recover(*ask(lab), "p1", "node1", confirm=True)
    assert lab.changes() == [("node1", "disconnect"), ("node1", "connect --discard-my-data"), ("node2", "connect")]
    lab.log.clear()
    with pytest.raises(SanError) as err:
        split_brain.replica_recover(*ask(lab, "node2"), "p1", "referee")
    assert err.value.field == "role" and lab.changes() == []


def test_an_unreachable_peer_leaves_this_nodes_view_only_and_no_recovery(lab):
    lab.unreachable = True
    env, hosts = ask(lab)
    found = split_brain.diagnose(env, hosts, "p1")
    assert not found.split_brain and found.health == "disconnected" and found.relation == ""
    assert found.peer.device is None and "cannot reach the peer's API" in found.peer.problem
    assert "node2 could not be asked" in found.explanation and "this node's view only" in found.explanation
    assert "StandAlone: a split brain or a manual disconnect" in found.explanation
    assert "node2: state unknown" in found.lines()[3] and found.lines()[0].endswith("(this node's view only)")
    with pytest.raises(SanError) as err:
        split_brain.recover(env, hosts, "p1", "node2", confirm=True)
    assert err.value.field == "pool" and "could not be asked" in err.value.message
    assert lab.changes() == []


def test_drbd_not_loaded_here_is_said(lab):
    (lab.nodes["node1"].root / "proc/drbd").unlink()
    found = split_brain.diagnose(*ask(lab), "p1")
    assert found.health == "unknown" and "not loaded" in found.here.problem and found.peer.device is not None


def test_the_apply_steps_look_first():
    alone = Device(0, "StandAlone", "Secondary", "Unknown", "UpToDate", "DUnknown", "C")
    waiting = replace(alone, cstate="WFConnection")
    assert A.disconnect_argv(RES, alone) is None
    assert A.disconnect_argv(RES, waiting) == [commands.DRBDADM, "disconnect", RES]
    assert A.connect_argv(RES, waiting, discard_my_data=True) is None
    assert A.connect_argv(RES, alone, discard_my_data=True) == [commands.DRBDADM, "connect", "--discard-my-data",
                                                                 RES]
    assert A.connect_argv(RES, replace(alone, role="Primary")) == [commands.DRBDADM, "connect", RES]
    with pytest.raises(SanError, match="make it Secondary first"):
        A.connect_argv(RES, replace(alone, role="Primary"), discard_my_data=True)
    for fn in (A.disconnect_argv, A.connect_argv):
        with pytest.raises(SanError, match="down"):
            fn(RES, Device(0, "Unconfigured"))


def test_proc_excerpt_keeps_one_minor():
    text = HEAD + " 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----\n    ns:0 oos:8\n" \
        " 1: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 oos:0\n"
    assert split_brain.proc_excerpt(text, 1) == (
        "version: 8.4.11 (api:1/proto:86-101)\n 1: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n"
        "    ns:0 oos:0\n")
    assert split_brain.proc_excerpt(text, 5) == "version: 8.4.11 (api:1/proto:86-101)\n"
