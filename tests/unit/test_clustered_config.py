"""The clustered configuration: the split into local and clustered parts, san-config in the CIB, the store that
keeps the clustered part there (over an in-memory CIB; the real Pacemaker is in tests/vm/cluster), and the local
plan that leaves the clustered targets to Pacemaker."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.apply.cluster_store import ClusteredStore
from sanappliance.apply.store import ConfigStore
from sanappliance.cluster import cib as ccib
from sanappliance.cluster import sanconfig
from sanappliance.errors import CONFLICT, SanError
from sanappliance.lio.render import render
from sanappliance.model.config import Config, Lun, Pool, Portal, Target, Tpg, Volume, VolumeKind
from sanappliance.model.partition import merge, partition
from sanappliance.model.validate import check
from sanappliance.service import storage
from sanappliance.service.commit import change, clustered_changes, converge
from sanappliance.service.env import Env
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import IQN, LOCAL, config

from .fakes import FakeSystem

EMPTY_STATUS = "<pacemaker-result><nodes/><resources/></pacemaker-result>"
LOCAL_IQN = "iqn.2026-11.org.example:local"


def with_local_target(cfg: Config) -> Config:
    return replace(cfg, targets=cfg.targets + (Target(LOCAL_IQN, (Tpg(luns=(Lun(0, "scratch"),)),)),
                                               Target("iqn.2026-11.org.example:empty", (Tpg(),))))


def test_partition_puts_replicated_pools_their_volumes_and_targets_in_the_cluster():
    cfg = replace(with_local_target(config()), generation=7)
    split = partition(cfg, clustered_generation=3)
    assert [p.name for p in split.clustered.pools] == ["p1"] and split.clustered.generation == 3
    assert [v.name for v in split.clustered.volumes] == ["vol1", "vol2"]
    assert [t.iqn for t in split.clustered.targets] == [IQN]
    assert [p.name for p in split.local.pools] == ["local"] and split.local.generation == 7
    assert [t.iqn for t in split.local.targets] == [LOCAL_IQN, "iqn.2026-11.org.example:empty"]
    again = merge(split.local, split.clustered)
    assert {p.name for p in again.pools} == {p.name for p in cfg.pools} and len(again.targets) == 3
    assert partition(again, 3) == split


def test_a_single_node_config_is_all_local():
    cfg = Config(pools=(Pool("local", (LOCAL,)),), volumes=(Volume("v", VolumeKind.LV, 2**30, pool="local"),))
    split = partition(cfg)
    assert split.local == cfg and split.clustered == Config()
    assert merge(cfg, None) == cfg


def test_san_config_round_trip_through_the_cib():
    cib = ccib.render_cib(two_nodes())
    assert sanconfig.read(cib) is None
    clustered = replace(partition(config()).clustered, generation=4)
    text = sanconfig.set_config(cib, clustered)
    assert sanconfig.read(text) == clustered
    twice = sanconfig.set_config(text, replace(clustered, generation=5))
    sets = [s for s in ET.fromstring(twice).iter("cluster_property_set") if s.get("id") == sanconfig.SET_ID]
    assert len(sets) == 1 and sanconfig.read(twice).generation == 5


def test_the_push_holds_san_config_and_the_chain_with_a_new_epoch():
    cib = ccib.render_cib(two_nodes())
    clustered = partition(config()).clustered
    root = ET.fromstring(sanconfig.with_clustered(cib, two_nodes(), clustered))
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {"san-p1-drbd-clone", "san-p1", "san-p1-vg", "san-appliance"} <= ids
    assert int(root.get("epoch")) == int(ET.fromstring(cib).get("epoch")) + 1


def test_an_unreadable_san_config_names_the_field():
    cib = sanconfig.set_config(ccib.render_cib(two_nodes()), Config())
    broken = cib.replace('value="{', 'value="{{')
    with pytest.raises(SanError) as err:
        sanconfig.read(broken)
    assert "san-config" in err.value.field


def test_clustered_changes_in_words():
    before = partition(config()).clustered
    grown = replace(before, volumes=(replace(before.volumes[0], size=2**31), before.volumes[1]))
    lines = clustered_changes(before, grown)
    assert lines == ("cluster: resize volume vol1 (on the node where the pool is Promoted)",)
    assert clustered_changes(Config(), before)[0] == "cluster: create replicated pool p1"
    assert clustered_changes(before, before) == ()


# --- the store over an in-memory CIB ---------------------------------------------------------------------------------

class CibHost:
    """A cluster host whose CIB is a string: pushes need the next epoch, as cibadmin --replace does."""

    def __init__(self, spec=None):
        self.spec = spec
        self.cib = ccib.render_cib(two_nodes())
        self.pushes = 0
        self.down = False
        self.fail_next_push: SanError | None = None
        self.status = EMPTY_STATUS

    def read_spec(self):
        return self.spec

    def query_cib(self, timeout=300.0):
        if self.down:
            raise SanError("Pacemaker's CIB did not answer", field="cib")
        return self.cib

    def push_cib(self, text):
        if self.fail_next_push is not None:
            exc, self.fail_next_push = self.fail_next_push, None
            raise exc
        if int(ET.fromstring(text).get("epoch")) <= int(ET.fromstring(self.cib).get("epoch")):
            raise SanError("older", field="cib", kind=CONFLICT)
        self.cib, self.pushes = text, self.pushes + 1

    def status_xml(self):
        return self.status

    def wait_idle(self, timeout):
        return ""

    def other_node_changes(self, clustered: Config) -> None:
        current = sanconfig.read(self.cib) or Config()
        text = sanconfig.set_config(self.cib, replace(clustered, generation=current.generation + 1))
        root = ET.fromstring(text)
        root.set("epoch", str(int(root.get("epoch")) + 1))
        self.cib = ET.tostring(root, encoding="unicode")


@pytest.fixture
def host():
    return CibHost(two_nodes())


@pytest.fixture
def store(tmp_path, host):
    return ClusteredStore(ConfigStore(tmp_path / "etc"), host, cache=tmp_path / "etc" / "cache.json")


def test_save_keeps_the_clustered_part_in_the_cib_and_the_rest_in_the_file(store, host, tmp_path):
    cfg = with_local_target(config())
    store.load()
    saved = store.save(cfg, 0)
    assert host.pushes == 1 and saved.generation == 1
    in_cib = sanconfig.read(host.cib)
    assert [p.name for p in in_cib.pools] == ["p1"] and in_cib.generation == 1
    local = ConfigStore(tmp_path / "etc").load()
    assert [p.name for p in local.pools] == ["local"] and {t.iqn for t in local.targets} == {
        LOCAL_IQN, "iqn.2026-11.org.example:empty"}
    loaded = store.load()
    assert partition(loaded) == partition(saved) and store.loaded_generation == 1
    assert oct((tmp_path / "etc" / "cache.json").stat().st_mode & 0o777) == "0o600"


def test_a_local_change_pushes_nothing(store, host):
    cfg = with_local_target(config())
    store.load()
    store.save(cfg, 0)
    store.load()
    store.save(replace(cfg, pools=(Pool("local", (LOCAL, "/dev/disk/by-id/virtio-x")), cfg.pools[1])), 1)
    assert host.pushes == 1


def test_a_clustered_change_from_the_other_node_meanwhile_is_refused(store, host):
    cfg = config()
    store.load()
    store.save(cfg, 0)
    loaded = store.load()
    host.other_node_changes(partition(replace(cfg, volumes=cfg.volumes[:1], targets=())).clustered)
    with pytest.raises(SanError) as err:
        store.save(replace(loaded, volumes=loaded.volumes[:1] + (Volume("vol9", VolumeKind.LV, 2**30, pool="p1"),)
                           + loaded.volumes[1:]), loaded.generation)
    assert err.value.kind == CONFLICT and err.value.field == "generation"


def test_a_cib_that_moved_on_for_another_reason_is_read_again(store, host):
    store.load()
    store.save(config(), 0)
    loaded = store.load()
    host.fail_next_push = SanError("older", field="cib", kind=CONFLICT)  # e.g. crm-fence-peer's constraint landed
    store.save(replace(loaded, volumes=tuple(v for v in loaded.volumes if v.name != "vol2"), targets=()),
               loaded.generation)
    assert host.pushes == 2 and [v.name for v in sanconfig.read(host.cib).volumes] == ["vol1"]


def test_without_the_cib_listings_use_the_last_copy_and_changes_wait(store, host):
    store.load()
    store.save(config(), 0)
    host.down = True
    loaded = store.load()
    assert [p.name for p in loaded.pools] == ["local", "p1"]
    with pytest.raises(SanError) as err:
        store.save(replace(loaded, volumes=loaded.volumes[:1], targets=()), loaded.generation)
    assert err.value.field == "cib"


def test_a_node_alone_keeps_everything_in_its_file_and_refuses_replicated_pools(tmp_path):
    host = CibHost(spec=None)
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), host, cache=tmp_path / "cache.json")
    local = Config(pools=(Pool("local", (LOCAL,)),))
    assert store.save(local, 0).generation == 1 and store.load() == replace(local, generation=1)
    with pytest.raises(SanError) as err:
        store.save(config(), 1)
    assert err.value.field == "pools" and host.pushes == 0 and store.load().generation == 1


def test_a_new_failure_of_the_pool_after_the_push_is_the_change_s_error(store, host):
    store.load()
    store.save(config(), 0)
    host.status = ('<pacemaker-result><nodes/><resources/><failures><failure op_key="san-p1-vol_start_0" '
                   'node="node1" exitstatus="error" exitreason="" exitcode="1" call="9" status="Error" '
                   'task="start" interval="0"/></failures></pacemaker-result>')
    with pytest.raises(SanError) as err:
        store.settle()
    assert "san-p1" in err.value.value and "node1" in err.value.message
    store.settle()  # settled once: nothing pushed since


def test_the_local_plan_leaves_the_clustered_targets_alone(tmp_path):
    cfg = with_local_target(replace(config(), volumes=tuple(replace(v, wwn=f"00000000-0000-4000-8000-00000000000{i}")
                                                            for i, v in enumerate(config().volumes))))
    clustered = render(partition(cfg).clustered)
    system = FakeSystem(lio=clustered)  # this node serves p1 now: the target agent made its LIO objects
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), CibHost(two_nodes()), cache=tmp_path / "c.json")
    store.load()
    store.save(cfg, 0)
    env = Env(store, system)
    plan = converge(env).plan
    assert not any(IQN in step for step in plan) and any(LOCAL_IQN in step for step in plan)
    assert IQN in system.lio.targets and LOCAL_IQN in system.lio.targets
    out = storage.create_volume(Env(store, system, dry_run=True), "vol5", "64M", pool="p1")
    assert out.plan == ("cluster: create volume vol5 (on the node where the pool is Promoted)",)


def test_a_local_target_beside_a_clustered_pool_listens_on_the_node_s_addresses_not_on_all(tmp_path):
    cfg = with_local_target(replace(config(), volumes=tuple(replace(v, wwn=f"00000000-0000-4000-8000-00000000000{i}")
                                                            for i, v in enumerate(config().volumes))))
    system = FakeSystem(lio=render(partition(cfg).clustered), node_addresses=("10.0.3.11", "10.0.3.100"))
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), CibHost(two_nodes()), cache=tmp_path / "c.json")
    store.load()
    store.save(cfg, 0)
    converge(Env(store, system))
    local = system.lio.targets[LOCAL_IQN].tpgs[1].portals
    assert set(local) == {("10.0.3.11", 3260)}, local  # p1's floating 10.0.3.100 is the clustered target's
    assert store.load().target(LOCAL_IQN).tpgs[0].portals[0].address == "0.0.0.0"  # the model keeps the wildcard
    assert converge(Env(store, system)).plan == ()  # and it stays converged
    system.node_addresses = ("10.0.3.12",)  # a new address: the next converge moves the portal
    assert converge(Env(store, system)).plan and set(system.lio.targets[LOCAL_IQN].tpgs[1].portals) == {
        ("10.0.3.12", 3260)}


def test_joining_a_cluster_moves_the_local_targets_off_0_0_0_0_and_leaving_it_back(tmp_path):
    from sanappliance.service.system import relisten

    cfg = with_local_target(replace(config(), volumes=tuple(replace(v, wwn=f"00000000-0000-4000-8000-00000000000{i}")
                                                            for i, v in enumerate(config().volumes))))
    alone = partition(cfg).local  # the local target, no clustered pool
    system = FakeSystem()  # a node alone
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), CibHost(two_nodes()), cache=tmp_path / "c.json")
    env = Env(store, system)
    store.load()
    change(env, lambda c: replace(alone, generation=c.generation))
    assert set(system.lio.targets[LOCAL_IQN].tpgs[1].portals) == {("0.0.0.0", 3260)}
    system.node_addresses = ("10.0.3.11",)  # joined
    assert relisten(env) and set(system.lio.targets[LOCAL_IQN].tpgs[1].portals) == {("10.0.3.11", 3260)}
    plan = change(env, lambda c: replace(cfg, generation=c.generation)).plan  # the first clustered pool
    assert not any(LOCAL_IQN in step for step in plan), plan  # nothing to move: no moment without a portal
    system.node_addresses = ("10.0.3.11", "10.0.3.100")  # the pool's floating address up here: the target's
    assert relisten(env) == ()
    system.node_addresses = None  # left
    assert relisten(env) and set(system.lio.targets[LOCAL_IQN].tpgs[1].portals) == {("0.0.0.0", 3260)}


def test_a_refused_push_puts_back_what_was_taken_down_for_it(tmp_path):
    class Host(CibHost):
        refuse = False

        def push_cib(self, text):
            if self.refuse:
                raise SanError("the CIB refused it", field="cib")
            super().push_cib(text)

    cfg = replace(config(), targets=(Target(IQN, (Tpg(),)),),
                  volumes=tuple(replace(v, wwn=f"00000000-0000-4000-8000-00000000000{i}")
                                for i, v in enumerate(config().volumes)))
    host = Host(two_nodes())
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), host, cache=tmp_path / "c.json")
    env = Env(store, FakeSystem(node_addresses=("10.0.3.11",)))
    store.load()
    change(env, lambda c: cfg)  # the target without a LUN: local, made here
    before = env.system.lio
    assert IQN in before.targets
    host.refuse = True
    with pytest.raises(SanError) as err:  # its first LUN hands it to the cluster: taken down here, the push fails
        change(env, lambda c: replace(c, targets=(Target(IQN, (Tpg(luns=(Lun(0, "vol1"),)),)),)))
    assert "refused" in err.value.message and env.system.lio == before


def test_a_local_target_on_a_pool_s_floating_address_is_refused():
    cfg = with_local_target(config())
    tpg = replace(cfg.target(LOCAL_IQN).tpgs[0], portals=(Portal("10.0.3.100"),))
    bad = replace(cfg, targets=tuple(replace(t, tpgs=(tpg,)) if t.iqn == LOCAL_IQN else t for t in cfg.targets))
    with pytest.raises(SanError) as err:
        check(bad)
    assert err.value.field == f"targets[{LOCAL_IQN}].tpg1.portals[0].address" and "p1" in err.value.message
    waiting = replace(bad, targets=tuple(replace(t, tpgs=(replace(tpg, luns=()),)) if t.iqn == LOCAL_IQN else t
                                         for t in bad.targets))
    check(waiting)  # no LUN yet: it may be made ready for p1 (its portals first, then its first LUN from p1)


def test_a_target_handed_to_the_cluster_leaves_this_node_before_the_push(tmp_path):
    events = []

    class System(FakeSystem):
        def run_lio(self, actions):
            events.extend(("lio", a.describe()) for a in actions)
            super().run_lio(actions)

    class Host(CibHost):
        def push_cib(self, text):
            super().push_cib(text)
            events.append(("push", "san-p1-target" in text))

        def wait_idle(self, timeout):
            events.append(("settle", ""))
            return ""

    cfg = replace(config(), targets=(Target(IQN, (Tpg(),)),),
                  volumes=tuple(replace(v, wwn=f"00000000-0000-4000-8000-00000000000{i}")
                                for i, v in enumerate(config().volumes)))
    store = ClusteredStore(ConfigStore(tmp_path / "etc"), Host(two_nodes()), cache=tmp_path / "c.json")
    env = Env(store, System())
    store.load()
    change(env, lambda c: cfg)  # the target without a LUN: made here, on this node
    assert IQN in env.system.lio.targets
    events.clear()
    change(env, lambda c: replace(c, targets=(Target(IQN, (Tpg(luns=(Lun(0, "vol1"),)),)),)))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "lio" and kinds.index("push") > 0 and kinds.index("settle") > kinds.index("push"), events
    assert events[kinds.index("push")] == ("push", True) and IQN not in env.system.lio.targets


def test_shared_pools_are_clustered_and_pushed_with_the_lock_managers():
    from tests.unit import shared_samples

    cfg = shared_samples.mixed()
    split = partition(cfg)
    assert [p.name for p in split.clustered.pools] == ["s1", "p1"] and [p.name for p in split.local.pools] == ["local"]
    assert {t.iqn for t in split.clustered.targets} == {shared_samples.SIQN, IQN}
    root = ET.fromstring(sanconfig.with_clustered(ccib.render_cib(two_nodes()), two_nodes(), split.clustered))
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {"san-dlm-clone", "san-lvmlockd-clone", "san-s1", "san-s1-vg", "san-s1-after-lvmlockd", "san-p1",
            "san-appliance"} <= ids
    assert sanconfig.read(ET.tostring(root, encoding="unicode")) == split.clustered
