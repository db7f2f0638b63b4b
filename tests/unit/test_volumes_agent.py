"""ocf:sanappliance:volumes (pure): the plan (create, extend, never shrink, remove the appliance's unwanted LVs
unless open, the keeper and foreign LVs untouched, activate), the parameter checks naming the field, the lvs
parser, and the actions on a fake node that applies the agent's lvm argvs as LVM would: start and reload-agent
idempotent, stop, the three monitor answers, validate-all's codes; the CIB primitive and its ops."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

import pytest

from sanappliance.agent import ocf
from sanappliance.agent import volumes as V
from sanappliance.agent.volumes_meta import ACTIONS
from sanappliance.apply.runner import Result
from sanappliance.apply.volumes import LiveVolumes
from sanappliance.drbd import cib
from sanappliance.errors import SanError
from sanappliance.model.config import Volume, VolumeKind

from .drbd_samples import config

MIB4 = 4 * 2**20
VG = "san-p1"
OURS = frozenset({V.LV_TAG})
KEEPER = V.Lv(V.KEEPER_LV, MIB4, frozenset({V.KEEPER_TAG}))


def param(*volumes: tuple[str, int]) -> str:
    return V.encode_volumes(volumes)


# --- the plan ----------------------------------------------------------------------------------------------------

def verbs(p: V.Plan) -> list[tuple[str, str]]:
    return [(a.verb, a.name) for a in p.actions]


def test_a_missing_volume_is_created_tagged_and_active():
    p = V.plan([V.Wanted("vol1", 8 * MIB4)], [KEEPER])
    assert p.actions == (V.Action("create", "vol1", 8 * MIB4),) and p.warnings == ()
    argv = p.actions[0].argv(VG)
    assert argv == [V.LVM, "lvcreate", "-y", "--wipesignatures", "y", "--activate", "y", "-n", "vol1",
                    "-L", f"{8 * MIB4}b", "--addtag", "sanappliance", VG]


def test_a_smaller_volume_is_extended_a_larger_one_never_shrunk():
    live = [V.Lv("small", MIB4, OURS), V.Lv("big", 4 * MIB4, OURS), V.Lv("same", 2 * MIB4, OURS)]
    p = V.plan([V.Wanted("small", 2 * MIB4), V.Wanted("big", MIB4), V.Wanted("same", 2 * MIB4)], live)
    assert p.actions == (V.Action("extend", "small", 2 * MIB4),)
    assert p.actions[0].argv(VG) == [V.LVM, "lvextend", "-L", f"{2 * MIB4}b", f"{VG}/small"]
    assert len(p.warnings) == 1 and "big" in p.warnings[0] and "never shrunk" in p.warnings[0]


def test_unwanted_lvs_of_the_appliance_are_removed_first_open_ones_kept():
    live = [V.Lv("gone", MIB4, OURS), V.Lv("busy", MIB4, OURS, open=True), V.Lv("vol1", MIB4, OURS)]
    p = V.plan([V.Wanted("vol1", MIB4), V.Wanted("new", MIB4)], live)
    assert verbs(p) == [("remove", "gone"), ("create", "new")]
    assert p.actions[0].argv(VG) == [V.LVM, "lvremove", "-y", f"{VG}/gone"]
    assert len(p.warnings) == 1 and "busy" in p.warnings[0] and "open" in p.warnings[0]


def test_the_keeper_and_lvs_the_appliance_did_not_tag_are_never_removed():
    live = [KEEPER, V.Lv(V.KEEPER_LV, MIB4, OURS), V.Lv("other", MIB4, frozenset({"tag"})), V.Lv("bare", MIB4),
            V.Lv("kept", MIB4, frozenset({V.LV_TAG, V.KEEPER_TAG}))]
    p = V.plan([], live)
    assert p == V.Plan((), ())


def test_inactive_wanted_lvs_are_activated_after_the_changes():
    live = [V.Lv("vol1", MIB4, OURS, active=False), V.Lv("vol2", MIB4, OURS, active=False)]
    p = V.plan([V.Wanted("vol1", MIB4), V.Wanted("vol2", 2 * MIB4), V.Wanted("vol3", MIB4)], live)
    assert verbs(p) == [("extend", "vol2"), ("create", "vol3"), ("activate", "vol1"), ("activate", "vol2")]
    assert p.actions[2].argv(VG) == [V.LVM, "lvchange", "-ay", f"{VG}/vol1"]


def test_a_wanted_lv_the_appliance_did_not_make_is_used_as_it_is():
    p = V.plan([V.Wanted("vol1", MIB4)], [V.Lv("vol1", MIB4)])  # made by hand before (untagged)
    assert p == V.Plan((), ())


def test_the_problems_name_each_lv():
    wanted = [V.Wanted("vol1", MIB4), V.Wanted("vol2", 2 * MIB4), V.Wanted("vol3", MIB4)]
    live = [V.Lv("vol2", MIB4, OURS), V.Lv("vol3", MIB4, OURS, active=False)]
    assert V.problems(wanted, live, VG) == ["LV san-p1/vol1 missing", "LV san-p1/vol3 not active"]
    assert V.problems(wanted, live, VG, sizes=True)[1] == f"LV san-p1/vol2 is {MIB4} bytes, not {2 * MIB4}"
    assert V.problems(wanted, None, VG) == [f"volume group {VG} not found: LV vol1, vol2, vol3 missing"]
    assert V.problems([], [KEEPER], VG) == []


def test_lvs_report_parsed_from_attr_and_tags():
    report = json.dumps({"report": [{"lv": [
        {"lv_name": "vol1", "lv_size": "8388608", "lv_attr": "-wi-ao----", "lv_tags": "sanappliance"},
        {"lv_name": "vol2", "lv_size": "4194304", "lv_attr": "-wi-------", "lv_tags": ""},
        {"lv_name": "san.keep", "lv_size": "4194304", "lv_attr": "-wi-a-----", "lv_tags": "a,sanappliance-keep"}]}]})
    assert V.parse_lvs(report) == (V.Lv("vol1", 8388608, OURS, True, True), V.Lv("vol2", 4194304, frozenset(),
                                                                                  False, False),
                                   V.Lv("san.keep", 4194304, frozenset({"a", "sanappliance-keep"}), True, False))


# --- the parameters ------------------------------------------------------------------------------------------------

def test_the_parameter_is_compact_json_sorted_by_name():
    assert param(("b", MIB4), ("a", 2 * MIB4)) == f'[{{"name":"a","size":{2 * MIB4}}},{{"name":"b","size":{MIB4}}}]'
    assert V.parse_volumes(param(("b", MIB4), ("a", 2 * MIB4))) == (V.Wanted("a", 2 * MIB4), V.Wanted("b", MIB4))
    assert V.parse_volumes("[]") == ()
    with pytest.raises(SanError, match="more than a Pacemaker parameter"):
        param(*((f"v{i:05d}", MIB4) for i in range(5000)))


@pytest.mark.parametrize("text, where", [
    ("", "volumes"), ("[", "volumes"), ('{"name":"a","size":4194304}', "volumes"), ("[1]", "volumes[0]"),
    ('[{"name":"a","size":4194304},{"size":4194304}]', "volumes[1].name"),
    ('[{"name":"a.b","size":4194304}]', "volumes[0].name"),  # the keeper's kind of name
    ('[{"name":"' + "x" * 64 + '","size":4194304}]', "volumes[0].name"),
    ('[{"name":"a","size":4194304},{"name":"a","size":8388608}]', "volumes[1].name"),
    ('[{"name":"a","size":4194304},{"name":"b","size":4194305}]', "volumes[1].size"),
    ('[{"name":"a","size":"4194304"}]', "volumes[0].size"), ('[{"name":"a","size":0}]', "volumes[0].size"),
    ('[{"name":"a","size":true}]', "volumes[0].size"), ('[{"name":"a"}]', "volumes[0].size"),
    ('[{"name":"a","size":-4194304}]', "volumes[0].size"),
], ids=["empty", "not-json", "not-a-list", "not-an-object", "no-name", "dot-in-name", "long-name", "twice",
        "not-4mib", "string-size", "zero", "bool", "no-size", "negative"])
def test_bad_volumes_name_the_field(text, where):
    with pytest.raises(SanError) as err:
        V.parse_volumes(text)
    assert err.value.field == where, err.value


@pytest.mark.parametrize("vg", ["", "p1", "san-", "san-p/1", "san-../x", "san-" + "p" * 64])
def test_a_bad_vg_is_named(vg):
    with pytest.raises(SanError) as err:
        V.check_vg(vg)
    assert err.value.field == "vg"


# --- the actions on a fake node ---------------------------------------------------------------------------------

@dataclass
class FakeNode:
    """LVM as far as the agent uses it: the argvs it runs applied to a dict of LVs (None: no VG)."""

    lvs: dict[str, V.Lv] | None = field(default_factory=lambda: {KEEPER.name: KEEPER})
    state: set[str] = field(default_factory=set)
    absent: str = ""
    ran: list[list[str]] = field(default_factory=list)

    def read_lvs(self, vg):
        return None if self.lvs is None else tuple(self.lvs.values())

    def run_lvm(self, argv):
        self.ran.append(list(argv))
        assert argv[0] == V.LVM and self.lvs is not None
        verb, name = argv[1], argv[-1].split("/")[-1]
        if verb == "lvcreate":
            name = argv[argv.index("-n") + 1]
            assert name not in self.lvs
            self.lvs[name] = V.Lv(name, int(argv[argv.index("-L") + 1].rstrip("b")), OURS)
        elif verb == "lvextend":
            self.lvs[name] = replace(self.lvs[name], size=int(argv[argv.index("-L") + 1].rstrip("b")))
        elif verb == "lvchange":
            self.lvs[name] = replace(self.lvs[name], active=True)
        elif verb == "lvremove":
            if self.lvs[name].open:
                raise SanError(f"Logical volume {VG}/{name} in use.", field="command")
            del self.lvs[name]

    def started(self, vg):
        return vg in self.state

    def set_started(self, vg, started):
        (self.state.add if started else self.state.discard)(vg)

    def missing(self):
        return self.absent


def run(node, action, volumes=None, vg=VG) -> tuple[int, str]:
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESKEY_vg": vg,
           "OCF_RESKEY_volumes": volumes if volumes is not None else param(("vol1", MIB4), ("vol2", 2 * MIB4))}
    err = io.StringIO()
    return V.main([action], env, node, io.StringIO(), err), err.getvalue()


def test_start_makes_the_volumes_and_again_changes_nothing():
    node = FakeNode()
    assert run(node, "monitor") == (V.OCF_NOT_RUNNING, "")  # the probe before the first start
    code, err = run(node, "start")
    assert code == V.OCF_SUCCESS and "INFO: started san-p1: 2 volume(s), create vol1, create vol2" in err, err
    assert set(node.lvs) == {"san.keep", "vol1", "vol2"} and node.lvs["vol2"].size == 2 * MIB4
    assert run(node, "monitor") == (V.OCF_SUCCESS, "")
    node.ran.clear()
    code, err = run(node, "start")
    assert code == V.OCF_SUCCESS and node.ran == [] and "no change" in err


def test_reload_agent_grows_adds_and_removes_only_what_changed():
    node = FakeNode()
    run(node, "start")
    node.ran.clear()
    code, err = run(node, "reload-agent", param(("vol1", 2 * MIB4), ("vol3", MIB4)))
    assert code == V.OCF_SUCCESS, err
    assert [c[1] for c in node.ran] == ["lvremove", "lvextend", "lvcreate"]
    assert {n: lv.size for n, lv in node.lvs.items()} == {"san.keep": MIB4, "vol1": 2 * MIB4, "vol3": MIB4}


def test_an_open_unwanted_lv_or_a_failed_removal_leaves_the_pool_serving():
    node = FakeNode()
    run(node, "start")
    node.lvs["vol2"] = replace(node.lvs["vol2"], open=True)
    code, err = run(node, "reload-agent", param(("vol1", MIB4)))
    assert code == V.OCF_SUCCESS and "WARNING: san-p1: LV vol2 is no longer wanted but open" in err, err
    assert "vol2" in node.lvs and not any(c[1] == "lvremove" for c in node.ran)

    class Racy(FakeNode):  # opened between the agent's look and its lvremove
        def run_lvm(self, argv):
            if argv[1] == "lvremove":
                self.lvs[argv[-1].split("/")[-1]] = replace(self.lvs[argv[-1].split("/")[-1]], open=True)
            super().run_lvm(argv)

    racy = Racy(lvs=dict(node.lvs))
    racy.lvs["vol2"] = replace(racy.lvs["vol2"], open=False)
    code, err = run(racy, "start", param(("vol1", MIB4)))
    assert code == V.OCF_SUCCESS and "LV vol2 could not be removed: left (Logical volume san-p1/vol2 in use.)" in err


def test_a_larger_lv_is_left_with_a_warning():
    node = FakeNode()
    run(node, "start")
    code, err = run(node, "reload-agent", param(("vol1", MIB4), ("vol2", MIB4)))
    assert code == V.OCF_SUCCESS and node.lvs["vol2"].size == 2 * MIB4 and "never shrunk" in err


def test_the_keeper_survives_every_action():
    node = FakeNode()
    for action, volumes in (("start", None), ("reload-agent", "[]"), ("stop", "[]"), ("start", "[]")):
        assert run(node, action, volumes)[0] == V.OCF_SUCCESS
        assert node.lvs["san.keep"] == KEEPER


def test_stop_removes_only_the_state_file_and_succeeds_without_the_vg():
    node = FakeNode()
    run(node, "start")
    lvs = dict(node.lvs)
    node.ran.clear()
    assert run(node, "stop")[0] == V.OCF_SUCCESS and node.state == set() and node.ran == [] and node.lvs == lvs
    assert run(node, "monitor") == (V.OCF_NOT_RUNNING, "")
    assert run(FakeNode(lvs=None), "stop")[0] == V.OCF_SUCCESS
    assert run(FakeNode(), "stop", vg="")[0] == V.OCF_SUCCESS  # nothing can have started with it
    assert run(FakeNode(), "stop", volumes="[")[0] == V.OCF_SUCCESS  # stop needs only vg


@pytest.mark.parametrize("breakage, reason", [
    (lambda n: n.lvs.pop("vol2"), "LV san-p1/vol2 missing"),
    (lambda n: n.lvs.update(vol1=replace(n.lvs["vol1"], active=False)), "LV san-p1/vol1 not active"),
    (lambda n: setattr(n, "lvs", None), "volume group san-p1 not found: LV vol1, vol2 missing"),
], ids=["lv-gone", "lv-inactive", "vg-gone"])
def test_monitor_fails_naming_the_lv(breakage, reason):
    node = FakeNode()
    run(node, "start")
    breakage(node)
    code, err = run(node, "monitor")
    assert code == V.OCF_ERR_GENERIC and f"ocf-exit-reason:{reason}" in err, err


def test_start_without_the_vg_fails_and_marks_nothing():
    node = FakeNode(lvs=None)
    code, err = run(node, "start")
    assert code == V.OCF_ERR_GENERIC and "volume group san-p1 not found" in err and node.state == set()


def test_a_failed_lvcreate_fails_the_start_with_lvms_words():
    class Full(FakeNode):
        def run_lvm(self, argv):
            raise SanError("/usr/sbin/lvm lvcreate -y --wipesignatures ... failed with exit code 5:\n"
                           "Volume group \"san-p1\" has insufficient free space", field="command")

    node = Full()
    code, err = run(node, "start")
    assert code == V.OCF_ERR_GENERIC and "insufficient free space" in err and node.state == set()


@pytest.mark.parametrize("action", ["start", "reload-agent", "validate-all"])
def test_bad_parameters_are_err_configured_naming_the_field(action):
    bad = '[{"name":"vol1","size":4194304},{"name":"vol2","size":5}]'
    code, err = run(FakeNode(), action, bad)
    assert code == V.OCF_ERR_CONFIGURED and "ocf-exit-reason:volumes[1].size:" in err, err
    code, err = run(FakeNode(), action, vg="p1")
    assert code == V.OCF_ERR_CONFIGURED and "ocf-exit-reason:vg:" in err, err


def test_monitor_of_a_started_resource_with_bad_volumes_is_err_configured():
    node = FakeNode(state={VG})
    assert run(node, "monitor", "[")[0] == V.OCF_ERR_CONFIGURED
    assert run(FakeNode(), "monitor", "[") == (V.OCF_NOT_RUNNING, "")  # a probe: not started here
    assert run(FakeNode(), "monitor", vg="") == (V.OCF_NOT_RUNNING, "")


def test_without_lvm_validate_all_and_start_are_err_installed():
    for action in ("validate-all", "start"):
        code, err = run(FakeNode(absent="/usr/sbin/lvm is not installed (lvm2)"), action)
        assert code == V.OCF_ERR_INSTALLED and "ocf-exit-reason:/usr/sbin/lvm is not installed" in err
    assert run(FakeNode(), "validate-all") == (V.OCF_SUCCESS, "")


def test_meta_data_is_ocf_1_1_with_the_reloadable_volumes():
    out = io.StringIO()
    assert V.main(["meta-data"], {}, FakeNode(), out) == V.OCF_SUCCESS
    root = ET.fromstring(out.getvalue())
    assert root.get("name") == "volumes" and root.findtext("version") == "1.1"
    params = {p.get("name"): p.attrib for p in root.iter("parameter")}
    assert params["vg"]["required"] == "1" and params["vg"]["unique"] == "1"
    assert params["vg"].get("reloadable", "0") == "0"  # the DTD's default, as ElementTree applies it
    assert params["volumes"]["required"] == "1" and params["volumes"]["reloadable"] == "1"
    assert {a.get("name") for a in root.iter("action")} == {"start", "stop", "monitor", "reload-agent",
                                                            "validate-all", "meta-data"}
    assert '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd"' in out.getvalue()


@pytest.mark.parametrize("action", ["notify", "promote", "reload", "frobnicate"])
def test_other_actions_are_unimplemented(action):
    assert run(FakeNode(), action)[0] == ocf.OCF_ERR_UNIMPLEMENTED


def test_no_action_is_an_argument_error_and_usage_is_fine():
    assert V.main([], {}, FakeNode(), io.StringIO(), io.StringIO()) == ocf.OCF_ERR_ARGS
    assert V.main(["usage"], {}, FakeNode(), io.StringIO(), io.StringIO()) == V.OCF_SUCCESS


# --- the live node's reading and state file (a fake runner) ------------------------------------------------------

def test_live_volumes_reads_the_vg_and_keeps_the_state_file(tmp_path):
    calls = []
    vgs = json.dumps({"report": [{"vg": [{"vg_name": "san-p1"}]}]})
    lvs = json.dumps({"report": [{"lv": [{"lv_name": "vol1", "lv_size": "4194304", "lv_attr": "-wi-a-----",
                                          "lv_tags": "sanappliance"}]}]})

    def runner(argv, timeout=None, **_):
        calls.append(list(argv))
        return Result(tuple(argv), 0, vgs if argv[1] == "vgs" else lvs, "")

    live = LiveVolumes(state_dir=tmp_path / "run", runner=runner)
    assert live.read_lvs("san-p1") == (V.Lv("vol1", MIB4, OURS),)
    assert calls[-1][:2] == [V.LVM, "lvs"] and calls[-1][-1] == "san-p1" and "--units" in calls[-1]
    assert live.read_lvs("san-p2") is None and calls[-1][1] == "vgs"
    assert not live.started("san-p1")
    live.set_started("san-p1", True)
    assert live.started("san-p1") and (tmp_path / "run/volumes-san-p1.state").is_file()
    live.set_started("san-p1", False)
    live.set_started("san-p1", False)
    assert not live.started("san-p1")


# --- the CIB primitive -----------------------------------------------------------------------------------------

def test_the_cib_primitive_follows_the_vg_with_the_pools_lvs_and_the_advertised_timeouts():
    cfg = config()
    cfg = replace(cfg, volumes=(*cfg.volumes, Volume("odd", VolumeKind.LV, 10**6, pool="p1"),
                                Volume("file1", VolumeKind.FILEIO, 2**30)))
    group = list(cib.pool_group(cfg, cfg.pool("p1")))
    prim = group[1]
    assert group[0].get("id") == "san-p1-vg" and prim.get("id") == cib.PoolIds("p1").volumes == "san-p1-volumes"
    assert (prim.get("class"), prim.get("provider"), prim.get("type")) == ("ocf", "sanappliance", "volumes")
    params = {p.get("name"): p.get("value") for p in prim.iter("nvpair")}
    # only p1's LVs (not the local pool's scratch, not the file), sorted, the odd size rounded up to an extent
    assert params == {"vg": "san-p1", "volumes": param(("odd", MIB4), ("vol1", 2**30), ("vol2", 2**30))}
    assert V.parse_volumes(params["volumes"])[0] == V.Wanted("odd", MIB4)
    ops = {op.get("name"): (op.get("interval"), op.get("timeout")) for op in prim.iter("op")}
    assert ops == {"start": ("0s", "120s"), "stop": ("0s", "60s"), "monitor": ("30s", "60s"),
                   "reload-agent": ("0s", "120s")}
    advertised = {name: (interval or "0s", timeout) for name, timeout, interval in ACTIONS}
    assert all(advertised[name] == value for name, value in ops.items())
