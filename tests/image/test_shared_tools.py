"""The shared-disk pools' renders checked by the appliance image's own tools, by chroot (no VM): multipath-tools
0.11's `multipath -t` on the backend multipath.conf and on the initiators' LIO device section, LVM 2.03's
`lvmconfig` on the lvm.conf with use_lvmlockd, pacemaker 3.0's crm_verify on the CIB with the dlm and lvmlockd
clones, and its scheduler (crm_simulate) for where things run: the clones on both nodes, the pool's group on one
after the lvmlockd clone, on the survivor after a node failure, nowhere on a node whose fencing is unproven.
Each check also shows it can fail."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.cluster import edits
from sanappliance.drbd import cib, lvm, shared_cib
from sanappliance.initiator import render as initiator
from sanappliance.initiator import settings
from sanappliance.multipath import render as multipath
from sanappliance.multipath.model import Map
from tests.image.test_cluster_tools import crm_verify, run_simulation
from tests.image.test_drbd_tools import lvmconfig
from tests.unit.cluster_samples import two_nodes
from tests.unit.shared_samples import WWID2, config, mixed, shared_pool

pytestmark = pytest.mark.image

TOOLS = ("usr/sbin/multipath", "usr/sbin/multipathd", "usr/sbin/lvmlockd", "usr/sbin/dlm_controld",
         "usr/lib/ocf/resource.d/pacemaker/controld", "usr/lib/ocf/resource.d/heartbeat/lvmlockd",
         "usr/lib/ocf/resource.d/heartbeat/LVM-activate", "usr/lib/ocf/resource.d/sanappliance/volumes",
         "usr/lib/ocf/resource.d/sanappliance/target")
UP = ("--quorum", "1", "--node-up", "node1", "--node-up", "node2")
LOCAL_WWIDS = (WWID2, "0QEMU_QEMU_HARDDISK_drive-scsi0")


def test_the_tools_are_in_the_root(image_root):
    missing = [tool for tool in TOOLS if not (image_root.root / tool).exists()]
    assert not missing, f"{image_root.root} lacks {missing}: the image's package list changed?"


def test_the_cib_uses_the_agents_advertised_timeouts(image_root):
    """The ops of the lock managers' primitives are the ones their agents' meta-data advertise."""
    for agent, ops in (("pacemaker/controld", shared_cib.DLM_OPS), ("heartbeat/lvmlockd", shared_cib.LVMLOCKD_OPS)):
        text = (image_root.root / "usr/lib/ocf/resource.d" / agent).read_text()
        for name, interval, timeout, _ in ops:
            action = re.search(rf'<action name="{name}"\s+([^/]*)/>', text)
            assert action and f'timeout="{timeout}"' in action.group(1), (agent, name, action)
            if name == "monitor":
                assert f'interval="{interval}"' in action.group(1), (agent, action.group(1))


# --- multipath ------------------------------------------------------------------------------------------------------

def multipath_t(image_root, conf: str):
    """`multipath -t` (the configuration multipath would use, with the built-in tables) reading `conf` as
    /etc/multipath.conf: it reports every keyword and value it refuses on stderr."""
    script = 'mount -t proc proc /proc && cp /tmp/multipath.conf /etc/multipath.conf && exec /usr/sbin/multipath -t'
    return image_root.run(["/bin/sh", "-ec", script], {"multipath.conf": conf})


def section(text: str, name: str) -> str:
    """One top-level section of multipath -t's output."""
    start = text.index(f"\n{name} {{\n") + 1
    return text[start:text.index("\n}\n", start) + 3]


def test_multipath_takes_the_backend_conf(image_root):
    maps = (*multipath.maps_of(config()), Map("2001b4d2a0c4e5f6", "shelf-b"))
    result = multipath_t(image_root, multipath.render_multipath_conf(maps, LOCAL_WWIDS))
    assert result.returncode == 0 and result.stderr == "", result.output
    out = result.stdout
    assert '\tuser_friendly_names "no"' in section("\n" + out, "defaults")
    assert '\tfind_multipaths "greedy"' in out
    blacklist = section(out, "blacklist")
    assert [w for w in re.findall(r'\twwid "([^"]*)"', blacklist)] == [
        "^0QEMU_QEMU_HARDDISK_drive-scsi0$", f"^{WWID2}$", ".*"]
    exceptions = section(out, "blacklist_exceptions")
    assert sorted(re.findall(r'\twwid "([^"]*)"', exceptions)) == sorted(
        multipath.wwid_pattern(m.wwid) for m in maps)
    named = dict(re.findall(r'wwid "([^"]*)"\n\t\talias "([^"]*)"', section(out, "multipaths")))
    assert named == {m.wwid: m.alias for m in maps}


@pytest.mark.parametrize("breakage, reason", [
    (lambda conf: conf.replace("find_multipaths greedy", "find_multipaths grabby"), "invalid value"),
    (lambda conf: conf.replace("user_friendly_names no", "user_friendly_name no"), "invalid keyword"),
    (lambda conf: conf.replace("        wwid 3", "        #wwid 3"), "missing wwid"),
    (lambda conf: conf.rstrip("}\n") + "\n", "missing '}'"),
], ids=["bad-value", "misspelt-keyword", "map-without-wwid", "unclosed-section"])
def test_multipath_reports_a_broken_conf(image_root, breakage, reason):
    good = multipath.render_multipath_conf(multipath.maps_of(config()), LOCAL_WWIDS)
    bad = breakage(good)
    assert bad != good
    result = multipath_t(image_root, bad)
    assert reason in result.stderr, result.output


def test_multipath_takes_the_initiators_lio_device_section(image_root):
    s = settings.derive(two_nodes().timing())
    result = multipath_t(image_root, initiator.render_multipath_device(s))
    assert result.returncode == 0 and result.stderr == "", result.output
    ours = section(result.stdout, "devices").split("\tdevice {\n")[-1]  # user entries come after the built-in ones
    assert '\t\tvendor "LIO-ORG"' in ours and '\t\tpath_checker "tur"' in ours, ours
    assert f"\t\tno_path_retry {s.no_path_retry}" in ours and '\t\tpath_grouping_policy "multibus"' in ours
    assert '\t\tfailback "immediate"' in ours
    assert "\tpolling_interval 5\n" in result.stdout  # the interval no_path_retry is counted in


# --- open-iscsi -----------------------------------------------------------------------------------------------------

def test_the_iscsid_settings_are_open_iscsis_own_keys(image_root):
    """Every key the initiator lines set is one open-iscsi's own iscsid.conf (2.1.11) sets: none misspelt."""
    stock = (image_root.root / "etc/iscsi/iscsid.conf").read_text()
    known = set(re.findall(r"^#?\s*([a-z][\w.\[\]]+)\s*=", stock, re.M))
    ours = re.findall(r"^([a-z][\w.\[\]]+) = ", initiator.render_iscsid_conf(settings.derive(two_nodes().timing())),
                      re.M)
    assert len(ours) == 5 and set(ours) <= known, set(ours) - known
    assert "node.session.timeo.replacment_timeout" not in known  # the check can fail


# --- LVM ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [config(), mixed()], ids=["shared", "shared-and-replicated"])
def test_lvmconfig_validates_the_lvm_conf_with_lvmlockd(image_root, cfg):
    conf = lvm.render_lvm_conf(cfg)
    result = lvmconfig(image_root, conf, "--validate")
    assert result.returncode == 0 and "LVM configuration valid" in result.stdout, result.output
    got = lvmconfig(image_root, conf, "devices/global_filter", "global/use_lvmlockd")
    assert got.returncode == 0, got.output
    assert re.findall(r'"([^"]*)"', got.stdout) == lvm.global_filter(cfg)
    assert "use_lvmlockd=1" in got.stdout


def test_lvmconfig_refuses_a_broken_lockd_setting(image_root):
    conf = lvm.render_lvm_conf(config()).replace("use_lvmlockd = 1", "use_lvmlockd = [")
    assert lvmconfig(image_root, conf, "--validate").returncode != 0


# --- the CIB --------------------------------------------------------------------------------------------------------

def merged(cfg=None) -> str:
    return cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), cfg or config())


def shared_cib_for_scheduler(cfg=None, tested=("node1", "node2")) -> str:
    """The pushed CIB with node entries, the fencing self-test recorded for `tested` and, for a replicated pool,
    both nodes' DRBD promotion scores (as the DRBD agent sets them for UpToDate disks)."""
    cfg = cfg or config()
    xml = merged(cfg).replace("<nodes />", '<nodes><node id="1" uname="node1" /><node id="2" uname="node2" />'
                                           "</nodes>")
    changes = [edits.node_attribute(n, ccib.FENCING_TESTED, "2026-12-01T08:00:00Z") for n in tested]
    changes += [edits.node_attribute(n, f"master-{cib.PoolIds(p.name).drbd}", "10000")
                for p in cfg.pools if p.replication for n in ("node1", "node2")]
    return edits.apply(xml, *changes)


@pytest.mark.parametrize("cfg", [config(), mixed(), config(pool=shared_pool(portblock=True))],
                         ids=["shared", "shared-and-replicated", "portblock"])
def test_crm_verify_accepts_the_cib_with_the_lock_managers(image_root, cfg):
    result = crm_verify(image_root, merged(cfg))
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.output


@pytest.mark.parametrize("breakage", [
    lambda xml: xml.replace('with-rsc="san-lvmlockd-clone"', 'with-rsc="san-lvmlockd-klone"'),
    lambda xml: xml.replace('first="san-dlm-clone"', 'first="san-dlm-klone"'),
    lambda xml: xml.replace('first-action="start" then="san-s1"', 'first-action="begin" then="san-s1"'),
    lambda xml: xml.replace('type="controld"', ""),
], ids=["colocated-with-nothing", "ordered-after-nothing", "unknown-action", "agent-without-type"])
def test_crm_verify_refuses_a_broken_lock_chain(image_root, breakage):
    good = merged()
    bad = breakage(good)
    assert bad != good
    result = crm_verify(image_root, bad)
    assert result.returncode != 0, result.output


def at(transcript: str, action: str) -> int:
    """Where `action` ("san-dlm start on node1") is in a crm_simulate transcript (clone instances as san-dlm:0,
    names padded)."""
    rsc, rest = action.split(" ", 1)
    match = re.search(rf"{re.escape(rsc)}(:\d+)?\s+{re.escape(rest)}\b", transcript)
    assert match, f"{action} not in:\n{transcript}"
    return match.start()


def group_nodes(roles, cfg, pool: str) -> dict[str, list[str]]:
    members = [p.get("id") for p in cib.pool_group(cfg, cfg.pool(pool))]
    return {m: sorted(roles.get(m, {}).get("Started", [])) for m in members}


def test_clones_everywhere_the_group_on_one_node_after_lvmlockd_and_failover(image_root):
    cfg = config()
    transcript, xml, roles = run_simulation(image_root, shared_cib_for_scheduler(cfg), *UP)
    assert sorted(roles["san-dlm"]["Started"]) == sorted(roles["san-lvmlockd"]["Started"]) == ["node1", "node2"]
    where = group_nodes(roles, cfg, "s1")
    assert len(where) == 5 and len({tuple(n) for n in where.values()}) == 1 and len(where["san-s1-vg"]) == 1, where
    serving = where["san-s1-vg"][0]
    dlm, lockd, vg = (at(transcript, f"{rsc} start on {serving}") for rsc in ("san-dlm", "san-lvmlockd", "san-s1-vg"))
    assert dlm < lockd < vg, transcript

    survivor = "node2" if serving == "node1" else "node1"
    transcript, xml, roles = run_simulation(image_root, xml, "--node-fail", serving)
    assert f"Fencing {serving} (reboot)" in transcript, transcript
    assert all(nodes == [survivor] for nodes in group_nodes(roles, cfg, "s1").values()), roles
    assert roles["san-dlm"]["Started"] == roles["san-lvmlockd"]["Started"] == [survivor]
    assert at(transcript, f"Fencing {serving}") < at(transcript, f"san-s1-vg start on {survivor}")

    transcript, _, roles = run_simulation(image_root, xml, "--node-up", serving)  # back: the clones, no failback
    assert sorted(roles["san-lvmlockd"]["Started"]) == ["node1", "node2"]
    assert all(nodes == [survivor] for nodes in group_nodes(roles, cfg, "s1").values()), transcript


def test_nothing_of_the_lock_chain_on_a_node_with_unproven_fencing(image_root):
    cfg = config()
    _, xml, roles = run_simulation(image_root, shared_cib_for_scheduler(cfg, tested=("node1",)), *UP)
    assert roles["san-dlm"]["Started"] == roles["san-lvmlockd"]["Started"] == ["node1"]
    assert all(nodes == ["node1"] for nodes in group_nodes(roles, cfg, "s1").values()), roles
    _, _, roles = run_simulation(image_root, xml, "--node-fail", "node1")  # node2 cannot take it
    assert not roles.get("san-s1-vg", {}).get("Started") and not roles.get("san-lvmlockd", {}).get("Started")


def test_replicated_and_shared_pools_run_whole(image_root):
    cfg = mixed()
    _, _, roles = run_simulation(image_root, shared_cib_for_scheduler(cfg), *UP)
    s1 = group_nodes(roles, cfg, "s1")
    assert len({tuple(n) for n in s1.values()}) == 1 and len(s1["san-s1-vg"]) == 1, s1
    p1 = group_nodes(roles, cfg, "p1")
    assert {tuple(n) for n in p1.values()} == {tuple(roles["san-p1-drbd"]["Promoted"])}, (p1, roles)


def test_the_cib_without_the_last_shared_pool_is_valid(image_root):
    """s1 deleted: the lock managers go too; the replicated pool's chain (or nothing) is left, valid."""
    base = mixed()
    without_s1 = replace(base, pools=tuple(p for p in base.pools if p.name != "s1"),
                         volumes=tuple(v for v in base.volumes if v.pool != "s1"),
                         targets=tuple(t for t in base.targets if "shared" not in t.iqn))
    for cfg in (without_s1, replace(without_s1, pools=without_s1.pools[:1], volumes=without_s1.volumes[:1],
                                    targets=())):
        text = cib.merge_pools(merged(base), two_nodes(), cfg)
        assert "san-dlm" not in text and "san-lvmlockd" not in text and "san-s1" not in text
        assert ("san-p1-drbd-clone" in text) == any(p.replication for p in cfg.pools)
        result = crm_verify(image_root, text)
        assert result.returncode == 0 and result.stdout + result.stderr == "", result.output


def test_dlm_stonith_finds_pacemakers_fencing_library(image_root):
    """dlm_stonith dlopens libstonithd.so.26 (images/build.py link_stonithd_compat): the name resolves to a
    library with the two functions it calls."""
    script = ("import ctypes\n"
              "lib = ctypes.CDLL('libstonithd.so.26')\n"
              "print(bool(lib.stonith_api_kick), bool(lib.stonith_api_time))\n")
    result = image_root.run(["/usr/bin/python3", "-c", script])
    assert result.returncode == 0 and result.stdout.split() == ["True", "True"], result.output
    assert "libstonithd.so.26" in (image_root.root / "usr/sbin/dlm_stonith").read_bytes().decode("latin-1")
