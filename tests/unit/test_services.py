"""Service commands against stand-ins of the live system: validation first, nothing changed on error, plans that
converge. The real LIO and LVM run in tests/vm/test_storage_core.py."""

from dataclasses import replace

import pytest

from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.render import render
from sanappliance.model.config import Lun
from sanappliance.service import iscsi, storage
from sanappliance.service.commit import converge
from sanappliance.service.env import Env

from .fakes import FakeSystem, MemoryStore

DISK = "/dev/disk/by-id/virtio-data1"
T = "iqn.2026-11.org.sanappliance:t1"
I1 = "iqn.1994-05.com.redhat:client1"


@pytest.fixture
def env():
    return Env(MemoryStore(), FakeSystem())


def build(env):
    storage.create_pool(env, "p1", [DISK])
    storage.create_volume(env, "v1", "1G", pool="p1")
    storage.create_volume(env, "v2", "100M", kind="fileio")
    iscsi.create_target(env, T)
    iscsi.create_lun(env, T, "v1")
    iscsi.create_lun(env, T, "v2")
    iscsi.create_acl(env, T, I1, userid="user1", password="secret-secret-1")


def test_build_converges_to_the_desired_state(env):
    build(env)
    config = env.store.load()
    assert config.generation == 7
    assert env.system.lio == render(config) or P.plan(env.system.lio, render(config)) == []
    assert env.system.lvm.lvs == {("san-p1", "v1"): 2**30}
    tpg = config.targets[0].tpgs[0]
    assert [(m.mapped_lun, m.tpg_lun) for m in tpg.acls[0].mapped_luns] == [(0, 0), (1, 1)]
    assert converge(env).plan == ()


def test_sizes_are_rounded(env):
    storage.create_pool(env, "p1", [DISK])
    storage.create_volume(env, "v1", "10M", pool="p1")
    storage.create_volume(env, "f1", 1000, kind="fileio")
    sizes = {v.name: v.size for v in env.store.load().volumes}
    assert sizes == {"v1": 12 * 2**20, "f1": 1024}


def test_lun_numbers_and_auto_mapping(env):
    build(env)
    storage.create_volume(env, "v3", "4M", kind="ramdisk")
    iscsi.create_lun(env, T, "v3", lun=7)
    tpg = env.store.load().targets[0].tpgs[0]
    assert [x.lun for x in tpg.luns] == [0, 1, 7]
    assert (7, 7) in [(m.mapped_lun, m.tpg_lun) for m in tpg.acls[0].mapped_luns]


@pytest.mark.parametrize("bad, field", [
    (lambda e: iscsi.create_target(e, "iqn.bad name"), "iqn"),
    (lambda e: iscsi.create_target(e, T), "iqn"),
    (lambda e: iscsi.create_lun(e, T, "v1", lun=0), "lun"),
    (lambda e: iscsi.create_lun(e, T, "nope"), "volume"),
    (lambda e: storage.create_volume(e, "big", "100G", pool="p1"), "pools[p1].size"),
    (lambda e: storage.create_volume(e, "v1", "1G", pool="p1"), "name"),
    (lambda e: storage.create_volume(e, "x", "1Q", pool="p1"), "size"),
    (lambda e: storage.delete_volume(e, "v1"), "name"),
    (lambda e: storage.delete_pool(e, "p1"), "name"),
    (lambda e: storage.resize_volume(e, "v1", "10M"), "size"),
    (lambda e: storage.create_pool(e, "p2", [DISK]), "pools[p2].disks"),
    (lambda e: storage.create_pool(e, "p2", ["/dev/disk/by-id/virtio-none"]), "pools[p2].disks"),
    (lambda e: iscsi.create_acl(e, T, "iqn.1994-05.com.redhat:client9"), f"targets[{T}].tpg1.acls"),
    (lambda e: iscsi.create_acl(e, T, I1, userid="u", password="secret-secret-1"), "initiator"),
    (lambda e: iscsi.set_acl_auth(e, T, I1, "user1", "short"), f"targets[{T}].tpg1.acls[{I1}].chap.password"),
    (lambda e: iscsi.set_tpg_setting(e, T, "login_timeout", 100), "attribute.login_timeout"),
    (lambda e: iscsi.create_portal(e, T, "1.2.3.300"), "address"),
    (lambda e: iscsi.delete_target(e, "iqn.2026-11.org.sanappliance:nope"), "target"),
])
def test_bad_input_changes_nothing(env, bad, field):
    build(env)
    before = (env.store.load(), env.system.lio, env.system.lvm, env.store.saves)
    with pytest.raises(SanError) as err:
        bad(env)
    assert err.value.field == field
    assert (env.store.load(), env.system.lio, env.system.lvm, env.store.saves) == before
    assert "secret-secret" not in str(err.value)


def test_dry_run_plans_without_acting(env):
    build(env)
    dry = Env(env.store, env.system, dry_run=True)
    before = (env.store.load(), env.system.lio)
    outcome = iscsi.delete_target(dry, T)
    assert outcome.dry_run and outcome.plan == (f"delete target {T}",)
    assert (env.store.load(), env.system.lio) == before


def test_delete_everything_in_order(env):
    build(env)
    iscsi.delete_target(env, T)
    storage.delete_volume(env, "v1")
    storage.delete_volume(env, "v2")
    storage.delete_pool(env, "p1")
    assert env.system.lio.targets == {} and env.system.lio.storage == {}
    assert env.system.lvm.vgs == {} and env.system.lvm.lvs == {} and env.system.lvm.files == ()


def test_failure_while_acting_rolls_back(env):
    build(env)
    env.system.fail_on = P.CreateLun
    storage.create_volume(env, "v3", "8M", pool="p1")
    before_lio, before_config = env.system.lio, env.store.load()
    with pytest.raises(SanError):
        iscsi.create_lun(env, T, "v3")
    env.system.fail_on = None
    after = env.store.load()
    assert [x.lun for x in after.targets[0].tpgs[0].luns] == [0, 1]  # the previous state is the saved one again
    assert after.generation == before_config.generation + 2
    assert env.system.lio == before_lio


def test_interrupted_change_converges(env):
    build(env)
    # a crash after saving the intent and before acting: the next converge finishes the job
    config = env.store.load()
    tpg = config.targets[0].tpgs[0]
    storage.create_volume(env, "v3", "8M", kind="ramdisk")
    config = env.store.load()
    new_tpg = replace(tpg, luns=tpg.luns + (Lun(5, "v3"),))
    intent = replace(config, targets=(replace(config.targets[0], tpgs=(new_tpg,)),))
    env.store.save(intent, config.generation)
    assert converge(Env(env.store, env.system, dry_run=True)).plan == (f"create LUN 5 on {T} tpg1 for rd_mcp/v3",)
    converge(env)
    assert env.system.lio.targets[T].tpgs[1].luns[5] == "rd_mcp/v3"
    assert converge(env).plan == ()


def test_groups_render_as_tagged_acls(env):
    build(env)
    iscsi.create_group(env, T, "esx", ["iqn.1998-01.com.vmware:esx1", "iqn.1998-01.com.vmware:esx2"],
                       userid="esxuser", password="esx-secret-123")
    iscsi.edit_group(env, T, "esx", mapped_luns=[(0, 0), (1, 1, True)])
    acls = env.system.lio.targets[T].tpgs[1].acls
    assert acls["iqn.1998-01.com.vmware:esx2"].tag == "esx"
    assert [m.write_protect for m in acls["iqn.1998-01.com.vmware:esx1"].mapped] == [False, True]
    with pytest.raises(SanError):
        iscsi.create_acl(env, T, "iqn.1998-01.com.vmware:esx1")


def test_stale_generation_is_refused(env):
    build(env)
    config = env.store.load()
    with pytest.raises(SanError) as err:
        env.store.save(config, config.generation - 1)
    assert err.value.field == "generation"


def test_a_change_that_changes_nothing_keeps_the_generation(env):
    build(env)
    iscsi.set_tpg_setting(env, T, "login_timeout", 10)
    generation, saves = env.store.load().generation, env.store.saves
    iscsi.set_tpg_setting(env, T, "login_timeout", "10")
    assert (env.store.load().generation, env.store.saves) == (generation, saves)


def test_tpg_chap_for_demo_mode(env):
    storage.create_volume(env, "r1", "4M", kind="ramdisk")
    iscsi.create_target(env, T)
    iscsi.create_lun(env, T, "r1")
    iscsi.set_tpg_setting(env, T, "generate_node_acls", 1)
    iscsi.set_tpg_auth(env, T, "demo", "demo-secret-123")
    tpg = env.system.lio.targets[T].tpgs[1]
    assert tpg.chap[0] == "demo" and tpg.attributes["authentication"] == 1
    with pytest.raises(SanError) as err:  # an ACL without CHAP would be locked out
        iscsi.create_acl(env, T, I1)
    assert err.value.field == f"targets[{T}].tpg1.acls"
    outcome = iscsi.set_tpg_auth(env, T, "")
    assert outcome.plan[0] == f"set no TPG CHAP on {T} tpg1 (secrets not shown)"
    assert env.system.lio.targets[T].tpgs[1].attributes["authentication"] == 0


def test_a_command_reads_only_what_it_changes(env):
    build(env)
    iscsi.create_target(env, "iqn.2026-11.org.sanappliance:t2")
    storage.create_volume(env, "v3", "8M", kind="ramdisk")
    env.system.reads.clear()
    iscsi.create_lun(env, "iqn.2026-11.org.sanappliance:t2", "v3")
    (scope,) = env.system.reads[:1]
    assert scope.targets == {"iqn.2026-11.org.sanappliance:t2"} and scope.storage == frozenset()
    env.system.reads.clear()
    storage.create_volume(env, "v4", "8M", kind="ramdisk")
    assert env.system.reads[0].storage == {"rd_mcp/v4"} and env.system.reads[0].targets == frozenset()
    converge(env)
    assert env.system.reads[-1] is None  # converging looks at everything


def test_recreated_backstore_brings_its_targets_into_scope(env):
    build(env)
    env.system.reads.clear()
    config = env.store.load()
    bigger = replace(config, volumes=tuple(replace(v, size=v.size * 2) if v.name == "v2" else v
                                           for v in config.volumes))
    from sanappliance.service.commit import commit
    commit(env, config, bigger)
    assert env.system.reads[0].targets == {T} and env.system.reads[0].storage == {"fileio/v2"}
    assert P.plan(env.system.lio, render(env.store.load())) == []
