"""The replicated pools' renders checked by the appliance image's own tools, by chroot (no VM): drbd-utils 9.22's
8.4 front end (`drbdadm-84 dump` on the .res files, `--dry-run` of every argv the apply layer runs), LVM 2.03's
`lvmconfig` on the lvm.conf, pacemaker 3.0's crm_verify on the CIB with the pool chains, and its scheduler
(crm_simulate) for where the chain runs: the Promoted DRBD instance, the VG, the floating addresses and the targets
all on one node, all on the survivor after a node failure, nowhere while the crm-fence-peer constraint holds.
Each check also shows it can fail."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.cluster import edits
from sanappliance.drbd import cib, commands, lvm, render
from tests.image.test_cluster_tools import crm_verify, run_simulation
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import R1, config, replicated_pool, two_pools

pytestmark = pytest.mark.image

TOOLS = ("usr/lib/drbd/drbdadm-84", "usr/lib/drbd/drbdsetup-84", "usr/lib/drbd/crm-fence-peer.sh",
         "usr/lib/drbd/crm-unfence-peer.sh", "usr/lib/ocf/resource.d/linbit/drbd",
         "usr/lib/ocf/resource.d/heartbeat/LVM-activate", "usr/lib/ocf/resource.d/heartbeat/IPaddr2",
         "usr/lib/ocf/resource.d/heartbeat/portblock", "usr/sbin/lvmconfig")
DRBD_CONF = 'include "/tmp/global_common.conf";\ninclude "/tmp/*.res";\n'
UP = ("--quorum", "1", "--node-up", "node1", "--node-up", "node2")


def test_the_tools_are_in_the_root(image_root):
    missing = [tool for tool in TOOLS if not (image_root.root / tool).exists()]
    assert not missing, f"{image_root.root} lacks {missing}: the image's package list changed?"


def test_the_fence_handler_takes_the_role_option(image_root):
    script = (image_root.root / "usr/lib/drbd/crm-fence-peer.sh").read_text()
    assert "--role=*)" in script and '${role:="Master"}' in script  # why the .res passes --role=Promoted
    # why it passes --timeout: this handler compares node_state's crmd with "online" (Pacemaker 3.0 writes a time)
    assert "--timeout=*)" in script and '[[ $crmd != "online" ]]' in script


# --- DRBD 8.4 --------------------------------------------------------------------------------------------------------

def drbd_files(pools) -> dict[str, str]:
    files = {"drbd.conf": DRBD_CONF, "global_common.conf": render.render_global_common()}
    files.update({f"{render.resource_name(p)}.res": render.render_resource(p) for p in pools if p.replication})
    return files


def drbdadm(image_root, argv: list[str], files: dict[str, str], hostname: str = "node1"):
    return image_root.run([commands.DRBDADM, "-c", "/tmp/drbd.conf", *argv[1:]], files, hostname=hostname)


SAMPLES = {"ipv4": (replicated_pool(),), "ipv6": (replicated_pool(addresses=("fd00:2::11", "fd00:2::12")),),
           "two-pools": two_pools().pools}


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("hostname", ["node1", "node2"])
def test_drbdadm_84_dump_accepts_the_resource_files(image_root, name, hostname):
    pools = SAMPLES[name]
    for pool in (p for p in pools if p.replication):
        result = drbdadm(image_root, commands.dump_argv(render.resource_name(pool)), drbd_files(pools), hostname)
        assert result.returncode == 0, result.output
        dumped = re.sub(r"\s+", " ", result.stdout)
        mine = pool.replication.node(hostname)
        assert f"resource {render.resource_name(pool)} {{" in dumped and "fencing resource-only;" in dumped
        assert f"on {hostname} {{ device {pool.replication.device} minor {pool.replication.minor}; " \
               f"disk {mine.disk}; meta-disk internal;" in dumped
        assert "protocol C;" in dumped and "after-sb-2pri disconnect;" in dumped
        assert "fence-peer \"/usr/lib/drbd/crm-fence-peer.sh --role=Promoted --timeout=5\";" in dumped


def fencing_in_net(res: str) -> str:
    """DRBD 9's place for the fencing policy: the 8.4 parser refuses it there."""
    res = res.replace("    disk {\n        fencing resource-only;\n", "    disk {\n")
    return res.replace("    net {\n", "    net {\n        fencing resource-only;\n", 1)


@pytest.mark.parametrize("breakage, hostname, reason", [
    (lambda res: res, "node9", "not defined in your config (for this host)"),
    (fencing_in_net, "node1", "fencing"),
    (lambda res: res.replace("on-io-error detach;", "on-io-errors detach;"), "node1", "on-io-errors"),
    (lambda res: res.replace("protocol C;", "protocol X;"), "node1", "protocol"),
], ids=["host-not-in-file", "fencing-in-net", "misspelt-option", "unknown-protocol"])
def test_drbdadm_84_refuses_a_broken_file(image_root, breakage, hostname, reason):
    files = drbd_files((replicated_pool(),))
    files["san-p1.res"] = breakage(files["san-p1.res"])
    assert hostname != "node1" or files["san-p1.res"] != render.render_resource(replicated_pool())
    result = drbdadm(image_root, commands.dump_argv("san-p1"), files, hostname)
    assert result.returncode != 0 and reason in result.output, result.output


def test_every_argv_runs_through_drbdadm_84_dry_run(image_root):
    """What each argv makes drbd-utils call (drbdsetup-84 / drbdmeta), on node1 of pool p1."""
    files = drbd_files((replicated_pool(),))
    dev, disk = "0", R1
    expected = {
        "create_md": (commands.create_md_argv("san-p1"), f"drbdmeta {dev} v08 {disk} internal create-md --force"),
        "up": (commands.up_argv("san-p1"), "drbdsetup-84 connect san-p1 ipv4:10.0.2.11:7789 ipv4:10.0.2.12:7789 "
                                           "--protocol=C"),
        "primary": (commands.primary_force_argv("san-p1"), f"drbdsetup-84 primary {dev} --force"),
        "secondary": (commands.secondary_argv("san-p1"), f"drbdsetup-84 secondary {dev}"),
        "get_gi": (commands.get_gi_argv("san-p1"), f"drbdsetup-84 get-gi {dev}"),
        "discard": (commands.connect_argv("san-p1", discard_my_data=True), "--discard-my-data"),
        "adjust": (commands.adjust_argv("san-p1"), f"drbdsetup-84 attach {dev} {disk} {disk} internal"),
        "down": (commands.down_argv("san-p1"), "drbdsetup-84 down san-p1"),
    }
    for name, (argv, wanted) in expected.items():
        result = drbdadm(image_root, commands.dry_run_argv(argv), files)
        assert result.returncode == 0 and wanted in result.stdout, f"{name}: {result.output}"
    up = drbdadm(image_root, commands.dry_run_argv(commands.up_argv("san-p1")), files).stdout
    assert "--fencing=resource-only" in up and "--after-sb-1pri=consensus" in up


# --- LVM ---------------------------------------------------------------------------------------------------------

def lvmconfig(image_root, conf: str, *args: str):
    """lvmconfig on `conf` (LVM_SYSTEM_DIR=/tmp), with a /proc of the private mount namespace (LVM reads it)."""
    script = 'mount -t proc proc /proc && exec /usr/sbin/lvmconfig "$@"'
    return image_root.run(["/bin/sh", "-ec", script, "sh", *args], {"lvm.conf": conf}, env={"LVM_SYSTEM_DIR": "/tmp"})


def test_lvmconfig_validates_the_rendered_lvm_conf(image_root):
    conf = lvm.render_lvm_conf(config())
    result = lvmconfig(image_root, conf, "--validate")
    assert result.returncode == 0 and "LVM configuration valid" in result.stdout, result.output
    got = lvmconfig(image_root, conf, "devices/global_filter", "devices/use_devicesfile", "global/system_id_source")
    assert got.returncode == 0, got.output
    listed = re.findall(r'"([^"]*)"', got.stdout.split("use_devicesfile")[0])
    assert listed == lvm.global_filter(config())
    assert "use_devicesfile=0" in got.stdout and 'system_id_source="uname"' in got.stdout


def test_lvmconfig_refuses_a_broken_lvm_conf(image_root):
    conf = lvm.render_lvm_conf(config()).replace("use_devicesfile = 0", "use_devicesfile = [")
    result = lvmconfig(image_root, conf, "--validate")
    assert result.returncode != 0, result.output


# --- the CIB -----------------------------------------------------------------------------------------------------

def merged(cfg=None) -> str:
    """The CIB the appliance pushes: the cluster's part for two nodes and the pools' chains."""
    return cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), cfg or config())


def pool_cib(cfg=None, promotion: dict[str, int] | None = None) -> str:
    """For the scheduler: the pushed CIB with node entries, the fencing self-test recorded for both nodes (or the
    gate keeps every san-* resource off) and the DRBD agent's promotion scores (the agent sets them from its disk
    state: 10000 for UpToDate)."""
    cfg = cfg or config()
    xml = merged(cfg)
    xml = xml.replace("<nodes />", '<nodes><node id="1" uname="node1" /><node id="2" uname="node2" /></nodes>')
    scores = promotion if promotion is not None else {"node1": 10000, "node2": 10000}
    changes = [edits.node_attribute(n, ccib.FENCING_TESTED, "2026-12-01T08:00:00Z") for n in ("node1", "node2")]
    changes += [edits.node_attribute(node, f"master-{cib.PoolIds(p.name).drbd}", str(score))
                for p in cfg.pools if p.replication for node, score in scores.items()]
    return edits.apply(xml, *changes)


def fence_by_handler(pool: str, keep: str, role: str = "Promoted") -> str:
    """The constraint crm-fence-peer.sh places when the peer of `keep` is unreachable (its own template)."""
    ids = cib.PoolIds(pool)
    rid = f"drbd-fence-by-handler-san-{pool}"
    return (f'<rsc_location rsc="{ids.clone}" id="{rid}-{ids.clone}"><rule role="{role}" score="-INFINITY" '
            f'id="{rid}-rule-{ids.clone}"><expression attribute="#uname" operation="ne" value="{keep}" '
            f'id="{rid}-expr-{ids.clone}"/></rule></rsc_location>')


@pytest.mark.parametrize("cfg", [config(), two_pools(), config(pool=replicated_pool(portblock=True))],
                         ids=["one-pool", "two-pools", "portblock"])
def test_crm_verify_accepts_the_cib_with_the_pool_chain(image_root, cfg):
    result = crm_verify(image_root, merged(cfg))
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.output


def test_crm_verify_accepts_the_handlers_constraint_only_with_the_promoted_role(image_root):
    """crm-fence-peer.sh writes role="Master" unless told --role=Promoted: pacemaker 3.0 calls that deprecated and
    crm_verify fails, which would block every later validated push of the CIB."""
    xml = merged()
    ok = crm_verify(image_root, xml.replace("</constraints>", fence_by_handler("p1", "node1") + "</constraints>"))
    assert ok.returncode == 0, ok.output
    old = crm_verify(image_root, xml.replace("</constraints>", fence_by_handler("p1", "node1", "Master")
                                             + "</constraints>"))
    assert old.returncode != 0 and "Master" in old.output, old.output


@pytest.mark.parametrize("breakage", [
    lambda xml: xml.replace('with-rsc="san-p1-drbd-clone"', 'with-rsc="san-p1-drbd-klone"'),
    lambda xml: xml.replace('with-rsc-role="Promoted"', 'with-rsc-role="Chief"'),
    lambda xml: xml.replace('first-action="promote"', 'first-action="elevate"'),
    lambda xml: xml.replace('kind="Mandatory"', 'kind="Always"'),
    lambda xml: xml.replace('interval="31s"', 'interval="29s"'),  # two monitors with one interval
], ids=["colocated-with-nothing", "unknown-role", "unknown-action", "unknown-order-kind",
                                      "monitors-same-interval"])
def test_crm_verify_refuses_a_broken_chain(image_root, breakage):
    good = merged()
    bad = breakage(good)
    assert bad != good
    result = crm_verify(image_root, bad)
    assert result.returncode != 0, result.output


def chain_nodes(roles: dict[str, dict[str, list[str]]], cfg, pool: str) -> dict[str, list[str]]:
    """Where each piece of the pool's chain runs: the Promoted DRBD instance, then the group's members."""
    ids = cib.PoolIds(pool)
    members = [p.get("id") for p in cib.pool_group(cfg, cfg.pool(pool))]
    found = {ids.drbd: sorted(roles.get(ids.drbd, {}).get("Promoted", []))}
    found.update({m: sorted(roles.get(m, {}).get("Started", [])) for m in members})
    return found


def test_the_whole_chain_runs_on_the_promoted_node_and_fails_over(image_root):
    cfg = config()
    _, xml, roles = run_simulation(image_root, pool_cib(cfg), *UP)
    where = chain_nodes(roles, cfg, "p1")
    assert len(where) == 6 and "san-p1-volumes" in where, where  # DRBD, VG, volumes, two addresses, the target
    assert all(nodes == [where["san-p1-drbd"][0]] for nodes in where.values()), where
    first = where["san-p1-drbd"][0]
    assert sorted(roles["san-p1-drbd"]["Unpromoted"]) == [n for n in ("node1", "node2") if n != first]

    transcript, xml, roles = run_simulation(image_root, xml, "--node-fail", first)
    survivor = "node2" if first == "node1" else "node1"
    assert f"Fencing {first} (reboot)" in transcript, transcript
    where = chain_nodes(roles, cfg, "p1")
    assert all(nodes == [survivor] for nodes in where.values()), where
    promote = transcript.index(f"san-p1-drbd     promote on {survivor}")
    vg_start = transcript.index(f"san-p1-vg       start on {survivor}")
    assert promote < vg_start < transcript.index(f"san-p1-volumes  start on {survivor}"), transcript  # in order

    transcript, _, roles = run_simulation(image_root, xml, "--node-up", first)  # back, resynced: no failback
    assert all(nodes == [survivor] for nodes in chain_nodes(roles, cfg, "p1").values()), transcript
    assert roles["san-p1-drbd"]["Unpromoted"] == [first]


def test_node1_failed_puts_everything_on_node2(image_root):
    """With node1 the preferred primary (a higher promotion score), the chain runs there; node1 fails: node2."""
    cfg = config()
    _, xml, roles = run_simulation(image_root, pool_cib(cfg, {"node1": 10000, "node2": 1000}), *UP)
    assert set(map(tuple, chain_nodes(roles, cfg, "p1").values())) == {("node1",)}
    _, _, roles = run_simulation(image_root, xml, "--node-fail", "node1")
    assert set(map(tuple, chain_nodes(roles, cfg, "p1").values())) == {("node2",)}


def test_the_group_follows_the_promoted_role_against_a_preference(image_root):
    """An admin's preference of the group for node2 (500) does not split the chain from node1's Promoted DRBD (its
    disk is better: 10000 against 1000): colocation with the Promoted role is INFINITY."""
    cfg = config()
    prefer = '<rsc_location id="san-p1-prefers-node2" rsc="san-p1" node="node2" score="500" /></constraints>'
    xml = pool_cib(cfg, {"node1": 10000, "node2": 1000}).replace("</constraints>", prefer)
    _, _, roles = run_simulation(image_root, xml, *UP)
    assert set(map(tuple, chain_nodes(roles, cfg, "p1").values())) == {("node1",)}, roles


def test_each_pool_runs_whole_on_one_node(image_root):
    cfg = two_pools()
    scores = {"node1": 10000, "node2": 10000}
    _, _, roles = run_simulation(image_root, pool_cib(cfg, scores), *UP)
    for pool in ("p1", "p2"):
        where = chain_nodes(roles, cfg, pool)
        assert len({tuple(nodes) for nodes in where.values()}) == 1 and len(where[f"san-{pool}-drbd"]) == 1, where


def test_nothing_is_promoted_or_started_without_an_uptodate_disk(image_root):
    """No promotion score (no node has UpToDate data, as before the initial sync): no Promoted instance, and the
    VG, addresses and targets stay stopped (they are ordered after promote and colocated with Promoted)."""
    cfg = config()
    _, _, roles = run_simulation(image_root, pool_cib(cfg, {}), *UP)
    where = chain_nodes(roles, cfg, "p1")
    assert all(nodes == [] for nodes in where.values()), where
    assert sorted(roles["san-p1-drbd"]["Unpromoted"]) == ["node1", "node2"]


def test_the_fence_peer_constraint_keeps_an_outdated_node_from_promotion(image_root):
    """node1 (primary) lost its peer and placed the handler's constraint; then node1 fails: node2 has not resynced
    since, so it must not be promoted; the chain stays down until the constraint is lifted (after resync)."""
    cfg = config()
    _, xml, roles = run_simulation(image_root, pool_cib(cfg, {"node1": 10000, "node2": 1000}), *UP)
    assert roles["san-p1-drbd"]["Promoted"] == ["node1"]
    fenced = xml.replace("</constraints>", fence_by_handler("p1", "node1") + "</constraints>")
    transcript, _, roles = run_simulation(image_root, fenced, "--node-fail", "node1")
    assert "promote on node2" not in transcript, transcript
    assert all(nodes == [] for nodes in chain_nodes(roles, cfg, "p1").values()), roles
    lifted = run_simulation(image_root, xml, "--node-fail", "node1")[2]  # the same failure without the constraint
    assert lifted["san-p1-drbd"]["Promoted"] == ["node2"]


def test_a_removed_pool_leaves_a_valid_cib(image_root):
    cfg = two_pools()
    live = merged(cfg).replace("</constraints>", fence_by_handler("p2", "node1") + "</constraints>")
    only_p1 = replace(cfg, pools=cfg.pools[:2], volumes=cfg.volumes[:3], targets=cfg.targets[:1])
    result = crm_verify(image_root, cib.merge_pools(live, two_nodes(), only_p1))
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.output
