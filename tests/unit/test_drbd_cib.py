"""The Pacemaker chain of a replicated pool: structure, fixed ids, and the merge (foreign elements kept, removed
pools' elements gone with the constraints that name them, epoch + 1, one push with the cluster's own part)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.drbd import cib
from sanappliance.errors import SanError
from sanappliance.lio.clustered import config_param
from sanappliance.model.config import Config, Lun, Target, Tpg
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import IQN, config, replicated_pool, two_pools


def merged(cfg: Config, current: str | None = None) -> ET.Element:
    return ET.fromstring(cib.merge_pools(current or ccib.render_cib(two_nodes()), two_nodes(), cfg))


def nv(el: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in el.iter("nvpair")}


def test_the_drbd_clone_is_promotable_once_with_two_monitors():
    clone = cib.drbd_clone(replicated_pool())
    assert clone.tag == "clone" and clone.get("id") == "san-p1-drbd-clone"
    meta = nv(clone.find("meta_attributes"))
    assert meta == {"promotable": "true", "promoted-max": "1", "promoted-node-max": "1", "clone-max": "2",
                    "clone-node-max": "1", "notify": "true"}
    prim = clone.find("primitive")
    assert (prim.get("class"), prim.get("provider"), prim.get("type")) == ("ocf", "linbit", "drbd")
    assert nv(prim.find("instance_attributes")) == {"drbd_resource": "san-p1"}
    monitors = {op.get("role"): op.get("interval") for op in prim.iter("op") if op.get("name") == "monitor"}
    assert set(monitors) == {"Promoted", "Unpromoted"} and len(set(monitors.values())) == 2


def test_the_group_runs_vg_volumes_ips_and_targets_in_order():
    group = cib.pool_group(config(), replicated_pool())
    ids = [p.get("id") for p in group]
    assert ids == ["san-p1-vg", "san-p1-volumes", "san-p1-ip-10.0.3.100", "san-p1-ip-10.0.4.100",
                   "san-p1-target-iqn.2026-11.org.example_storage"]
    vg, volumes, ip1, ip2, target = list(group)
    assert nv(vg) == {"vgname": "san-p1", "vg_access_mode": "system_id"}
    assert (volumes.get("provider"), volumes.get("type")) == ("sanappliance", "volumes")
    assert nv(volumes) == {"vg": "san-p1", "volumes": '[{"name":"vol1","size":1073741824},'
                                                      '{"name":"vol2","size":1073741824}]'}
    assert nv(ip1) == {"ip": "10.0.3.100", "cidr_netmask": "24", "nic": "eth2"}
    assert nv(ip2) == {"ip": "10.0.4.100", "cidr_netmask": "24"}
    assert (target.get("provider"), target.get("type")) == ("sanappliance", "target")
    assert nv(target) == {"iqn": IQN, "pool": "p1", "config": config_param(config(), IQN)}
    assert all(p.get("id").startswith("san-") for p in group.iter("primitive"))


def test_the_volumes_parameter_changes_only_with_the_pools_own_lvs():
    base = two_pools()
    p1, p2 = base.pool("p1"), base.pool("p2")
    grown = replace(base, volumes=tuple(replace(v, size=2 * v.size) if v.name == "vol3" else v for v in base.volumes))
    assert cib.volumes_param(grown, p1) == cib.volumes_param(base, p1)
    assert cib.volumes_param(grown, p2) != cib.volumes_param(base, p2) == '[{"name":"vol3","size":1073741824}]'
    assert cib.volumes_param(replace(base, volumes=()), p1) == "[]"


def test_portblock_wraps_the_addresses_and_targets():
    pool = replicated_pool(portblock=True)
    ids = [p.get("id") for p in cib.pool_group(config(pool=pool), pool)]
    assert ids[:4] == ["san-p1-vg", "san-p1-volumes", "san-p1-block-10.0.3.100", "san-p1-block-10.0.4.100"]
    assert ids[-2:] == ["san-p1-unblock-10.0.3.100", "san-p1-unblock-10.0.4.100"]
    assert ids.index("san-p1-target-iqn.2026-11.org.example_storage") < ids.index("san-p1-unblock-10.0.3.100")
    block = cib.pool_group(config(pool=pool), pool)[2]
    assert nv(block) == {"ip": "10.0.3.100", "portno": "3260", "protocol": "tcp", "action": "block"}


def test_colocated_with_the_promoted_role_and_ordered_after_promote():
    colo, order = cib.constraints(replicated_pool())
    assert colo.attrib == {"id": "san-p1-with-drbd-promoted", "score": "INFINITY", "rsc": "san-p1",
                           "with-rsc": "san-p1-drbd-clone", "with-rsc-role": "Promoted"}
    assert order.attrib == {"id": "san-p1-after-drbd-promote", "kind": "Mandatory", "first": "san-p1-drbd-clone",
                            "first-action": "promote", "then": "san-p1", "then-action": "start"}


def test_merge_adds_chains_with_the_cluster_part_and_bumps_the_epoch():
    base = ccib.render_cib(two_nodes())
    root = merged(two_pools(), base)
    assert int(root.get("epoch")) == int(ET.fromstring(base).get("epoch")) + 1
    resources = root.find("configuration/resources")
    assert [el.get("id") for el in resources] == ["fence-sbd", "san-p1-drbd-clone", "san-p1", "san-p2-drbd-clone",
                                                  "san-p2"]
    cons = [el.get("id") for el in root.find("configuration/constraints")]
    assert cons == ["san-fencing-gate", "san-p1-with-drbd-promoted", "san-p1-after-drbd-promote",
                    "san-p2-with-drbd-promoted", "san-p2-after-drbd-promote"]
    assert cib.pools_in_cib(root.find("configuration")) == {"p1", "p2"}


def test_merge_again_changes_nothing_but_the_epoch():
    once = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), two_pools())
    twice = cib.merge_pools(once, two_nodes(), two_pools())
    epoch = ET.fromstring(once).get("epoch")
    assert twice == once.replace(f'epoch="{epoch}"', f'epoch="{int(epoch) + 1}"', 1)


FOREIGN = ('<primitive id="web" class="ocf" provider="pacemaker" type="Dummy" />')
FENCE_BY_HANDLER = ('<rsc_location rsc="san-p2-drbd-clone" id="drbd-fence-by-handler-san-p2-san-p2-drbd-clone">'
                    '<rule role="Promoted" score="-INFINITY" id="drbd-fence-by-handler-san-p2-rule-san-p2-drbd-clone">'
                    '<expression attribute="#uname" operation="ne" value="node1" '
                    'id="drbd-fence-by-handler-san-p2-expr-san-p2-drbd-clone" /></rule></rsc_location>')
WEB_PREFERS = '<rsc_location id="web-prefers-node1" rsc="web" node="node1" score="50" />'


def test_a_removed_pool_goes_with_its_constraints_and_the_rest_stays():
    live = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), two_pools())
    live = live.replace("</resources>", FOREIGN + "</resources>")
    live = live.replace("</constraints>", FENCE_BY_HANDLER + WEB_PREFERS + "</constraints>")
    base = two_pools()
    only_p1 = replace(base, pools=base.pools[:2], volumes=base.volumes[:3], targets=base.targets[:1])
    root = merged(only_p1, live)
    ids = {el.get("id") for el in root.find("configuration").iter() if el.get("id")}
    assert not {i for i in ids if i.startswith("san-p2")} and "drbd-fence-by-handler-san-p2-san-p2-drbd-clone" \
        not in ids
    assert {"web", "web-prefers-node1", "san-p1", "san-p1-drbd-clone", "san-p1-with-drbd-promoted",
            "fence-sbd", "san-fencing-gate"} <= ids
    assert cib.pools_in_cib(root.find("configuration")) == {"p1"}


def test_a_target_without_luns_on_the_pool_is_not_in_its_group():
    cfg = replace(config(), targets=(*config().targets, Target("iqn.2026-11.org.example:empty", (Tpg(),))))
    assert [p.get("id") for p in cib.pool_group(cfg, cfg.pools[1]) if "target" in p.get("id")] == [
        "san-p1-target-iqn.2026-11.org.example_storage"]


def test_targets_whose_ids_collide_are_refused():
    a, b = "iqn.2026-11.org.example:x", "iqn.2026-11.org.example_x"
    cfg = replace(config(), targets=(Target(a, (Tpg(luns=(Lun(0, "vol1"),)),)),
                                     Target(b, (Tpg(luns=(Lun(0, "vol2"),)),))))
    with pytest.raises(SanError) as err:
        cib.pool_group(cfg, cfg.pools[1])
    assert err.value.field == f"targets[{b}].iqn"


def test_an_id_taken_by_a_foreign_element_is_refused():
    live = ccib.render_cib(two_nodes()).replace(
        "</constraints>", '<rsc_location id="san-p1-vg" rsc="web" node="node1" score="5" /></constraints>')
    with pytest.raises(SanError) as err:
        cib.merge_pools(live, two_nodes(), config())
    assert err.value.value == "san-p1-vg"
