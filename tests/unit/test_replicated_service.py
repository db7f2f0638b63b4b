"""Creating and deleting a replicated pool from one node (stand-ins for both nodes' DRBD, the other node's API and
the CIB; the real components are in tests/vm/cluster/test_5_replicated_pool.py): everything checked first, nothing
touched on a refusal, the steps in order, a second run finishes an interrupted one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.apply.cluster_store import ClusteredStore
from sanappliance.apply.store import ConfigStore
from sanappliance.cluster import cib as ccib
from sanappliance.cluster import sanconfig
from sanappliance.drbd.status import Device
from sanappliance.errors import SanError
from sanappliance.service import replicated
from sanappliance.service.env import Env
from tests.unit.cluster_samples import two_nodes

from .fakes import FakeSystem
from .test_clustered_config import CibHost

D1, D2 = "/dev/disk/by-id/virtio-data1", "/dev/disk/by-id/virtio-data2"


class Drbd:
    def __init__(self, name, log):
        self.name, self.log, self.planned = name, log, []
        self.role, self.disk, self.vg = "Unconfigured", "DUnknown", False

    def write_files(self, config):
        self.log.append((self.name, "files", tuple(p.name for p in config.pools if p.replication)))
        return ["/etc/drbd.d/san-p1.res"]

    def modprobe(self):
        self.log.append((self.name, "modprobe"))

    def create_md(self, pool):
        self.log.append((self.name, "create-md"))
        return True

    def up(self, pool):
        self.log.append((self.name, "up"))
        if self.role == "Unconfigured":  # up once; then adjust keeps the role and the data
            self.role, self.disk = "Secondary", "Inconsistent"
            return "up"
        return "adjust"

    def device(self, pool):
        return Device(pool.replication.minor, "Connected", self.role, "Secondary", self.disk)

    def primary(self, pool, *, force=False):
        self.log.append((self.name, "primary-force" if force else "primary"))
        self.role, self.disk = "Primary", "UpToDate"
        return True

    def secondary(self, pool):
        self.log.append((self.name, "secondary"))
        self.role = "Secondary"
        return True

    def create_vg(self, pool):
        assert self.role == "Primary"
        self.log.append((self.name, "vg"))
        self.vg = True

    def deactivate_vg(self, pool):
        self.log.append((self.name, "deactivate"))


class Cluster(CibHost):
    """This node (node1) of a two-node cluster whose fencing is tested; node2 answers through `call_peer`."""

    def __init__(self, tmp_path, log, tested=True):
        spec = two_nodes()
        spec = replace(spec, nodes=tuple(replace(n, api_pin="ab" * 32) for n in spec.nodes))
        super().__init__(spec)
        root = ET.fromstring(self.cib)
        nodes = root.find("configuration/nodes")
        for i, name in enumerate(("node1", "node2"), 1):
            node = ET.SubElement(nodes, "node", {"id": str(i), "uname": name})
            if tested:
                ET.SubElement(ET.SubElement(node, "instance_attributes", {"id": f"n{i}"}), "nvpair",
                              {"id": f"n{i}-t", "name": ccib.FENCING_TESTED, "value": "1"})
        self.cib = ET.tostring(root, encoding="unicode")
        self.log, self.peer_problem = log, ""
        self.peer_env = Env(ClusteredStore(ConfigStore(tmp_path / "node2"), self, cache=tmp_path / "c2.json"),
                            FakeSystem())
        self.peer = replicated.Hosts(self, Drbd("node2", log), hostname="node2")

    def authkey(self):
        return b"k" * 256

    def call_peer(self, address, pinned, user, secret, method, params):
        self.log.append(("node2", "api", method))
        if method == "san_peer_replica_info":
            return {"node": "node2", "address": "", "disk_problem": self.peer_problem}
        if method == "san_peer_replica_prepare":
            return replicated.prepare(self.peer_env, self.peer, params["pool"])
        if method == "san_peer_replica_files":
            return replicated.sync_files(self.peer_env, self.peer)
        raise AssertionError(method)


@pytest.fixture
def log():
    return []


@pytest.fixture
def node1(tmp_path, log):
    host = Cluster(tmp_path, log)
    env = Env(ClusteredStore(ConfigStore(tmp_path / "node1"), host, cache=tmp_path / "c1.json"), FakeSystem())
    return env, replicated.Hosts(host, Drbd("node1", log), hostname="node1")


def create(node, **kw):
    env, hosts = node
    args = dict(ips=["10.0.3.100/24"], address="10.0.2.11", peer_address="10.0.2.12")
    return replicated.create(env, hosts, "p1", D1, D2, **{**args, **kw})


def test_create_prepares_both_nodes_then_syncs_from_here_then_hands_it_to_pacemaker(node1, log):
    env, hosts = node1
    outcome = create(node1)
    assert [entry[2] for entry in log if entry[1] == "api"] == ["san_peer_replica_info", "san_peer_replica_prepare"]
    order = [(who, what) for who, what, *_ in log if what != "api"]
    assert order[:4] == [("node2", "files"), ("node2", "modprobe"), ("node2", "create-md"), ("node2", "up")]
    assert order[4:] == [("node1", "files"), ("node1", "modprobe"), ("node1", "create-md"), ("node1", "up"),
                         ("node1", "primary-force"), ("node1", "vg"), ("node1", "deactivate"),
                         ("node1", "secondary")]
    pool = sanconfig.read(hosts.cluster.cib).pools[0]
    assert pool.name == "p1" and [(n.name, n.disk, n.address) for n in pool.replication.nodes] == [
        ("node1", D1, "10.0.2.11"), ("node2", D2, "10.0.2.12")]
    assert pool.replication.minor == 0 and pool.replication.port == 7789
    assert "san-p1-drbd-clone" in hosts.cluster.cib and [p.name for p in env.store.load().pools] == ["p1"]
    assert any("initial sync" in line for line in outcome.plan)


def test_bad_input_or_an_unready_cluster_changes_nothing(node1, log, tmp_path):
    env, hosts = node1
    before = hosts.cluster.cib
    for kw, field_name in ((dict(ips=["10.0.3.100"]), "ip[0]"), (dict(ips=["10.0.3.100/24", "nonsense/24"]),
                                                                 "pools[p1].floating_ips[1].address"),
                           (dict(address="10.0.2.12"), "pools[p1].replication.nodes")):
        with pytest.raises(SanError) as err:
            create(node1, **kw)
        assert err.value.field == field_name, (kw, err.value)
    with pytest.raises(SanError) as err:
        replicated.create(env, hosts, "p 1", D1, D2)
    assert err.value.field == "name"
    hosts.cluster.peer_problem = "disk in use (mounted)"
    with pytest.raises(SanError) as err:
        create(node1)
    assert err.value.field == "peer_disk" and "node2" in err.value.message
    untested = Cluster(tmp_path, log, tested=False)
    with pytest.raises(SanError) as err:
        replicated.create(env, replicated.Hosts(untested, hosts.drbd, hostname="node1"), "p1", D1, D2,
                          address="10.0.2.11", peer_address="10.0.2.12")
    assert err.value.field == "cluster.fencing"
    assert all(what in ("api",) for _, what, *_ in log) and hosts.cluster.cib == before


def test_a_dry_run_only_says_what_it_would_do(node1, log):
    env, hosts = node1
    outcome = create((replace(env, dry_run=True), hosts))
    assert outcome.dry_run and any("initial sync" in line for line in outcome.plan)
    assert [what for _, what, *_ in log] == ["api"] and sanconfig.read(hosts.cluster.cib) is None


def test_an_interrupted_create_is_finished_by_running_it_again(node1, log):
    env, hosts = node1
    hosts.cluster.fail_next_push = SanError("crm_verify refused the new CIB", field="cib")
    with pytest.raises(SanError):
        create(node1)
    assert sanconfig.read(hosts.cluster.cib) is None and hosts.drbd.vg
    log.clear()
    create(node1)
    assert ("node1", "primary") in log and ("node1", "primary-force") not in log  # UpToDate now: no new sync
    assert [p.name for p in sanconfig.read(hosts.cluster.cib).pools] == ["p1"]


def test_delete_takes_the_chain_out_then_both_nodes_down(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    replicated.delete(env, hosts, "p1")
    assert sanconfig.read(hosts.cluster.cib).pools == () and "san-p1-drbd-clone" not in hosts.cluster.cib
    assert ("node1", "files", ()) in log and ("node2", "files", ()) in log
    with pytest.raises(SanError) as err:
        replicated.delete(env, hosts, "p1")
    assert err.value.field == "pool"


def test_a_pool_with_volumes_is_not_deleted(node1):
    env, hosts = node1
    create(node1)
    from sanappliance.service import storage

    storage.create_volume(env, "vol1", "64M", pool="p1")
    with pytest.raises(SanError) as err:
        replicated.delete(env, hosts, "p1")
    assert err.value.field == "name" and "vol1" in err.value.message
    assert [v.name for v in sanconfig.read(hosts.cluster.cib).volumes] == ["vol1"]
