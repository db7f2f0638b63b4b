"""ocf:sanappliance:target's logic against the stand-in LIO of fakes.py: the cut of the config a target needs, the
CIB parameter, start/stop idempotent, monitor's three answers, reload-agent making only the difference,
validate-all's codes naming the field, and no secret on stderr whatever happens."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

import pytest

from sanappliance.agent import target as A
from sanappliance.agent.meta import ACTIONS
from sanappliance.drbd import cib
from sanappliance.errors import SanError
from sanappliance.lio import clustered as C
from sanappliance.lio import plan as P
from sanappliance.lio.state import LioState, StorageObject, Target
from sanappliance.lio.state import Tpg as LioTpg
from sanappliance.model.config import Acl, Chap, Config, Lun, MappedLun, Portal, Tpg, Volume, VolumeKind

from .drbd_samples import IQN, config, replicated_pool
from .fakes import FakeSystem

HOST1 = "iqn.1994-05.com.example:host1"
HOST2 = "iqn.1994-05.com.example:host2"
SECRET = "host1-secret-4242"
SECRET2 = "host2-secret-4343"
OTHER = "iqn.2026-11.org.example:other"


def whole(luns=(0, 1), acls=((HOST1, SECRET),)) -> Config:
    """drbd_samples' config: replicated p1 (vol1, vol2) and a local pool (scratch); the target on p1 with CHAP."""
    base = config()
    tpg = Tpg(luns=tuple(Lun(n, f"vol{n + 1}") for n in luns),
              acls=tuple(Acl(host, tuple(MappedLun(n, n) for n in luns), Chap(host.rsplit(":", 1)[1] + "u", secret))
                         for host, secret in acls))
    volumes = tuple(replace(v, wwn=str(uuid.uuid5(uuid.NAMESPACE_URL, v.name))) for v in base.volumes)
    return replace(base, generation=7, volumes=volumes, targets=(replace(base.targets[0], tpgs=(tpg,)),))


@dataclass
class FakeTarget(FakeSystem):
    """fakes.FakeSystem plus what the agent asks of the node beyond LIO."""

    absent: str = ""
    prepared: int = 0

    def prepare(self) -> None:
        self.prepared += 1

    def missing(self) -> str:
        return self.absent


def agent_env(cfg: Config | None = None, iqn: str = IQN, pool: str = "p1", text: str | None = None) -> dict:
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESKEY_iqn": iqn}
    if pool:
        env["OCF_RESKEY_pool"] = pool
    env["OCF_RESKEY_config"] = text if text is not None else C.config_param(cfg or whole(), IQN)
    return env


def run(system, action, cfg=None, **kw) -> tuple[int, str]:
    err = io.StringIO()
    code = A.main([action], agent_env(cfg, **kw), system, io.StringIO(), err)
    return code, err.getvalue()


class Recording(FakeTarget):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.batches: list[list[P.Action]] = []

    def run_lio(self, actions) -> None:
        self.batches.append(list(actions))
        super().run_lio(actions)


# --- the cut and the CIB parameter ---------------------------------------------------------------------------------

def test_target_config_holds_the_target_its_volumes_and_their_pool_only():
    cut = C.target_config(whole(), IQN)
    assert [t.iqn for t in cut.targets] == [IQN]
    assert [v.name for v in cut.volumes] == ["vol1", "vol2"]  # not the local pool's scratch
    assert [p.name for p in cut.pools] == ["p1"] and cut.pools[0] == replicated_pool()
    assert cut.generation == 0 and cut.discovery.chap is None


def test_a_wildcard_portal_becomes_the_pools_floating_addresses():
    """Two pools served by one node: a target on 0.0.0.0:3260 would take port 3260 of every address there, and LIO
    could not listen on the other pool's floating address (seen in the shared-pool VM test)."""
    from sanappliance.model.config import Portal

    cut = C.target_config(whole(), IQN)  # the sample target keeps Tpg's default portal 0.0.0.0:3260
    assert whole().targets[0].tpgs[0].portals == (Portal(),)
    assert cut.targets[0].tpgs[0].portals == (Portal("10.0.3.100"), Portal("10.0.4.100"))
    mixed = (Portal("10.0.3.100"), Portal("0.0.0.0", 3261), Portal("::"))
    assert C.pool_portals(mixed, (replicated_pool(),)) == (
        Portal("10.0.3.100"), Portal("10.0.3.100", 3261), Portal("10.0.4.100", 3261),
    )  # no IPv6 floating address: no [::], which would take IPv4's port 3260 as well
    assert C.pool_portals((Portal(),), ()) == (Portal(),)


def test_a_local_target_on_a_cluster_node_listens_on_the_node_s_own_addresses():
    tpg = Tpg(portals=(Portal(), Portal("::"), Portal("0.0.0.0", 3261), Portal("10.0.9.9")))
    local = Config(targets=(replace(whole().targets[0], tpgs=(tpg,)),))
    here = ("10.0.3.100/24", "10.0.3.11", "fd00:0::11/64", "10.0.3.11", "not-an-address")
    floating = C.floating_addresses(Config(pools=(replicated_pool(),)))
    assert floating == {"10.0.3.100", "10.0.4.100"}
    got = C.node_portals(local, here, floating).targets[0].tpgs[0].portals
    assert got == (Portal("10.0.3.11"), Portal("fd00::11"), Portal("10.0.3.11", 3261), Portal("10.0.9.9"))
    only_v4 = C.node_portals(local, ("10.0.3.11",), floating).targets[0].tpgs[0].portals
    assert only_v4 == (Portal("10.0.3.11"), Portal("10.0.3.11", 3261), Portal("10.0.9.9"))  # no [::] either


def test_the_parameter_is_one_line_of_json_that_parses_back():
    text = C.config_param(whole(), IQN)
    assert "\n" not in text and text.startswith("{")
    assert C.parse_param(text, IQN.upper()) == C.target_config(whole(), IQN)


def test_the_parameter_changes_only_with_the_targets_own_objects():
    base = C.config_param(whole(), IQN)
    other = replace(whole(), generation=99, volumes=(*whole().volumes, Volume("x", VolumeKind.FILEIO, 2**20)))
    assert C.config_param(other, IQN) == base
    assert C.config_param(whole(luns=(0,)), IQN) != base


def test_a_config_too_long_for_the_environment_is_refused():
    cfg = whole()
    many = tuple(replace(cfg.volumes[0], name=f"v{i}", wwn=str(uuid.uuid5(uuid.NAMESPACE_URL, str(i))))
                 for i in range(1200))
    tpg = Tpg(luns=tuple(Lun(i, v.name) for i, v in enumerate(many)))
    big = replace(cfg, volumes=many, targets=(replace(cfg.targets[0], tpgs=(tpg,)),))
    with pytest.raises(SanError) as err:
        C.config_param(big, IQN)
    assert err.value.field == f"targets[{IQN}]" and "Pacemaker" in err.value.message


def test_the_cib_primitive_carries_iqn_pool_and_config_and_a_reload_agent_op():
    cfg = whole()
    prim = cib.pool_group(cfg, cfg.pool("p1"))[-1]
    params = {p.get("name"): p.get("value") for p in prim.find("instance_attributes")}
    assert params == {"iqn": IQN, "pool": "p1", "config": C.config_param(cfg, IQN)}
    ops = {op.get("name"): op.get("timeout") for op in prim.iter("op")}
    assert ops == {"start": "120s", "stop": "120s", "monitor": "30s", "reload-agent": "120s"}
    assert ops == {n: t for n, t, _ in ACTIONS if n in ops}  # the CIB's timeouts are the agent's


@pytest.mark.parametrize("text, field", [("{nope", "config"), ("", "config"), ("[]", "config"),
                                         ('{"schema": 2, "targets": [{"iqn": "iqn.2026-11.org.example:x"}]}',
                                          "config.targets"),
                                         ('{"schema": 2, "targets": [{"iqn": 5}]}', "config.targets[0].iqn")])
def test_bad_parameters_name_the_field(text, field):
    with pytest.raises(SanError) as err:
        C.parse_param(text, IQN)
    assert err.value.field == field


# --- start, monitor, stop ------------------------------------------------------------------------------------------

def test_start_builds_the_whole_target_in_one_pass_and_monitor_says_running():
    system = Recording()
    code, err = run(system, "start")
    assert code == A.OCF_SUCCESS, err
    assert len(system.batches) == 1 and system.prepared == 1
    assert system.lio == C.desired(C.target_config(whole(), IQN))
    assert run(system, "monitor") == (A.OCF_SUCCESS, "")
    assert "started target" in err and SECRET not in err


def test_start_again_changes_nothing():
    system = Recording()
    run(system, "start")
    code, err = run(system, "start")
    assert code == A.OCF_SUCCESS and system.batches[-1] == [] and "0 change(s)" in err


def test_stop_takes_the_target_and_its_backstores_and_is_idempotent():
    system = Recording()
    run(system, "start")
    assert run(system, "stop")[0] == A.OCF_SUCCESS
    assert system.lio.targets == {} and system.lio.storage == {}
    assert run(system, "monitor") == (A.OCF_NOT_RUNNING, "")
    assert run(system, "stop")[0] == A.OCF_SUCCESS and len(system.batches) == 2  # nothing to do: no LIO call


def test_stop_needs_only_the_name():
    system = Recording()
    run(system, "start")
    assert run(system, "stop", text="{broken")[0] == A.OCF_SUCCESS
    assert system.lio.targets == {} and system.lio.storage == {}


def other_target(system: FakeSystem, key: str = "fileio/elsewhere") -> None:
    """Another target on the node (a local one, or another pool's) with a LUN on `key`, and discovery CHAP."""
    storage = dict(system.lio.storage)
    storage.setdefault(key, StorageObject(key.split("/")[1], key.split("/")[0], "/x.img", 2**20))
    targets = {**system.lio.targets, OTHER: Target(OTHER, {1: LioTpg(1, luns={0: key})})}
    system.lio = LioState(storage, targets, ("d", "discovery-secret-1", "", ""))


def test_other_targets_and_discovery_auth_are_left_alone():
    system = Recording()
    other_target(system)
    before = (system.lio.targets[OTHER], system.lio.storage["fileio/elsewhere"], system.lio.discovery)
    for action in ("start", "reload-agent", "monitor", "stop"):
        assert run(system, action)[0] == A.OCF_SUCCESS, action
    assert (system.lio.targets[OTHER], system.lio.storage["fileio/elsewhere"], system.lio.discovery) == before


def test_a_backstore_another_target_uses_stays_at_stop():
    system = Recording()
    run(system, "start")
    other_target(system, "block/vol1")
    assert run(system, "stop")[0] == A.OCF_SUCCESS
    assert set(system.lio.storage) == {"block/vol1"} and set(system.lio.targets) == {OTHER}


@pytest.mark.parametrize("breakage, reason", [
    (lambda s: replace(s, targets={IQN: Target(IQN, {1: replace(s.targets[IQN].tpgs[1], enabled=False)})}),
     "enable"),
    (lambda s: replace(s, targets={IQN: Target(IQN, {1: replace(s.targets[IQN].tpgs[1], luns={0: "block/vol1"})})}),
     "create LUN 1"),
    (lambda s: replace(s, targets={}), "backstores without their target: block/vol1, block/vol2"),
])
def test_monitor_reports_a_half_there_target_as_failed_and_names_what_differs(breakage, reason):
    system = Recording()
    run(system, "start")
    system.lio = breakage(system.lio)
    code, err = run(system, "monitor")
    assert code == A.OCF_ERR_GENERIC and reason in err and err.startswith("ocf-exit-reason:"), err
    assert run(system, "start")[0] == A.OCF_SUCCESS and run(system, "monitor")[0] == A.OCF_SUCCESS


def test_a_probe_with_bad_parameters_on_a_clean_node_finds_nothing():
    assert run(FakeTarget(), "monitor", text="{broken")[0] == A.OCF_NOT_RUNNING


# --- reload-agent: only the difference ------------------------------------------------------------------------------

def test_reload_adding_a_lun_only_adds_it_and_its_mapping():
    system = Recording()
    run(system, "start", whole(luns=(0,)))
    session_lun = system.lio.targets[IQN].tpgs[1]
    code, err = run(system, "reload-agent", whole(luns=(0, 1)))
    assert code == A.OCF_SUCCESS, err
    assert [type(a).__name__ for a in system.batches[-1]] == ["CreateStorage", "SetStorageAttributes", "CreateLun",
                                                              "CreateMappedLun"]
    tpg = system.lio.targets[IQN].tpgs[1]
    assert tpg.luns == {0: "block/vol1", 1: "block/vol2"} and tpg.enabled
    assert tpg.acls[HOST1].mapped[0] == session_lun.acls[HOST1].mapped[0]


def test_reload_removing_a_lun_removes_it_and_its_backstore_only():
    system = Recording()
    run(system, "start")
    assert run(system, "reload-agent", whole(luns=(0,)))[0] == A.OCF_SUCCESS
    assert system.batches[-1] == [P.DeleteMappedLun(IQN, 1, HOST1, 1), P.DeleteLun(IQN, 1, 1),
                                  P.DeleteStorage("block/vol2")]
    assert set(system.lio.storage) == {"block/vol1"}


def test_reload_adding_and_removing_an_acl_touches_only_that_initiator():
    system = Recording()
    run(system, "start")
    both = whole(acls=((HOST1, SECRET), (HOST2, SECRET2)))
    code, err = run(system, "reload-agent", both)
    assert code == A.OCF_SUCCESS and SECRET2 not in err
    assert {a.wwn for a in system.batches[-1]} == {HOST2}
    assert [type(a).__name__ for a in system.batches[-1]] == ["CreateAcl", "SetAclAuth", "CreateMappedLun",
                                                              "CreateMappedLun"]
    assert run(system, "reload-agent", whole())[0] == A.OCF_SUCCESS
    assert system.batches[-1] == [P.DeleteAcl(IQN, 1, HOST2)]


# --- validate-all ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, field", [
    ({"text": "{not json"}, "config: not valid JSON"),
    ({"iqn": "iqn.bad_name"}, "iqn: not an iSCSI qualified name"),
    ({"iqn": ""}, "iqn: required parameter missing"),
    ({"text": ""}, "config: required parameter missing"),
    ({"pool": "local"}, "pool: the target's volumes are on pool(s) p1"),
    ({"text": '{"schema": 2, "targets": [{"iqn": "' + IQN + '", "tpgs": [{"luns": [{"lun": 0, "volume": "gone"}]}]}]}'},
     f"config.targets[{IQN}].tpg1.lun0.volume: no such volume"),
    ({"text": C.config_param(whole(), IQN).replace('"wwn":"', '"wwn":"x').replace('"wwn":"x', '"wwn":"', 1)},
     "config.volumes[vol2].wwn: the unit serial is a UUID"),  # vol1's serial kept, vol2's broken
    ({"text": C.config_param(replace(whole(), volumes=tuple(replace(v, wwn="") for v in whole().volumes)), IQN)},
     "config.volumes[vol1].wwn: a clustered LUN needs its unit serial fixed"),
])
def test_validate_all_refuses_bad_parameters_naming_the_field(env, field):
    code, err = run(FakeTarget(), "validate-all", **env)
    assert code == A.OCF_ERR_CONFIGURED and f"ocf-exit-reason:{field}" in err, err


def test_validate_all_and_start_refuse_without_rtslib_or_configfs():
    system = FakeTarget(absent="rtslib-fb is not installed (python3-rtslib-fb)")
    for action in ("validate-all", "start", "reload-agent"):
        code, err = run(system, action)
        assert code == A.OCF_ERR_INSTALLED and "rtslib-fb" in err
    assert run(system, "monitor")[0] == A.OCF_NOT_RUNNING and run(system, "stop")[0] == A.OCF_SUCCESS


def test_a_good_config_validates():
    assert run(FakeTarget(), "validate-all") == (A.OCF_SUCCESS, "")


# --- the contract's small print --------------------------------------------------------------------------------------

def test_meta_data_is_ocf_1_1_with_the_reloadable_config():
    out = io.StringIO()
    assert A.main(["meta-data"], {}, FakeTarget(), out) == A.OCF_SUCCESS
    root = ET.fromstring(out.getvalue())
    assert root.get("name") == "target" and root.findtext("version") == "1.1"
    params = {p.get("name"): p.attrib for p in root.iter("parameter")}
    assert params["iqn"]["unique"] == "1" and params["iqn"]["required"] == "1"
    assert params["config"].get("reloadable") == "1" and params["iqn"].get("reloadable", "0") == "0"
    actions = {a.get("name") for a in root.iter("action")}
    assert actions == {"start", "stop", "monitor", "reload-agent", "validate-all", "meta-data"}
    assert '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd"' in out.getvalue()


@pytest.mark.parametrize("action", ["notify", "promote", "demote", "migrate_to", "reload", "frobnicate"])
def test_other_actions_are_unimplemented(action):
    assert run(FakeTarget(), action)[0] == A.OCF_ERR_UNIMPLEMENTED


def test_no_action_is_an_argument_error():
    assert A.main([], {}, FakeTarget(), io.StringIO(), io.StringIO()) == A.OCF_ERR_ARGS


class Leaky(FakeTarget):
    """LIO failing with a message that carries the secret (as a careless library might)."""

    def run_lio(self, actions) -> None:
        if actions:
            raise SanError(f"LIO refused password {SECRET}", field="lio")

    def read_lio(self, scope=None):
        if self.absent == "crash":
            raise RuntimeError(SECRET)
        return super().read_lio(scope)


@pytest.mark.parametrize("action", ["start", "reload-agent", "monitor", "stop", "validate-all"])
def test_no_secret_ever_reaches_stderr(action):
    for system in (Leaky(), Leaky(absent="crash")):
        system.missing = lambda: ""  # type: ignore[method-assign]
        code, err = run(system, action, whole(acls=((HOST1, SECRET),)))
        assert SECRET not in err, (action, err)
    bad = C.config_param(whole(), IQN).replace('"lun":1', '"lun":"one"')
    code, err = run(FakeTarget(), action, text=bad)
    assert SECRET not in err


def test_redact_hides_every_secret_even_in_unparsable_text():
    text = '{"targets": [{"tpgs": [{"acls": [{"chap": {"password": "' + SECRET + '"}}]}]}], "x": }'
    assert A.secrets_in_text(text) == ()  # not JSON: nothing to find, and nothing of it is printed
    assert A.secrets_in_text(C.config_param(whole(), IQN)) == (SECRET,)
    assert C.redact(f"a {SECRET} b", (SECRET,)) == "a (secret) b"
