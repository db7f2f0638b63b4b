"""Forming the HA cluster with `sanctl /cluster init` on node1 and `sanctl /cluster join` on node2: the real corosync
(knet, encrypted), sbd on a shared disk with the i6300esb watchdog, Pacemaker with the appliance's properties and
fence_sbd; node2 joins over node1's API with the join secret (its certificate pinned), no SSH trust."""

import json
import re
import time
import xml.etree.ElementTree as ET

import pytest

from sanappliance.cluster.model import ClusterSpec, Node
from sanappliance.lab import Disk, LabSpec, NodeSpec, default_networks

from .conftest import BUILD, start_lab, stop_lab

SBD = "/dev/disk/by-id/virtio-sbd0"
SECRETS: list[str] = []  # the join secret init printed
_T = ClusterSpec("lab1", nodes=(Node("node1", 1), Node("node2", 2)), profile="lab").timing()
# the longest a lost node may take to be fenced: membership loss (token + consensus), both fence delays, the fence
# itself (stonith-timeout, above msgwait); plus 30 s for TCG
TIMEOUTS = {"token_ms": _T.effective_token_ms, "consensus_ms": _T.consensus_ms, "msgwait_s": _T.msgwait,
            "stonith_timeout_s": _T.stonith_timeout, "pcmk_delay_max_s": _T.pcmk_delay_max,
            "priority_fencing_delay_s": _T.priority_fencing_delay,
            "bound_s": (_T.effective_token_ms + _T.consensus_ms) / 1000 + _T.pcmk_delay_max
            + _T.priority_fencing_delay + _T.stonith_timeout + 30}


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", networks=("cluster",)), NodeSpec("node2", networks=("cluster",))),
                   networks=default_networks("cluster"), shared_disks=(Disk("sbd0", "64M"),))
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


def sanctl(node, *args, check=False, timeout=900):
    return node.run(["/usr/bin/sanctl", *args], check=check, timeout=timeout)


def untouched(node) -> str:
    return node.sh("ls /etc/corosync/corosync.conf /etc/corosync/authkey /etc/sanappliance/cluster.json 2>&1; "
                   "systemctl is-active corosync pacemaker sbd", check=False).stdout


def test_bad_input_changes_nothing(lab):
    node = lab.node("node1")
    before = untouched(node)
    address = lab.address("node1", "cluster")
    for args, expected in (
        (("c1", "sbd=/dev/disk/by-id/virtio-nope", f"address={address}"), "sbd.devices[0]"),
        (("c1", "sbd=/dev/disk/by-id/virtio-sanroot", f"address={address}"), "in use"),
        (("Bad_Name!", f"sbd={SBD}", f"address={address}"), "name"),
        (("c1", f"sbd={SBD}", "address=300.1.2.3"), "addresses"),
        (("c1", f"sbd={SBD}", f"address={address}", "profile=fast"), "profile"),
    ):
        result = sanctl(node, "/cluster", "init", *args)
        assert result.returncode != 0 and expected in result.stderr, (args, result.stderr)
    assert untouched(node) == before
    assert "No such file" in before


def test_init_forms_a_quorate_cluster_with_sbd_fencing(lab):
    node = lab.node("node1")
    address = lab.address("node1", "cluster")
    started = time.monotonic()
    result = sanctl(node, "/cluster", "init", "lab1", f"sbd={SBD}", f"address={address}", "profile=lab")
    assert result.returncode == 0, result.stderr
    assert "Cluster lab1 formed." in result.stdout
    SECRETS.append(re.search(r"secret=(\S+)", result.stdout).group(1))
    node.wait_for("crm_mon -1 --output-as=xml | grep -q 'resource id=\"fence-sbd\".*role=\"Started\"'", timeout=300)
    record("init to fence_sbd started", time.monotonic() - started)
    status = sanctl(node, "/cluster", "status", check=True).stdout
    assert "1/1 nodes online, quorate, DC node1" in status, status
    assert "resource fence-sbd (stonith:fence_sbd): Started on node1" in status, status
    assert "cluster lab1: 1/1 nodes online" in sanctl(node, "ls", check=True).stdout


def test_what_init_set_up(lab):
    node = lab.node("node1")
    conf = node.sh("cat /etc/corosync/corosync.conf").stdout
    assert "transport: knet" in conf and "crypto_cipher: aes256" in conf and "cluster_name: lab1" in conf
    assert node.sh("stat -c %a /etc/corosync/authkey").stdout.strip() == "400"
    dump = node.sh(f"sbd -d {SBD} dump").stdout
    assert "Timeout (watchdog) : 15" in dump and "Timeout (msgwait)  : 30" in dump, dump
    assert "node1" in node.sh(f"sbd -d {SBD} list").stdout
    props = node.sh("crm_attribute --type crm_config --name stonith-enabled --query").stdout
    assert "value=true" in props
    assert node.sh("crm_verify --live-check --verbose", check=False).returncode == 0
    assert node.sh("systemctl is-active sbd corosync pacemaker").stdout.split() == ["active"] * 3
    again = sanctl(node, "/cluster", "init", "lab2", f"sbd={SBD}", f"address={lab.address('node1', 'cluster')}")
    assert again.returncode != 0 and "in a cluster already" in again.stderr


def test_join_refused_with_a_wrong_secret_changes_nothing(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    conf = node1.sh("cat /etc/corosync/corosync.conf").stdout
    before = untouched(node2)
    token, _, pin = SECRETS[0].rpartition(".")
    peer = lab.address("node1", "cluster")
    for secret, expected, to in ((f"not-the-secret-at-all.{pin}", "refused the join secret", peer),
                                 (token, "not a join secret", peer),
                                 (f"{token}.{'0' * 16}", "certificate", peer),
                                 (SECRETS[0], "does not resolve", "nosuchnode.invalid")):
        result = sanctl(node2, "/cluster", "join", to, f"secret={secret}",
                        f"address={lab.address('node2', 'cluster')}")
        assert result.returncode != 0 and expected in result.stderr, (secret, result.stderr)
    assert untouched(node2) == before and "No such file" in before
    assert node1.sh("cat /etc/corosync/corosync.conf").stdout == conf


def test_join_makes_a_quorate_two_node_cluster(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    started = time.monotonic()
    result = sanctl(node2, "/cluster", "join", lab.address("node1", "cluster"), f"secret={SECRETS[0]}",
                    f"address={lab.address('node2', 'cluster')}")
    assert result.returncode == 0, result.stderr
    node1.wait_for("crm_mon -1 --output-as=xml | grep -q 'node name=\"node2\".*online=\"true\"'", timeout=600)
    record("join to node2 online", time.monotonic() - started)
    # the new node count changes fence_sbd's parameters (pcmk_delay_max): Pacemaker restarts it
    node1.wait_for("crm_mon -1 --output-as=xml | grep -q 'resource id=\"fence-sbd\".*role=\"Started\"'", timeout=300)
    settled = "resource fence-sbd (stonith:fence_sbd): Started"  # it may restart once more for its parameters
    lab.wait_until(lambda: settled in sanctl(node1, "/cluster", "status").stdout, 300, "fence-sbd started", 3)
    status = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "2/2 nodes online, quorate" in status, status
    quorum = node2.sh("corosync-quorumtool -s", check=False).stdout
    assert "2Node" in quorum and "Quorate:          Yes" in quorum, quorum
    assert node2.sh("cmp /etc/corosync/authkey /etc/corosync/authkey && stat -c %a /etc/corosync/authkey"
                    ).stdout.strip() == "400"
    assert node1.sh("md5sum < /etc/corosync/authkey").stdout == node2.sh("md5sum < /etc/corosync/authkey").stdout
    delay = node1.sh("crm_resource --resource fence-sbd --get-parameter pcmk_delay_max", check=False).stdout
    assert "10" in delay, delay


# --- daily operations and fencing on the formed two-node cluster ---------------------------------------------------

REPORT = BUILD / "reports" / "cluster.json"
TIMES: dict[str, float] = {}
DUMMY = ('<primitive id="san-dummy" class="ocf" provider="heartbeat" type="Dummy"><operations>'
         '<op id="san-dummy-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations></primitive>')


def mon(node) -> ET.Element:
    return ET.fromstring(node.sh("crm_mon --one-shot --inactive --output-as=xml").stdout)


def where(node, rsc: str = "san-dummy") -> list[str]:
    el = mon(node).find(f".//resource[@id='{rsc}']")
    if el is None or el.get("role") != "Started":
        return []
    return [n.get("name") for n in el.findall("node")]


def wait_where(lab, node, expected: list[str], timeout: float = 180, rsc: str = "san-dummy") -> float:
    return lab.wait_until(lambda: where(node, rsc) == expected, timeout, f"{rsc} on {expected or 'no node'}", 2)


def online(node, name: str) -> bool:
    el = mon(node).find(f".//nodes/node[@name='{name}']")
    return el is not None and el.get("online") == "true" and el.get("unclean") != "true"


def fenced_ok(node, target: str) -> bool:
    out = node.sh(f"stonith_admin --history {target} --output-as=xml", check=False).stdout
    try:
        return any(e.get("status") == "success" for e in ET.fromstring(out).iter("fence_event"))
    except ET.ParseError:
        return False


def record(name: str, seconds: float) -> None:
    TIMES[name] = round(seconds, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"profile": "lab", "seconds": TIMES, "timeouts": TIMEOUTS}, indent=1) + "\n")
    print(f"{name}: {seconds:.1f} s")


def rejoin(lab, name: str, survivor) -> None:
    """Boot a fenced node again; it rejoins by itself (SBD_STARTMODE=always, two_node waits for its peer)."""
    started = time.monotonic()
    lab.restart(name)
    lab.wait_until(lambda: online(survivor, name), 600, f"{name} online again", 3)
    record(f"{name} boot to online again", time.monotonic() - started)


def hosts(log: str) -> set[str]:
    """The host names of journalctl's short-iso lines (TIME HOST UNIT[PID]: MESSAGE)."""
    return {line.split()[1] for line in log.splitlines() if len(line.split()) > 2 and line[:4].isdigit()}


def test_logs_of_each_node_filtered_by_time(lab):
    node1 = lab.node("node1")
    own = sanctl(node1, "/cluster", "logs", "since=-30min", "lines=50", check=True).stdout
    assert hosts(own) == {"node1"} and (" pacemaker" in own or " corosync" in own), own[-2000:]
    theirs = sanctl(node1, "/cluster", "logs", "node=node2", "since=-30min", "lines=50")
    assert theirs.returncode == 0, theirs.stderr
    assert hosts(theirs.stdout) == {"node2"}, theirs.stdout[-2000:]
    future = sanctl(node1, "/cluster", "logs", "since=2099-01-01", check=True).stdout
    assert hosts(future) == set(), future
    bad = sanctl(node1, "/cluster", "logs", "since=last tuesday")
    assert bad.returncode != 0 and "since" in bad.stderr


def test_fencing_self_test_gates_the_storage_resources(lab):
    node1 = lab.node("node1")
    node1.run(["/usr/sbin/cibadmin", "--create", "--scope", "resources", "--xml-text", DUMMY], check=True)
    time.sleep(15)
    assert where(node1) == [], "a san- resource ran before fencing was tested"
    before = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "fencing NOT tested on node1, node2" in before, before
    dump = sanctl(node1, "/cluster", "fencing", "dump", check=True).stdout
    assert "Timeout (msgwait)  : 30" in dump, dump
    slots = sanctl(node1, "/cluster", "fencing", "list", check=True).stdout
    assert "node1 clear" in slots and "node2 clear" in slots, slots
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "fencing", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    record("fencing self-test", time.monotonic() - started)
    assert "PASS can fence node2" in result.stdout and "PASS sbd on node2 answers" in result.stdout, result.stdout
    assert "Fencing self-test passed." in result.stdout
    lab.wait_until(lambda: len(where(node1)) == 1, 120, "san-dummy started once fencing was proven", 2)
    assert "fencing tested on node1, node2" in sanctl(node1, "/cluster", "status", check=True).stdout


def test_standby_online_move_clear(lab):
    node1 = lab.node("node1")
    here = where(node1)[0]
    other = "node2" if here == "node1" else "node1"
    assert sanctl(node1, "/cluster", "standby", here).returncode == 0
    wait_where(lab, node1, [other])
    assert "standby" in sanctl(node1, "/cluster", "status", check=True).stdout
    assert sanctl(node1, "/cluster", "online", here).returncode == 0
    time.sleep(10)
    assert where(node1) == [other]  # stickiness: no move back by itself
    assert sanctl(node1, "/cluster", "move", "san-dummy", here).returncode == 0
    wait_where(lab, node1, [here])
    assert "cli-prefer-san-dummy" in node1.sh("cibadmin --query --scope constraints").stdout
    assert sanctl(node1, "/cluster", "clear", "san-dummy").returncode == 0
    assert "cli-prefer-san-dummy" not in node1.sh("cibadmin --query --scope constraints").stdout
    time.sleep(5)
    assert where(node1) == [here]
    bad = sanctl(node1, "/cluster", "standby", "node9")
    assert bad.returncode != 0 and "node: " in bad.stderr, bad.stderr


def test_maintenance_mode_leaves_resources_alone_until_it_is_off(lab):
    node1 = lab.node("node1")
    here = where(node1)
    assert sanctl(node1, "/cluster", "maintenance", "on").returncode == 0
    assert sanctl(node1, "/cluster", "stop", "san-dummy").returncode == 0
    time.sleep(15)
    assert where(node1) == here  # unmanaged: the stop waits
    rsc = mon(node1).find(".//resource[@id='san-dummy']")
    assert rsc.get("managed") == "false", ET.tostring(rsc)
    assert sanctl(node1, "/cluster", "maintenance", "off").returncode == 0
    wait_where(lab, node1, [])
    assert sanctl(node1, "/cluster", "start", "san-dummy").returncode == 0
    wait_where(lab, node1, here)


def test_a_failure_shows_with_its_fail_count_and_cleanup_clears_it(lab):
    node1 = lab.node("node1")
    here = where(node1)[0]
    node1.sh(f"crm_resource --fail --resource san-dummy --node {here}")
    lab.wait_until(lambda: "failed" in sanctl(node1, "/cluster", "status").stdout, 120, "the failure in status", 3)
    status = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "of san-dummy on" in status and "fail count" in status, status
    assert sanctl(node1, "/cluster", "cleanup", "san-dummy").returncode == 0
    lab.wait_until(lambda: "failed" not in sanctl(node1, "/cluster", "status").stdout, 120, "no failure", 3)
    wait_where(lab, node1, [here])


def sections(node) -> dict[str, str]:
    return {s: node.sh(f"cibadmin --query --scope {s}").stdout for s in ("resources", "constraints", "nodes",
                                                                        "rsc_defaults")}


def test_backup_wipe_restore_gives_back_the_same_configuration(lab):
    node1 = lab.node("node1")
    sanctl(node1, "/volumes", "create", "keep1", "16M", "kind=fileio", check=True)
    assert sanctl(node1, "/cluster", "backup", "/root/cluster.json").returncode == 0
    assert node1.sh("stat -c %a /root/cluster.json").stdout.strip() == "600"
    wanted, listing = sections(node1), sanctl(node1, "ls", check=True).stdout
    sanctl(node1, "/volumes", "delete", "keep1", check=True)
    node1.sh("cibadmin --erase --force")
    assert "san-dummy" not in node1.sh("cibadmin --query --scope resources").stdout
    bad = sanctl(node1, "/cluster", "restore", "/root/nope.json")
    assert bad.returncode != 0 and "file" in bad.stderr
    result = sanctl(node1, "/cluster", "restore", "/root/cluster.json")
    assert result.returncode == 0, result.stderr
    got = sections(node1)
    strip = lambda text: re.sub(r'\s+', " ", text).strip()  # noqa: E731
    assert {k: strip(v) for k, v in got.items()} == {k: strip(v) for k, v in wanted.items()}
    generation = lambda text: re.sub(r"\[generation \d+\]", "", text)  # noqa: E731 - each change counts one up
    assert generation(sanctl(node1, "ls", check=True).stdout) == generation(listing)
    assert "keep1" in listing
    lab.wait_until(lambda: len(where(node1)) == 1, 180, "san-dummy running again", 3)
    lab.wait_until(lambda: where(node1, "fence-sbd") != [], 180, "fence-sbd running again", 3)


def test_fence_node2_then_it_rejoins(lab):
    node1 = lab.node("node1")
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "fence", "node2")
    assert result.returncode == 0, result.stderr
    record("fence node2: command to confirmed", time.monotonic() - started)
    lab.wait_until(lambda: not lab.node("node2").alive(), 120, "node2 reset (qemu ends: -no-reboot)")
    assert fenced_ok(node1, "node2")
    assert "fencing: node2 reboot" in sanctl(node1, "/cluster", "status", check=True).stdout
    rejoin(lab, "node2", node1)


def test_killed_corosync_gets_node2_fenced_within_the_derived_timeout(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    node1.sh("stonith_admin --cleanup --history node2")
    assert not fenced_ok(node1, "node2")
    node2.sh("pkill -9 -x corosync", check=False)
    started = time.monotonic()
    seconds = lab.wait_until(lambda: fenced_ok(node1, "node2"), 300, "node2 fenced", 1)
    record("corosync killed on node2 to fencing confirmed", seconds)
    assert seconds < TIMEOUTS["bound_s"], (seconds, TIMEOUTS)
    lab.wait_until(lambda: not node2.alive(), 120, "node2 reset")
    record("corosync killed on node2 to node2 reset", time.monotonic() - started)
    rejoin(lab, "node2", node1)


def test_cutting_the_cluster_link_leaves_exactly_one_node_serving(lab):
    node1 = lab.node("node1")
    serving = where(node1)[0]
    idle = "node2" if serving == "node1" else "node1"
    lab.node(idle).sh(f"stonith_admin --cleanup --history {idle}", check=False)
    lab.cut("node2", "cluster")
    started = time.monotonic()
    lab.wait_until(lambda: not lab.node(idle).alive(), 300, f"{idle} fenced after the split")
    record("link cut to the idle node reset", time.monotonic() - started)
    survivor = lab.node(serving)
    assert survivor.alive()
    lab.wait_until(lambda: fenced_ok(survivor, idle), 120, f"{idle} fencing confirmed on {serving}", 2)
    assert where(survivor) == [serving]
    lab.restore("node2", "cluster")
    rejoin(lab, idle, survivor)


def test_hard_power_off_to_fencing_confirmed(lab):
    node1 = lab.node("node1")
    node1.sh("stonith_admin --cleanup --history node2")
    lab.node("node2").kill()
    seconds = lab.wait_until(lambda: fenced_ok(node1, "node2"), 300, "node2 fenced after its power-off", 1)
    record("node2 powered off to fencing confirmed", seconds)
    assert seconds < TIMEOUTS["bound_s"]
    lab.wait_until(lambda: len(where(node1)) == 1, 120, "san-dummy running on node1", 2)
    assert where(node1) == ["node1"]


def test_a_dead_node_is_removed_then_the_last_node_leaves(lab):
    node1 = lab.node("node1")
    assert not lab.node("node2").alive()
    refused = sanctl(node1, "/cluster", "remove", "node1")
    assert refused.returncode != 0 and "itself" in refused.stderr
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "remove", "node2")
    assert result.returncode == 0, result.stderr
    record("remove node2 (node1's stack restarts)", time.monotonic() - started)
    assert "node2" not in node1.sh("cat /etc/corosync/corosync.conf").stdout
    lab.wait_until(lambda: "1/1 nodes online, quorate" in sanctl(node1, "/cluster", "status").stdout, 300,
                   "node1 alone and quorate", 3)
    lab.wait_until(lambda: where(node1) == ["node1"], 180, "san-dummy on node1", 3)
    result = sanctl(node1, "/cluster", "leave")
    assert result.returncode == 0, result.stderr
    assert "last node" in result.stdout
    assert "No such file" in untouched(node1) and "No cluster" in sanctl(node1, "/cluster", "status").stdout
    assert node1.sh("systemctl is-enabled corosync pacemaker sbd", check=False).stdout.split() == ["disabled"] * 3
    assert "single node, no cluster" in sanctl(node1, "ls", check=True).stdout
