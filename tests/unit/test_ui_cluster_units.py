"""Groups and clones on the cluster page: Pacemaker moves a group (all its members) or a clone as a unit, so the
move and clear buttons act on the group or clone id (ResourceState.parent), once per unit, never on a member
primitive; a promotable clone's move offers the node where it is not Promoted."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sanappliance.service import cluster, status

from .test_ui_cluster import confirm, page_of
from .test_ui_clusterhost import MemoryCluster
from .test_ui_harness import make_ui

CHAIN = ('<clone id="san-p1-drbd-clone"><meta_attributes id="san-p1-drbd-clone-meta">'
         '<nvpair id="san-p1-drbd-clone-promotable" name="promotable" value="true"/></meta_attributes>'
         '<primitive id="san-p1-drbd" class="ocf" provider="linbit" type="drbd"/></clone>'
         '<group id="san-p1"><primitive id="san-p1-vg" class="ocf" provider="heartbeat" type="LVM-activate"/>'
         '<primitive id="san-p1-ip-10.0.3.100" class="ocf" provider="heartbeat" type="IPaddr2"/></group>')


def chain_ui():
    host = MemoryCluster(tested=True)
    host.cib = host.cib.replace("</resources>", CHAIN + "</resources>")
    return make_ui(cluster_host=host), host


def row(page: str, name: str) -> str:
    found = re.search(rf'<tr id="resource-{re.escape(name)}">.*?</tr>', page, re.S)
    assert found, name
    return re.sub(r"\s+", " ", found.group(0))


def test_the_service_state_names_each_members_parent():
    _, host = chain_ui()
    parents = {r.name: r.parent for r in status.cluster_state(lambda: cluster.status(host), "node1").resources}
    assert parents == {"fence-sbd": "", "san-ip-p1": "", "san-target-p1": "", "san-p1-drbd": "san-p1-drbd-clone",
                       "san-p1-vg": "san-p1", "san-p1-ip-10.0.3.100": "san-p1"}


def test_move_and_clear_act_on_the_group_once():
    ui, _ = chain_ui()
    page = page_of(ui.get("/cluster"))
    first = row(page, "san-p1-vg")
    for fragment in ('part of san-p1</span>', 'id="move-san-p1"', '<input type="hidden" name="resource" '
                     'value="san-p1">', "Move san-p1 to", 'action="/cluster/resources/san-p1/clear" id="clear-san-p1"',
                     "Clear san-p1</button>", 'id="move-san-p1-node"', '<option value="node2" selected>'):
        assert fragment in first, fragment
    second = row(page, "san-p1-ip-10.0.3.100")
    assert "moves with san-p1" in second and "move-san-p1" not in second and "/clear" not in second
    assert 'action="/cluster/resources/san-p1-ip-10.0.3.100/cleanup"' in second  # its own cleanup stays
    assert page.count('id="move-san-p1"') == 1 and page.count('id="clear-san-p1"') == 1
    assert "move-san-p1-vg" not in page and "/cluster/resources/san-p1-vg/clear" not in page
    plain = row(page, "san-ip-p1")  # a top-level primitive: its own buttons, as before
    assert 'id="move-san-ip-p1"' in plain and "Move to" in plain and "part of" not in plain


def test_moving_the_group_moves_every_member_then_clear():
    ui, host = chain_ui()
    plan, generation = confirm(ui, "resource-move", resource="san-p1", node="node2")
    assert "prefer node2 for san-p1 (constraint cli-prefer-san-p1" in plan
    response = ui.post("/confirm/resource-move", {"resource": "san-p1", "node": "node2", "generation": generation},
                       follow=True)
    assert "Resource san-p1 moves to node2" in page_of(response)
    assert ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-p1']").get("rsc") == "san-p1"
    where = {r.id: r.nodes for r in cluster.status(host).resources}
    assert where["san-p1-vg"] == where["san-p1-ip-10.0.3.100"] == ("node2",)
    assert '<option value="node1" selected>' in row(page_of(ui.get("/cluster")), "san-p1-vg")  # back, next time
    response = ui.post("/cluster/resources/san-p1/clear", follow=True)
    assert "Move constraints of san-p1 removed" in page_of(response) and "cli-prefer" not in host.cib


def test_a_promotable_clone_moves_its_promoted_role():
    ui, host = chain_ui()
    clone = row(page_of(ui.get("/cluster")), "san-p1-drbd")
    assert "part of san-p1-drbd-clone" in clone and "Promoted, Unpromoted" in clone and "node1, node2" in clone
    assert 'value="san-p1-drbd-clone"' in clone and '<option value="node2" selected>' in clone  # not Promoted there
    plan, generation = confirm(ui, "resource-move", resource="san-p1-drbd-clone", node="node2")
    ui.post("/confirm/resource-move", {"resource": "san-p1-drbd-clone", "node": "node2", "generation": generation})
    loc = ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-p1-drbd-clone']")
    assert (loc.get("node"), loc.get("role")) == ("node2", "Promoted")
    promoted = [r.nodes for r in cluster.status(host).resources if r.id == "san-p1-drbd" and r.role == "Promoted"]
    assert promoted == [("node2",)]


def test_a_member_asked_directly_is_refused_with_its_unit():
    ui, host = chain_ui()
    before = host.cib
    response = ui.post("/cluster/resources/san-p1-vg/clear")
    assert response.status_code == 400 and "part of san-p1: clear that instead" in page_of(response)
    response = ui.get("/confirm/resource-move", query_string={"resource": "san-p1-vg", "node": "node2"})
    assert "part of san-p1: move that instead" in page_of(response) and 'id="confirm-button"' not in page_of(response)
    assert host.cib == before


def placement(page: str, name: str) -> str:
    found = re.search(rf'<small class="hint" id="placement-{re.escape(name)}">(.*?)</small>', page, re.S)
    assert found, name
    return found.group(1)


def test_a_promotable_clone_says_which_node_has_which_role():
    ui, host = chain_ui()
    page = page_of(ui.get("/cluster"))
    assert placement(page, "san-p1-drbd") == "Promoted on node1; Unpromoted on node2"
    assert 'id="placement-san-p1-vg"' not in page and 'id="placement-fence-sbd"' not in page  # one role: no line
    _, generation = confirm(ui, "resource-move", resource="san-p1-drbd-clone", node="node2")
    ui.post("/confirm/resource-move", {"resource": "san-p1-drbd-clone", "node": "node2", "generation": generation})
    assert placement(page_of(ui.get("/cluster")), "san-p1-drbd") == "Promoted on node2; Unpromoted on node1"
