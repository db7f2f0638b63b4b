from dataclasses import replace

from sanappliance.lio import plan as P
from sanappliance.lio.render import render
from sanappliance.lio.state import NO_CHAP, LioState
from sanappliance.model.config import Acl, Chap, Config, Lun, MappedLun, Target, Tpg

from .fakes import apply_lio
from .test_model import INIT1, TARGET, sample


def kinds(actions):
    return [type(a).__name__ for a in actions]


def test_render_sample():
    state = render(sample())
    assert set(state.storage) == {"block/v1", "fileio/v2", "rd_mcp/r1"}
    assert state.storage["block/v1"].dev == "/dev/san-p1/v1"
    assert state.storage["fileio/v2"].dev == "/var/lib/sanappliance/fileio/v2.img"
    assert state.storage["fileio/v2"].attributes["emulate_tpu"] == 0  # the admin's override
    assert state.storage["block/v1"].attributes["emulate_tpu"] == 1  # the appliance default
    assert "emulate_tpu" not in state.storage["rd_mcp/r1"].attributes  # rd_mcp cannot UNMAP
    tpg = state.targets[TARGET].tpgs[1]
    assert tpg.luns == {0: "block/v1", 1: "fileio/v2"}
    assert tpg.portals == (("0.0.0.0", 3260),)
    assert tpg.attributes["authentication"] == 1 and tpg.parameters["AuthMethod"] == "CHAP"
    assert tpg.attributes["login_timeout"] == 10 and tpg.attributes["generate_node_acls"] == 0
    assert tpg.acls["iqn.1994-05.com.redhat:client2"].tag == "g1"


def test_from_empty_builds_bottom_up_and_enables_last():
    actions = P.plan(LioState(), render(sample()))
    names = kinds(actions)
    assert not any(n.startswith("Delete") for n in names)
    assert names.index("CreateTarget") > max(i for i, n in enumerate(names) if n == "CreateStorage")
    assert names[-1] == "SetTpgEnabled"
    assert names.count("CreateLun") == 2 and names.count("CreateAcl") == 2 and names.count("CreateMappedLun") == 3


def test_converged_state_plans_nothing():
    desired = render(sample())
    assert P.plan(desired, desired) == []


def test_one_more_lun_touches_only_that_lun():
    config = sample()
    tpg = config.targets[0].tpgs[0]
    more = replace(config, targets=(Target(TARGET, (replace(tpg, luns=tpg.luns + (Lun(2, "r1"),)),)),))
    actions = P.plan(render(config), render(more))
    assert actions == [P.CreateLun(TARGET, 1, 2, "rd_mcp/r1")]


def test_changed_backstore_is_recreated_and_its_luns_and_mappings_rebuilt():
    config = sample()
    bigger = replace(config, volumes=tuple(replace(v, size=v.size * 2) if v.name == "v2" else v
                                           for v in config.volumes))
    actions = P.plan(render(config), render(bigger))
    names = kinds(actions)
    # the mapped LUNs pointing at it first (rtslib's LUN.delete would look for them in every ACL), then the LUN
    assert names[:4] == ["DeleteMappedLun", "DeleteMappedLun", "DeleteLun", "DeleteStorage"], names
    assert {(a.wwn, a.mapped_lun) for a in actions[:2]} == {(INIT1, 1), ("iqn.1994-05.com.redhat:client2", 0)}
    assert P.CreateStorage in map(type, actions) and P.CreateLun(TARGET, 1, 1, "fileio/v2") in actions
    remaps = [a for a in actions if isinstance(a, P.CreateMappedLun)]
    assert {(a.wwn, a.mapped.mapped_lun) for a in remaps} == {(INIT1, 1), ("iqn.1994-05.com.redhat:client2", 0)}
    assert "DeleteTarget" not in names


def test_removed_target_is_one_action():
    config = sample()
    empty = replace(config, targets=())
    assert P.plan(render(config), render(empty)) == [P.DeleteTarget(TARGET)]


def test_acl_changes():
    config = sample()
    tpg = config.targets[0].tpgs[0]
    acl = tpg.acls[0]
    new_acl = replace(acl, mapped_luns=(MappedLun(0, 1),), chap=Chap("user1", "another-secret-9"))
    changed = replace(config, targets=(Target(TARGET, (replace(tpg, acls=(new_acl,)),)),))
    actions = P.plan(render(config), render(changed))
    assert P.DeleteMappedLun(TARGET, 1, INIT1, 0) in actions
    assert P.DeleteMappedLun(TARGET, 1, INIT1, 1) in actions
    assert P.CreateMappedLun(TARGET, 1, INIT1, render(changed).targets[TARGET].tpgs[1].acls[INIT1].mapped[0]) \
        in actions
    auth = [a for a in actions if isinstance(a, P.SetAclAuth)]
    assert len(auth) == 1 and "another-secret-9" not in auth[0].describe()


def test_interrupted_apply_converges():
    """Applying any prefix of a plan, then planning again, yields the rest (no duplicate creates)."""
    desired = render(sample())
    full = P.plan(LioState(), desired)
    partial = apply_lio(LioState(), full[:7])
    rest = P.plan(partial, desired)
    assert apply_lio(partial, rest) == apply_lio(LioState(), full)


def test_discovery_auth():
    config = sample()
    with_auth = replace(config, discovery=replace(config.discovery, chap=Chap("disc", "discovery-secret")))
    actions = P.plan(render(config), render(with_auth))
    assert actions == [P.SetDiscoveryAuth(("disc", "discovery-secret", "", ""))]
    assert "discovery-secret" not in actions[0].describe()
    assert P.plan(render(with_auth), render(config)) == [P.SetDiscoveryAuth(NO_CHAP)]


def test_every_action_describes_itself():
    config = sample()
    for action in P.plan(LioState(), render(config)) + P.plan(render(config), LioState()):
        text = action.describe()
        assert text and "secret-secret" not in text


def test_acl_without_chap_when_tpg_has_none():
    config = Config(pools=sample().pools, volumes=sample().volumes, targets=(Target(TARGET, (Tpg(luns=(Lun(0, "r1"),),
                                                                            acls=(Acl(INIT1),)),)),))
    tpg = render(config).targets[TARGET].tpgs[1]
    assert tpg.attributes["authentication"] == 0 and tpg.parameters["AuthMethod"] == "CHAP,None"
    assert not [a for a in P.plan(LioState(), render(config)) if isinstance(a, P.SetAclAuth)]


def test_demo_mode_keeps_dynamic_acls_cached_as_the_kernel_does():
    config = sample()
    tpg = replace(config.targets[0].tpgs[0], attributes={"generate_node_acls": 1})
    rendered = render(replace(config, targets=(Target(TARGET, (tpg,)),)))
    assert rendered.targets[TARGET].tpgs[1].attributes["cache_dynamic_acls"] == 1


def test_each_new_lun_is_followed_by_the_mapped_luns_that_point_to_it():
    """rtslib finds a mapped LUN's LUN by going through the TPG's LUNs, newest first: right after its LUN, the
    look-up is one step (all LUNs first, it was half the TPG per mapped LUN: quadratic at 256 LUNs)."""
    luns = tuple(Lun(i, "v1") for i in range(4))
    acls = tuple(Acl(f"iqn.1994-05.com.example:h{h}", mapped_luns=tuple(MappedLun(i, i) for i in range(4)))
                 for h in range(2))
    cfg = replace(sample(), targets=(Target(TARGET, (Tpg(luns=luns, acls=acls),)),))
    actions = P.plan(LioState(), render(cfg))
    lun_steps = [a for a in actions if isinstance(a, P.CreateLun | P.CreateMappedLun)]
    assert [(type(a).__name__, a.lun if isinstance(a, P.CreateLun) else a.mapped.tpg_lun) for a in lun_steps] == [
        (kind, i) for i in range(4) for kind in ("CreateLun", "CreateMappedLun", "CreateMappedLun")]
    assert max(actions.index(a) for a in actions if isinstance(a, P.CreateAcl)) < actions.index(lun_steps[0])
    assert apply_lio(LioState(), actions) == render(cfg)  # and it makes what was asked
    grown = replace(cfg, targets=(Target(TARGET, (Tpg(luns=(*luns, Lun(4, "v1")), acls=tuple(
        replace(a, mapped_luns=(*a.mapped_luns, MappedLun(4, 4), MappedLun(5, 0))) for a in acls)),)),))
    again = P.plan(render(cfg), render(grown))  # a reload: the new LUN, then its maps, then the maps to old LUNs
    assert kinds(again) == ["CreateLun", "CreateMappedLun", "CreateMappedLun", "CreateMappedLun", "CreateMappedLun"]
    assert [a.mapped.tpg_lun for a in again[1:]] == [4, 4, 0, 0]
