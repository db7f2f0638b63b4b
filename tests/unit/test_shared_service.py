"""Creating and deleting a shared-disk pool from one node (stand-ins for each node's multipath, lvm.conf and shared
VG, the other node's API and the CIB: those of the replicated pools' tests; the real components are in the VM
tests): everything checked first, nothing touched on a refusal, every node prepared before the lock managers and
the VG, one commit; delete: the pool's group stopped and waited for (refused while it runs), the VG removed under
its lock, one commit, every node's maps dropped (a node that does not answer named, not an error)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.apply.cluster_store import SETTLE_TIMEOUT, ClusteredStore
from sanappliance.apply.store import ConfigStore
from sanappliance.cluster import sanconfig
from sanappliance.drbd import shared_cib
from sanappliance.errors import CONFLICT, IN_USE, INVALID, NOT_FOUND, SanError
from sanappliance.model.config import FloatingIp, Pool, SharedDisk, Volume, VolumeKind
from sanappliance.multipath import render
from sanappliance.multipath.model import MultipathDisk, Path
from sanappliance.service import cluster_ops, shared
from sanappliance.service.env import Env
from tests.unit.cluster_samples import n_nodes
from tests.unit.shared_samples import ALIAS1, ALIAS2, WWID1, WWID2

from . import test_replicated_service as replicated_tests
from .fakes import FakeSystem

D1 = replicated_tests.D1
DEFAULT_ALIAS = "san-mp-" + WWID1[-12:]
UNSEEN = "3600140500000000000000000deadbeef"


def crm_status(lockd_on: tuple[str, ...] = (), cib: str = "", stopped: frozenset[str] = frozenset(),
               stuck: frozenset[str] = frozenset()) -> str:
    """crm_mon's XML (--inactive) with the lvmlockd clone Started on `lockd_on` and every group of `cib`: its members
    Started on node1, those of the `stopped` groups Stopped (but those in `stuck`)."""
    lockd = "".join(f'<resource id="san-lvmlockd" resource_agent="ocf:heartbeat:lvmlockd" role="Started" '
                    f'failed="false"><node name="{n}" id="{i}"/></resource>' for i, n in enumerate(lockd_on, 1))
    clone = f'<clone id="{shared_cib.LVMLOCKD_CLONE}">{lockd}</clone>' if lockd_on else ""
    groups = ""
    for group in ET.fromstring(cib).iter("group") if cib else ():
        members = ""
        for member in group.findall("primitive"):
            ident = member.get("id")
            if group.get("id") in stopped and ident not in stuck:
                members += f'<resource id="{ident}" role="Stopped" failed="false"/>'
            else:
                members += (f'<resource id="{ident}" role="Started" failed="false"><node name="node1" id="1"/>'
                            "</resource>")
        groups += f'<group id="{group.get("id")}">{members}</group>'
    return f"<pacemaker-result><nodes/><resources>{clone}{groups}</resources></pacemaker-result>"


def stopped_groups(cib: str) -> list[str]:
    return [g.get("id") for g in ET.fromstring(cib).iter("group") if any(
        p.get("name") == "target-role" and p.get("value") == "Stopped" for p in g.findall("meta_attributes/nvpair"))]


def roles(cluster, group: str) -> tuple[str, ...]:
    """The roles crm_mon gives the group's members, each once."""
    return tuple(sorted({r.role for r in cluster_ops.status(cluster).resources if r.parent == group}))


class Multipath:
    """A node's apply.multipath.MultipathHost: the disks it sees (each over two paths, no map yet), what it is told."""

    def __init__(self, name, log, wwids=(WWID1, WWID2)):
        self.name, self.log, self.wwids = name, log, list(wwids)

    def disks(self):
        return tuple(MultipathDisk(w, (Path("sdb", "2:0:0:0"), Path("sdc", "3:0:0:0")), "", "LIO-ORG", "shelf1",
                                   "10G") for w in self.wwids)

    def write_conf(self, config):
        self.log.append((self.name, "multipath.conf", tuple(m.alias for m in render.maps_of(config))))
        return ["/etc/multipath.conf"]

    def reload(self, config, gone=()):
        self.log.append((self.name, "reload", tuple(gone)))
        return ["multipathd reconfigured"]

    def wait_maps(self, maps, timeout=60.0):
        self.log.append((self.name, "maps", tuple(m.alias for m in maps)))


class Files:
    """A node's lvm.conf writer (DrbdHost.write_files): which shared pools it was written for."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def write_files(self, config):
        self.log.append((self.name, "lvm.conf", tuple(p.name for p in config.pools if p.shared is not None)))
        return ["/etc/lvm/lvm.conf"]


class Vg:
    """A node's apply.shared_vg.SharedVgHost: records whether the lock managers were in the CIB when it acted and,
    on remove, the roles crm_mon gave the pool's group then; `fail` makes the next remove fail."""

    def __init__(self, name, log, cluster):
        self.name, self.log, self.cluster = name, log, cluster
        self.fail: SanError | None = None

    def create(self, pool):
        self.log.append((self.name, "vg create", pool.vg, shared_cib.LVMLOCKD_CLONE in self.cluster.cib))
        return [f"shared VG {pool.vg} made"]

    def remove(self, pool):
        self.log.append((self.name, "vg remove", pool.vg, shared_cib.LVMLOCKD_CLONE in self.cluster.cib,
                         roles(self.cluster, f"san-{pool.name}")))
        if self.fail is not None:
            exc, self.fail = self.fail, None
            raise exc
        return [f"VG {pool.vg} removed"]


class Cluster(replicated_tests.Cluster):
    """node1 of the replicated pools' two-node cluster (fencing tested, node2 through `call_peer`); lvmlockd starts
    on every node once its clone is in the CIB (unless `lockd_starts` is False). crm_mon shows the CIB's groups
    (unless `shown` is False), the members of a group whose target-role is Stopped stopped once `wait_idle` ran
    (but those in `stuck`); `wait_idle` answers `idle_problem` and counts in `waits`; with `peer_down` node2's API
    does not answer san_peer_shared_files."""

    def __init__(self, tmp_path, log, tested=True, lockd_on=(), peer_wwids=(WWID1, WWID2)):
        super().__init__(tmp_path, log, tested)
        self.lockd_on = tuple(lockd_on)
        self.lockd_starts, self.shown, self.stuck, self.idle_problem, self.peer_down = True, True, set(), "", False
        self.settled: frozenset[str] = frozenset()  # the groups whose stop Pacemaker carried out
        self.waits: list[float] = []
        self.peer_hosts = shared.SharedHosts(self, Multipath("node2", log, peer_wwids), Vg("node2", log, self),
                                             Files("node2", log), hostname="node2")

    def push_cib(self, text):
        super().push_cib(text)
        self.log.append(("cluster", "push", shared_cib.LVMLOCKD_CLONE in text, 'id="san-s1"' in text))
        for group in stopped_groups(text):
            self.log.append(("cluster", "target-role Stopped", group))
        if shared_cib.LVMLOCKD_CLONE in text and self.lockd_starts:
            self.lockd_on = ("node1", "node2")
        elif shared_cib.LVMLOCKD_CLONE not in text:
            self.lockd_on = ()

    def status_xml(self):
        stopped = self.settled & frozenset(stopped_groups(self.cib))
        return crm_status(self.lockd_on, self.cib if self.shown else "", stopped, frozenset(self.stuck))

    def wait_idle(self, timeout):
        self.waits.append(timeout)
        self.settled = frozenset(stopped_groups(self.cib))
        return self.idle_problem

    def call_peer(self, address, pinned, user, secret, method, params):
        self.log.append(("node2", "api", method))
        assert (address, user) == ("10.0.0.2", "cluster-peer")
        if method == "san_peer_shared_info":
            return shared.shared_info(self.peer_hosts, params["wwids"])
        if method == "san_peer_shared_prepare":
            return shared.prepare(self.peer_env, self.peer_hosts, params["pool"])
        if method == "san_peer_shared_files":
            if self.peer_down:
                raise SanError("cannot reach the peer's API: Connection refused", field="peer", value=address)
            return shared.sync_files(self.peer_env, self.peer_hosts, params["gone"])
        raise AssertionError(method)


@pytest.fixture
def log():
    return []


def node(tmp_path, log, cluster) -> tuple[Env, shared.SharedHosts]:
    env = Env(ClusteredStore(ConfigStore(tmp_path / "node1"), cluster, cache=tmp_path / "c1.json"), FakeSystem())
    return env, shared.SharedHosts(cluster, Multipath("node1", log), Vg("node1", log, cluster), Files("node1", log),
                                   hostname="node1")


@pytest.fixture
def node1(tmp_path, log):
    return node(tmp_path, log, Cluster(tmp_path, log))


def create(node1, refs=(WWID1,), name="s1", **kw):
    env, hosts = node1
    return shared.create(env, hosts, name, list(refs), **{"ips": ["10.0.3.110/24"], **kw})


def changes(log) -> list:
    """What the log holds besides the questions asked of node2's API."""
    return [entry for entry in log if entry[1:] != ("api", "san_peer_shared_info")]


def saved_pool(hosts, name="s1") -> Pool:
    return next(p for p in sanconfig.read(hosts.cluster.cib).pools if p.name == name)


# --- create ---------------------------------------------------------------------------------------------------------

def test_create_prepares_the_peer_then_here_then_the_lock_managers_then_the_vg_then_commits(node1, log):
    env, hosts = node1
    outcome = create(node1)
    assert log == [
        ("node2", "api", "san_peer_shared_info"),
        ("node2", "api", "san_peer_shared_prepare"),
        ("node2", "multipath.conf", (DEFAULT_ALIAS,)), ("node2", "lvm.conf", ("s1",)), ("node2", "reload", ()),
        ("node2", "maps", (DEFAULT_ALIAS,)),
        ("node1", "multipath.conf", (DEFAULT_ALIAS,)), ("node1", "lvm.conf", ("s1",)), ("node1", "reload", ()),
        ("node1", "maps", (DEFAULT_ALIAS,)),
        ("cluster", "push", True, False),  # the lock managers alone
        ("node1", "vg create", "san-s1", True),
        ("cluster", "push", True, True),  # the pool's commit: its chain, the clones kept
    ]
    pool = saved_pool(hosts)
    assert pool.shared.disks == (SharedDisk(WWID1, DEFAULT_ALIAS),) and DEFAULT_ALIAS == ALIAS1
    assert pool.floating_ips == (FloatingIp("10.0.3.110/24"),) and pool.disks == ()
    assert [p.name for p in env.store.load().pools] == ["s1"] and not outcome.dry_run
    assert outcome.plan[0] == "node2: files: /etc/multipath.conf, /etc/lvm/lvm.conf"
    assert "node1: lock managers (dlm, lvmlockd) running" in outcome.plan
    assert "node1: shared VG san-s1 made" in outcome.plan
    assert shared_cib.pools_in_cib(ET.fromstring(hosts.cluster.cib).find("configuration")) == {"s1"}


def test_the_admin_s_alias_and_a_disk_named_by_its_map(node1, log):
    env, hosts = node1
    create(node1, refs=(WWID1, WWID2), aliases=["", ALIAS2])
    assert saved_pool(hosts).shared.disks == (SharedDisk(WWID1, DEFAULT_ALIAS), SharedDisk(WWID2, ALIAS2))
    assert ("node2", "maps", (DEFAULT_ALIAS, ALIAS2)) in log


def test_running_lock_managers_are_not_pushed_again(tmp_path, log):
    cluster = Cluster(tmp_path, log, lockd_on=("node1", "node2"))
    outcome = create(node(tmp_path, log, cluster))
    assert [entry for entry in log if entry[0] == "cluster"] == [("cluster", "push", True, True)]
    assert ("node1", "vg create", "san-s1", False) in log  # nothing pushed before the VG: they ran already
    assert not any("lock managers" in line for line in outcome.plan) and cluster.pushes == 1


def test_lvmlockd_running_elsewhere_only_is_not_enough(tmp_path, log):
    cluster = Cluster(tmp_path, log, lockd_on=("node2",))
    create(node(tmp_path, log, cluster))
    assert [entry for entry in log if entry[0] == "cluster"] == [("cluster", "push", True, False),
                                                                 ("cluster", "push", True, True)]


def test_lock_managers_that_do_not_start_stop_the_create(tmp_path, log):
    cluster = Cluster(tmp_path, log)
    cluster.lockd_starts = False
    _, hosts = node(tmp_path, log, cluster)
    with pytest.raises(SanError) as err:
        shared._start_lock_managers(hosts, "node1", timeout=0)
    assert (err.value.field, err.value.value) == ("cluster", shared_cib.LVMLOCKD_CLONE)
    assert "node1" in err.value.message and cluster.pushes == 1


def test_an_interrupted_create_is_finished_by_running_it_again(tmp_path, log):
    cluster = Cluster(tmp_path, log, lockd_on=("node1", "node2"))
    node1 = node(tmp_path, log, cluster)
    cluster.fail_next_push = SanError("crm_verify refused the new CIB", field="cib")
    with pytest.raises(SanError) as err:
        create(node1)
    assert err.value.field == "cib" and sanconfig.read(cluster.cib) is None
    assert ("node1", "vg create", "san-s1", False) in log
    log.clear()
    create(node1)
    assert [p.name for p in sanconfig.read(cluster.cib).pools] == ["s1"]
    assert ("node1", "vg create", "san-s1", False) in log and cluster.pushes == 1


@pytest.mark.parametrize("name, refs, kw, field, kind", [
    ("s 1", (WWID1,), {}, "name", INVALID),
    ("s1", (), {}, "disks", INVALID),
    ("s1", (UNSEEN,), {}, "disks[0]", NOT_FOUND),
    ("s1", (WWID1, UNSEEN), {}, "disks[1]", NOT_FOUND),
    ("s1", ("/dev/sdb",), {}, "disks[0]", INVALID),
    ("s1", (WWID1, WWID1), {}, "disks[1]", INVALID),
    ("s1", (WWID1,), {"aliases": ["a1", "a2"]}, "aliases", INVALID),
    ("s1", (WWID1,), {"aliases": ["dm-3"]}, f"pools[s1].shared.disks[{WWID1}].alias", None),
    ("s1", (WWID1,), {"ips": ["10.0.3.110"]}, "ip[0]", None),
], ids=["bad-name", "no-disks", "unseen-disk", "second-unseen", "kernel-name", "named-twice", "too-many-aliases",
        "kernel-like-alias", "address-without-prefix"])
def test_bad_input_is_refused_before_any_change(node1, log, name, refs, kw, field, kind):
    env, hosts = node1
    before = hosts.cluster.cib
    with pytest.raises(SanError) as err:
        create(node1, refs, name, **kw)
    assert err.value.field == field, err.value
    if kind is not None:
        assert err.value.kind == kind
    assert changes(log) == [] and hosts.cluster.cib == before and env.store.load().pools == ()


def test_a_peer_that_does_not_see_the_disk_refuses_it(tmp_path, log):
    cluster = Cluster(tmp_path, log, peer_wwids=(WWID2,))
    env, hosts = node(tmp_path, log, cluster)
    before = cluster.cib
    with pytest.raises(SanError) as err:
        create((env, hosts), refs=(WWID1, WWID2))
    assert (err.value.field, err.value.value, err.value.kind) == ("disks", [WWID1], NOT_FOUND)
    assert "node2" in err.value.message
    assert log == [("node2", "api", "san_peer_shared_info")] and cluster.cib == before


def test_no_cluster_or_a_cluster_of_one_is_refused(tmp_path, log):
    cluster = Cluster(tmp_path, log)
    env, hosts = node(tmp_path, log, cluster)
    cluster.spec = None
    with pytest.raises(SanError) as err:
        create((env, hosts))
    assert (err.value.field, err.value.kind) == ("cluster", NOT_FOUND)
    cluster.spec = replace(n_nodes(1), nodes=tuple(replace(n, name="node1") for n in n_nodes(1).nodes))
    with pytest.raises(SanError) as err:
        create((env, hosts))
    assert (err.value.field, err.value.value) == ("cluster", 1)
    assert log == [] and cluster.pushes == 0


def test_untested_fencing_is_refused(tmp_path, log):
    cluster = Cluster(tmp_path, log, tested=False)
    before = cluster.cib
    with pytest.raises(SanError) as err:
        create(node(tmp_path, log, cluster))
    assert err.value.field == "cluster.fencing" and "node1" in err.value.value
    assert log == [] and cluster.cib == before


def test_a_pool_name_or_a_disk_taken_already_is_refused(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    cib = hosts.cluster.cib
    with pytest.raises(SanError) as err:
        create(node1, refs=(WWID2,))
    assert (err.value.field, err.value.value, err.value.kind) == ("name", "s1", CONFLICT)
    with pytest.raises(SanError) as err:
        create(node1, name="s2", ips=[])
    assert err.value.field == f"pools[s2].shared.disks[{WWID1}].wwid" and "s1" in err.value.message
    assert changes(log) == [] and hosts.cluster.cib == cib


def test_a_dry_run_only_says_what_it_would_do(node1, log):
    env, hosts = node1
    before = hosts.cluster.cib
    outcome = shared.create(replace(env, dry_run=True), hosts, "s1", [WWID1])
    assert outcome.dry_run and outcome.plan == (
        f"node2: multipath.conf and lvm.conf, maps {DEFAULT_ALIAS}",
        f"node1: multipath.conf and lvm.conf, maps {DEFAULT_ALIAS}",
        "cluster: lock managers (dlm, lvmlockd) on every node",
        f"node1: shared VG san-s1 on /dev/mapper/{DEFAULT_ALIAS}",
        "cluster: create shared pool s1",
    )
    assert changes(log) == [] and hosts.cluster.cib == before and sanconfig.read(before) is None


# --- the other nodes' side ------------------------------------------------------------------------------------------

def test_shared_info_names_the_disks_this_node_does_not_see(node1):
    _, hosts = node1
    assert shared.shared_info(hosts, [WWID1, UNSEEN]) == {"node": "node1", "missing": [UNSEEN]}


def test_prepare_refuses_an_unseen_disk_or_a_different_pool_of_that_name(node1, log):
    env, hosts = node1
    pool = Pool("s1", (), shared=shared.SharedStorage((SharedDisk(UNSEEN, "u1"),)))
    with pytest.raises(SanError) as err:
        shared.prepare(env, hosts, shared.pool_json(pool))
    assert (err.value.field, err.value.value) == ("shared.disks", [UNSEEN])
    create(node1)
    log.clear()
    other = Pool("s1", (), shared=shared.SharedStorage((SharedDisk(WWID2, ALIAS2),)))
    with pytest.raises(SanError) as err:
        shared.prepare(env, hosts, shared.pool_json(other))
    assert (err.value.field, err.value.kind) == ("name", CONFLICT)
    with pytest.raises(SanError) as err:
        shared.prepare(env, hosts, shared.pool_json(Pool("l1", (D1,))))
    assert err.value.field == "pool"
    assert log == []
    assert shared.prepare(env, hosts, shared.pool_json(saved_pool(hosts)))[0].startswith("files:")  # the same: ok


# --- delete ---------------------------------------------------------------------------------------------------------

STOPPED_HERE = [
    ("cluster", "push", True, True),  # the group's target-role, the chain and the lock managers kept
    ("cluster", "target-role Stopped", "san-s1"),
    ("node1", "vg remove", "san-s1", True, ("Stopped",)),  # under its lock: lvmlockd still there, the group stopped
]
FILES_EVERYWHERE = [
    ("cluster", "push", False, False),  # the commit, of the last shared pool: its chain and the lock managers leave
    ("node1", "multipath.conf", ()), ("node1", "lvm.conf", ()), ("node1", "reload", (DEFAULT_ALIAS,)),
    ("node1", "maps", ()),
    ("node2", "api", "san_peer_shared_files"),
    ("node2", "multipath.conf", ()), ("node2", "lvm.conf", ()), ("node2", "reload", (DEFAULT_ALIAS,)),
    ("node2", "maps", ()),
]


def deleted(env, hosts) -> bool:
    """The pool gone from this node's configuration and the CIB, the lock managers with it."""
    return (env.store.load().pools == () and sanconfig.read(hosts.cluster.cib).pools == ()
            and shared_cib.DLM_CLONE not in hosts.cluster.cib and shared_cib.LVMLOCKD_CLONE not in hosts.cluster.cib)


def test_delete_stops_the_group_then_removes_the_vg_then_commits_then_every_node_drops_the_maps(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.cluster.waits.clear()
    outcome = shared.delete(env, hosts, "s1")
    assert log == STOPPED_HERE + FILES_EVERYWHERE
    assert hosts.cluster.waits == [shared.STOP_TIMEOUT, SETTLE_TIMEOUT]  # the stop waited for, then the commit's settle
    assert deleted(env, hosts) and not outcome.dry_run
    assert outcome.plan == (
        "cluster: san-s1 stopped on every node",
        "here: VG san-s1 removed",
        "here: files: /etc/multipath.conf, /etc/lvm/lvm.conf",
        "here: multipathd reconfigured",
        "node2: files: /etc/multipath.conf, /etc/lvm/lvm.conf",
        "node2: multipathd reconfigured",
        "cluster: delete shared pool s1",
    )
    with pytest.raises(SanError) as err:
        shared.delete(env, hosts, "s1")
    assert (err.value.field, err.value.kind) == ("pool", NOT_FOUND)


@pytest.mark.parametrize("stuck, problem, named", [
    ({"san-s1-volumes"}, "", "san-s1-volumes"),
    (set(), "Timed out after 600 s", "Timed out after 600 s"),
], ids=["a-member-still-started", "pacemaker-not-idle"])
def test_a_group_that_does_not_stop_keeps_the_pool(node1, log, stuck, problem, named):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.cluster.stuck, hosts.cluster.idle_problem = stuck, problem
    with pytest.raises(SanError) as err:
        shared.delete(env, hosts, "s1")
    assert (err.value.field, err.value.value, err.value.kind) == ("name", "s1", CONFLICT)
    assert named in err.value.message and "the pool is kept and started again" in err.value.message
    # only the stop, then the start again: no VG removed, no commit, no files
    assert log == [*STOPPED_HERE[:2], ("cluster", "push", True, True)]
    assert "target-role" not in hosts.cluster.cib.split('id="san-s1"', 1)[1].split("</group>", 1)[0]
    assert [p.name for p in env.store.load().pools] == ["s1"] and saved_pool(hosts).name == "s1"
    assert shared_cib.LVMLOCKD_CLONE in hosts.cluster.cib and 'id="san-s1"' in hosts.cluster.cib


def test_a_delete_that_failed_before_the_commit_is_finished_by_running_it_again(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.vg.fail = SanError("vgremove failed", field="name", value="s1")
    with pytest.raises(SanError) as err:
        shared.delete(env, hosts, "s1")
    assert err.value.message == "vgremove failed" and log == STOPPED_HERE
    assert [p.name for p in env.store.load().pools] == ["s1"] and saved_pool(hosts).name == "s1"
    log.clear()
    shared.delete(env, hosts, "s1")
    assert log == STOPPED_HERE + FILES_EVERYWHERE  # the stopped group stopped again: nothing else changes
    assert deleted(env, hosts)


def test_a_group_crm_mon_does_not_show_is_not_stopped_again(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.cluster.waits.clear()
    hosts.cluster.shown = False
    pushes = hosts.cluster.pushes
    outcome = shared.delete(env, hosts, "s1")
    assert log == [("node1", "vg remove", "san-s1", True, ())] + FILES_EVERYWHERE  # no target-role push
    # the commit's push and settle only
    assert hosts.cluster.pushes == pushes + 1 and hosts.cluster.waits == [SETTLE_TIMEOUT]
    assert deleted(env, hosts) and not any("stopped" in line for line in outcome.plan)


def test_a_peer_that_does_not_answer_gets_a_line_not_an_error(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.cluster.peer_down = True
    outcome = shared.delete(env, hosts, "s1")
    assert log == STOPPED_HERE + FILES_EVERYWHERE[:6]  # this node's files, node2 asked
    assert deleted(env, hosts)
    assert outcome.plan[-2:] == (
        "node2: not reached (peer: cannot reach the peer's API: Connection refused): run `sanctl /pools sync_shared` "
        "there",
        "cluster: delete shared pool s1",
    )


def test_a_pool_with_volumes_is_not_deleted(node1, log):
    env, hosts = node1
    create(node1)
    clustered = sanconfig.read(hosts.cluster.cib)
    hosts.cluster.other_node_changes(replace(clustered, volumes=(Volume("vol1", VolumeKind.LV, 2**30, pool="s1"),)))
    log.clear()
    cib = hosts.cluster.cib
    with pytest.raises(SanError) as err:
        shared.delete(env, hosts, "s1")
    assert (err.value.field, err.value.value, err.value.kind) == ("name", "s1", IN_USE)
    assert "vol1" in err.value.message and log == [] and hosts.cluster.cib == cib


def test_a_local_pool_is_not_deleted_as_a_shared_one(node1, log):
    env, hosts = node1
    cfg = env.store.load()
    env.store.save(replace(cfg, pools=(Pool("l1", (D1,)),)), cfg.generation)
    with pytest.raises(SanError) as err:
        shared.delete(env, hosts, "l1")
    assert (err.value.field, err.value.value, err.value.kind) == ("name", "l1", INVALID)
    assert [p.name for p in env.store.load().pools] == ["l1"] and log == []


def test_a_dry_run_delete_changes_nothing(node1, log):
    env, hosts = node1
    create(node1)
    log.clear()
    hosts.cluster.waits.clear()
    cib = hosts.cluster.cib
    outcome = shared.delete(replace(env, dry_run=True), hosts, "s1")
    assert outcome.dry_run and outcome.plan == (
        "cluster: stop san-s1's group on every node",
        "here: remove VG san-s1 under its lock",
        "cluster: delete shared pool s1",
        f"every node: drop the maps {DEFAULT_ALIAS}",
    )
    assert log == [] and hosts.cluster.cib == cib and hosts.cluster.waits == []
    assert [p.name for p in env.store.load().pools] == ["s1"]


def test_one_of_two_shared_pools_deleted_keeps_the_lock_managers(node1, log):
    env, hosts = node1
    create(node1)
    create(node1, refs=(WWID2,), name="s2", aliases=[ALIAS2], ips=[])
    log.clear()
    shared.delete(env, hosts, "s1")
    assert shared_cib.LVMLOCKD_CLONE in hosts.cluster.cib and [p.name for p in env.store.load().pools] == ["s2"]
    assert ("node1", "multipath.conf", (ALIAS2,)) in log and ("node2", "reload", (DEFAULT_ALIAS,)) in log


@pytest.mark.parametrize("fake, real, methods", [
    (Multipath, "sanappliance.apply.multipath:MultipathHost", ("disks", "write_conf", "reload", "wait_maps")),
    (Vg, "sanappliance.apply.shared_vg:SharedVgHost", ("create", "remove")),
    (Files, "sanappliance.apply.drbd:DrbdHost", ("write_files",)),
])
def test_the_stand_ins_take_what_the_real_hosts_take(fake, real, methods):
    """The service calls the stand-ins as it calls the live hosts: same methods, same parameters."""
    import importlib
    import inspect

    module, name = real.split(":")
    live = getattr(importlib.import_module(module), name)
    for method in methods:
        assert list(inspect.signature(getattr(fake, method)).parameters) == list(
            inspect.signature(getattr(live, method)).parameters), method
