"""The cluster page's actions over the in-memory cluster host (test_ui_clusterhost.py) and the real service
functions: login and CSRF on every new route, the destructive actions through confirm pages that show the dry-run
plan and refuse a plan made for another state of the cluster, the others at once, errors next to the field with
nothing changed, the fencing self-test's PASS/FAIL lines and the fencing state on the dashboard; a single node says how
to form a cluster."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from sanappliance.cluster import cib, edits
from sanappliance.service import cluster, cluster_ops, status

from .test_ui_clusterhost import MemoryCluster
from .test_ui_harness import Ui, errors, make_ui

GENERATION_RE = re.compile(r'name="generation" value="([^"]+)"')


def cluster_ui(**kw) -> tuple[Ui, MemoryCluster]:
    host = MemoryCluster(**kw)
    return make_ui(cluster_host=host), host


def page_of(response) -> str:
    return response.get_data(as_text=True)


def unchanged(host: MemoryCluster) -> tuple:
    return host.cib, host.pushes, list(host.fenced), list(host.cleaned), list(host.sent)


def node_attr(host: MemoryCluster, node: str, name: str) -> str | None:
    _, config = cib.parse_cib(host.cib)
    el = edits.node_element(config, node)
    return next((p.get("value") for p in el.iterfind("instance_attributes/nvpair") if p.get("name") == name), None)


def confirm(ui: Ui, what: str, **params) -> tuple[str, str]:
    """The confirm page's plan text and the generation it carries."""
    response = ui.get(f"/confirm/{what}", query_string=params)
    assert response.status_code == 200, page_of(response)
    page = page_of(response)
    plan = re.search(r'<ol class="plan" id="plan">(.*?)</ol>', page, re.S)
    assert plan and 'id="confirm-button"' in page, page
    return re.sub(r"<[^>]+>", " ", plan.group(1)), GENERATION_RE.search(page).group(1)


# --- the page ---------------------------------------------------------------------------------------------------

def test_the_page_offers_each_action_where_it_applies():
    ui, host = cluster_ui()
    page = page_of(ui.get("/cluster"))
    assert 'href="/confirm/node-standby?node=node1"' in page and 'href="/confirm/node-standby?node=node2"' in page
    assert 'href="/confirm/node-fence?node=node2"' in page
    assert "node-fence?node=node1" not in page  # the node serving the page is fenced from another one
    assert 'action="/cluster/resources/san-ip-p1/start"' in page  # stopped (fencing untested)
    assert 'href="/confirm/resource-stop?resource=fence-sbd"' in page  # running
    for form in ("move-san-ip-p1", "clear-san-ip-p1", "cleanup-san-ip-p1", "cleanup", "fencing-test"):
        assert f'id="{form}"' in page, form
    assert 'href="/confirm/maintenance-on"' in page and 'href="/confirm/maintenance-off"' not in page  # it is off
    assert 'id="maintenance-state">off<' in page
    host.cib = edits.apply(host.cib, edits.standby("node2", True))
    page = page_of(ui.get("/cluster"))
    assert 'action="/cluster/nodes/node2/online"' in page and "node-standby?node=node2" not in page


def test_fencing_untested_is_said_on_the_dashboard_and_the_cluster_page():
    ui, host = cluster_ui()
    for url in ("/", "/cluster"):
        page = page_of(ui.get(url))
        assert 'id="fencing-untested"' in page, url
        assert "Fencing is not proven on node1, node2" in page and "storage" in page
    values = ui.get("/api/summary").json["values"]
    assert values["fencing_test"].startswith("NOT proven on node1, node2: storage resources stay off them")
    host.mark_tested()
    assert "fencing-untested" not in page_of(ui.get("/")) and "fencing-untested" not in page_of(ui.get("/cluster"))
    assert ui.get("/api/summary").json["values"]["fencing_test"] == "passed on every node"


def test_a_single_node_says_how_to_form_a_cluster_and_refuses_the_actions():
    for host in (None, MemoryCluster(formed=False)):
        ui = make_ui(cluster_host=host)
        page = page_of(ui.get("/cluster"))
        assert "No cluster formed" in page and status.FORM_CLUSTER in page and 'id="fencing-test"' not in page
        response = ui.post("/cluster/nodes/node2/online")
        assert response.status_code == 400
        assert "this node is in no cluster (`sanctl /cluster init` forms one)" in errors(page_of(response))[""]
        response = ui.post("/cluster/fencing-test")
        assert response.status_code == 400 and "in no cluster" in errors(page_of(response))[""]
        response = ui.get("/confirm/node-standby?node=node2")
        assert response.status_code == 400 and 'id="confirm-button"' not in page_of(response)
        assert "in no cluster" in page_of(response)


# --- login and CSRF ----------------------------------------------------------------------------------------------

POSTS = ["/cluster/nodes/node2/online", "/cluster/resources/san-ip-p1/start", "/cluster/resources/san-ip-p1/clear",
         "/cluster/resources/san-ip-p1/cleanup", "/cluster/cleanup", "/cluster/fencing-test"]
CONFIRMED = [("node-standby", {"node": "node2"}), ("node-fence", {"node": "node2"}),
             ("resource-stop", {"resource": "fence-sbd"}),
             ("resource-move", {"resource": "san-ip-p1", "node": "node2"}),
             ("maintenance-on", {}), ("maintenance-off", {})]


@pytest.mark.parametrize("url", POSTS + [f"/confirm/{what}" for what, _ in CONFIRMED])
def test_every_cluster_change_needs_a_login_and_the_csrf_token(url):
    host = MemoryCluster()
    host.cib = edits.apply(host.cib, edits.move("san-ip-p1", "node2"))
    anonymous = make_ui(cluster_host=host, login=False)
    before = unchanged(host)
    response = anonymous.post(url, {"node": "node2", "resource": "fence-sbd", "generation": "0"}, csrf=False)
    assert response.status_code == 303 and response.location.startswith("/login")
    ui = make_ui(cluster_host=host)
    for token in (False, "forged-token"):
        response = ui.post(url, {"node": "node2", "resource": "fence-sbd", "generation": "0"}, csrf=token)
        assert response.status_code == 400 and "security token" in page_of(response)
    assert unchanged(host) == before


# --- destructive actions: confirm pages ----------------------------------------------------------------------------

def test_standby_shows_its_plan_then_does_it():
    ui, host = cluster_ui(tested=True)
    before = unchanged(host)
    plan, generation = confirm(ui, "node-standby", node="node2")
    assert "set node node2 standby" in plan and unchanged(host) == before  # a dry run
    page = page_of(ui.get("/confirm/node-standby?node=node2"))
    assert "Its resources move to the other node(s)" in page and "Runs on node2 now" not in page
    response = ui.post("/confirm/node-standby", {"node": "node2", "generation": generation})
    assert response.status_code == 303 and response.location == "/cluster"
    assert node_attr(host, "node2", "standby") == "on" and host.pushes == 1
    page = page_of(ui.get("/cluster"))
    assert "Node node2 is in standby." in page and "set node node2 standby" in page
    response = ui.post("/cluster/nodes/node2/online", follow=True)
    assert "Node node2 is online" in page_of(response) and node_attr(host, "node2", "standby") is None


def test_standby_of_the_last_node_that_can_run_anything_warns():
    ui, host = cluster_ui(tested=True)
    host.cib = edits.apply(host.cib, edits.standby("node2", True))
    page = page_of(ui.get("/confirm/node-standby?node=node1"))
    assert 'id="note"' in page and "No other node is online and out of standby: what runs on node1 stops" in page
    assert "san-ip-p1" in page


def test_fence_shows_its_plan_then_fences():
    ui, host = cluster_ui(tested=True)
    plan, generation = confirm(ui, "node-fence", node="node2")
    assert "fence node node2 (reboot) through fence-sbd" in plan and host.fenced == []
    response = ui.post("/confirm/node-fence", {"node": "node2", "generation": generation}, follow=True)
    assert host.fenced == [("node2", "reboot")] and "Node node2 fenced." in page_of(response)
    assert "node node2 fenced (reboot)" in page_of(response)  # what the service reported


def test_fencing_the_node_serving_the_page_is_refused_next_to_the_node():
    ui, host = cluster_ui()
    before = unchanged(host)
    response = ui.get("/confirm/node-fence?node=node1")
    assert response.status_code == 400 and 'id="confirm-button"' not in page_of(response)
    assert "fence this node from another cluster node" in errors(page_of(response))["confirm-node"]
    response = ui.post("/confirm/node-fence", {"node": "node1", "generation": cluster_ui_generation(ui)})
    assert response.status_code == 400 and "confirm-node" in errors(page_of(response))
    assert unchanged(host) == before


def cluster_ui_generation(ui: Ui) -> str:
    return GENERATION_RE.search(page_of(ui.get("/confirm/maintenance-on"))).group(1)


def test_stop_and_start():
    ui, host = cluster_ui(tested=True)
    plan, generation = confirm(ui, "resource-stop", resource="san-ip-p1")
    assert "stop (target-role Stopped) for san-ip-p1" in plan
    ui.post("/confirm/resource-stop", {"resource": "san-ip-p1", "generation": generation})
    assert 'name="target-role" value="Stopped"' in host.cib
    assert "Resource san-ip-p1 stopped." in page_of(ui.get("/cluster"))
    response = ui.post("/cluster/resources/san-ip-p1/start")
    assert response.status_code == 303 and "target-role" not in host.cib


def test_stopping_the_fence_device_warns():
    ui, _ = cluster_ui()
    page = page_of(ui.get("/confirm/resource-stop?resource=fence-sbd"))
    assert "This is the fence device: while it is stopped no node can be fenced" in page


def test_move_then_clear():
    ui, host = cluster_ui(tested=True)
    plan, generation = confirm(ui, "resource-move", resource="san-ip-p1", node="node2")
    assert "prefer node2 for san-ip-p1 (constraint cli-prefer-san-ip-p1" in plan
    response = ui.post("/confirm/resource-move", {"resource": "san-ip-p1", "node": "node2",
                                                  "generation": generation}, follow=True)
    assert "Resource san-ip-p1 moves to node2: clear the move once it is there." in page_of(response)
    assert ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-ip-p1']").get("node") == "node2"
    assert cluster.status(host).resources[1].nodes == ("node2",)
    response = ui.post("/cluster/resources/san-ip-p1/clear", follow=True)
    assert "Move constraints of san-ip-p1 removed" in page_of(response) and "cli-prefer" not in host.cib


def test_maintenance_mode_on_and_off():
    ui, host = cluster_ui()
    plan, generation = confirm(ui, "maintenance-on")
    assert "maintenance mode on (cluster option maintenance-mode)" in plan
    response = ui.post("/confirm/maintenance-on", {"generation": generation}, follow=True)
    assert "Maintenance mode is on." in page_of(response) and 'name="maintenance-mode" value="true"' in host.cib
    plan, generation = confirm(ui, "maintenance-off")
    ui.post("/confirm/maintenance-off", {"generation": generation})
    assert "maintenance-mode" not in host.cib


@pytest.mark.parametrize("what, params, field, message", [
    ("node-standby", {"node": "node9"}, "node", "no such"),
    ("node-fence", {"node": "node9"}, "node", "no such"),
    ("resource-stop", {"resource": "nope"}, "resource", "no such resource"),
    ("resource-move", {"resource": "nope", "node": "node2"}, "resource", "no such resource"),
    ("resource-move", {"resource": "san-ip-p1", "node": "node9"}, "node", "no such"),
])
def test_bad_parameters_are_shown_next_to_the_field_and_change_nothing(what, params, field, message):
    ui, host = cluster_ui()
    before = unchanged(host)
    response = ui.get(f"/confirm/{what}", query_string=params)
    assert response.status_code == 404 and 'id="confirm-button"' not in page_of(response)
    assert message in errors(page_of(response))[f"confirm-{field}"].lower()
    response = ui.post(f"/confirm/{what}", {**params, "generation": cluster_ui_generation(ui)})
    assert response.status_code == 404 and f"confirm-{field}" in errors(page_of(response))
    assert unchanged(host) == before


def test_a_plan_made_for_another_state_of_the_cluster_is_not_carried_out():
    ui, host = cluster_ui(tested=True)
    _, generation = confirm(ui, "node-standby", node="node1")
    host.online["node2"] = False  # node2 went down meanwhile: standby of node1 now stops everything
    response = ui.post("/confirm/node-standby", {"node": "node1", "generation": generation})
    assert response.status_code == 409 and node_attr(host, "node1", "standby") is None and host.pushes == 0
    page = page_of(response)
    assert "the cluster changed since this plan was shown" in page
    assert "No other node is online and out of standby" in page  # the new plan, with its warning
    fresh = GENERATION_RE.search(page).group(1)
    assert fresh != generation
    assert ui.post("/confirm/node-standby", {"node": "node1", "generation": fresh}).status_code == 303
    assert node_attr(host, "node1", "standby") == "on"


def test_a_confirm_without_its_generation_is_refused():
    ui, host = cluster_ui()
    for generation in ("", "<script>"):
        assert ui.post("/confirm/maintenance-on", {"generation": generation}).status_code == 400
    assert ui.post("/confirm/node-standby", {"generation": cluster_ui_generation(ui)}).status_code == 400  # no node
    assert host.pushes == 0


# --- the other actions: at once ------------------------------------------------------------------------------------

def test_cleanup_of_one_resource_and_of_everything():
    ui, host = cluster_ui()
    response = ui.post("/cluster/resources/san-ip-p1/cleanup", follow=True)
    page = page_of(response)
    assert "Failures of san-ip-p1 cleaned up" in page and "Cleaned up san-ip-p1 on all nodes" in page
    assert host.cleaned == [("san-ip-p1", None)]
    response = ui.post("/cluster/cleanup", {"resource": "", "node": "node2"}, follow=True)
    assert "Failures of every resource on node2 cleaned up." in page_of(response)
    assert host.cleaned[-1] == (None, "node2")


@pytest.mark.parametrize("url, data, where, message, code", [
    ("/cluster/resources/san-ip-p1/clear", {}, "clear-san-ip-p1-resource", "no move or ban", 409),
    ("/cluster/cleanup", {"node": "node9"}, "cleanup-node", "no such", 404),
    ("/cluster/cleanup", {"resource": "nope"}, "cleanup-resource", "no such resource", 404),
    ("/cluster/nodes/node9/online", {}, "", "node: no such", 404),
    ("/cluster/resources/nope/start", {}, "", "resource: no such resource", 404),
])
def test_refused_actions_show_the_error_next_to_the_field_and_change_nothing(url, data, where, message, code):
    ui, host = cluster_ui()
    before = unchanged(host)
    response = ui.post(url, data)
    assert response.status_code == code
    found = errors(page_of(response))
    assert message in found[where].lower(), found
    assert unchanged(host) == before


def test_the_cleanup_form_keeps_what_was_chosen_when_refused():
    ui, _ = cluster_ui()
    page = page_of(ui.post("/cluster/cleanup", {"resource": "san-ip-p1", "node": "node9"}))
    assert '<option value="san-ip-p1" selected>' in page and 'aria-invalid="true" aria-describedby="cleanup-node' \
        in page


# --- the fencing self-test -----------------------------------------------------------------------------------------

def test_the_fencing_self_test_shows_each_check_and_lifts_the_gate():
    ui, host = cluster_ui()
    response = ui.post("/cluster/fencing-test")
    assert response.status_code == 303 and response.location == "/cluster#fencing"
    page = page_of(ui.get("/cluster"))
    assert "Fencing self-test passed" in page
    for line in ("PASS stonith-enabled", "PASS fence device: fence-sbd started on node1", "PASS can fence node2",
                 "PASS sbd on node1 answers", "PASS sbd on node2 answers"):
        assert line in page, line
    assert sorted(host.sent) == [("node1", "test"), ("node2", "test")]
    assert cluster_ops.untested_nodes(host) == [] and "fencing-untested" not in page
    assert "passed on every node" in page


def test_a_failed_fencing_self_test_says_which_check_failed():
    ui, host = cluster_ui()
    host.online["node2"] = False
    response = ui.post("/cluster/fencing-test", follow=True)
    page = page_of(response)
    assert 'class="flash failed"' in page and "Fencing self-test FAILED" in page
    assert '<ul class="lines"><li class="fail">FAIL node node2: not online: it cannot be tested</li>' in page
    assert cluster_ops.untested_nodes(host) == ["node1", "node2"] and host.pushes == 0


def test_no_destructive_action_while_the_cluster_state_cannot_be_read():
    ui, host = cluster_ui()
    _, generation = confirm(ui, "maintenance-on")
    host.broken = True
    response = ui.get("/confirm/maintenance-on")
    assert response.status_code == 400 and 'id="confirm-button"' not in page_of(response)
    assert "the cluster&#39;s state cannot be read" in page_of(response)
    response = ui.post("/confirm/maintenance-on", {"generation": generation})
    assert response.status_code == 400 and "crm_mon did not answer" in page_of(response)
    assert host.pushes == 0


def test_storage_resources_held_off_by_the_fencing_gate_say_so():
    ui, host = cluster_ui()
    page = page_of(ui.get("/cluster"))
    assert page.count("waits for the fencing test</span>") == 2  # san-ip-p1, san-target-p1; not fence-sbd
    host.mark_tested()
    assert "waits for the fencing test</span>" not in page_of(ui.get("/cluster"))


def test_a_node_that_is_down_can_be_brought_out_of_standby():
    ui, host = cluster_ui()
    host.cib = edits.apply(host.cib, edits.standby("node2", True))
    host.online["node2"] = False
    page = page_of(ui.get("/cluster"))
    assert 'action="/cluster/nodes/node2/online"' in page and "node-standby?node=node2" in page
    ui.post("/cluster/nodes/node2/online")
    assert node_attr(host, "node2", "standby") is None


def test_cluster_pages_have_no_inline_script_or_style():
    ui, _ = cluster_ui()
    for url in ["/cluster", "/"] + [f"/confirm/{what}?" + "&".join(f"{k}={v}" for k, v in params.items())
                                    for what, params in CONFIRMED]:
        response = ui.get(url)
        assert response.status_code == 200, url
        page = page_of(response)
        assert "<script>" not in page and " style=" not in page and "<style" not in page, url
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_once_the_status_reports_maintenance_mode_only_the_button_that_changes_it_is_offered(monkeypatch):
    from dataclasses import replace

    real = cluster.status
    mode = {"on": True}

    def with_mode(host):
        found = real(host)
        return None if found is None else replace(found, maintenance_mode=mode["on"])

    monkeypatch.setattr(cluster, "status", with_mode)
    ui, _ = cluster_ui()
    page = page_of(ui.get("/cluster"))
    assert 'id="maintenance-state">on<' in page and 'id="maintenance-off"' in page and 'id="maintenance-on"' not in page
    _, generation = confirm(ui, "maintenance-off")
    mode["on"] = False  # turned off elsewhere meanwhile: the plan's generation no longer holds
    assert ui.post("/confirm/maintenance-off", {"generation": generation}).status_code == 409
    page = page_of(ui.get("/cluster"))
    assert 'id="maintenance-state">off<' in page and 'id="maintenance-on"' in page
    assert 'id="maintenance-off"' not in page


def test_a_long_report_is_cut_so_the_message_fits_in_the_session_cookie():
    ui, host = cluster_ui()
    host.cleanup = lambda resource, node: "".join(f"Cleaned up resource-{i:03d} on node{i % 2 + 1} " + "x" * 150 +
                                                  "\n" for i in range(200))
    response = ui.post("/cluster/cleanup", {})
    assert response.status_code == 303 and len(ui.client.get_cookie("sanappliance_session").value) < 3000
    page = page_of(ui.get("/cluster"))
    assert "Failures of every resource on every node cleaned up." in page and "resource-000" in page
    assert re.search(r"\.\.\. and 1\d\d more lines", page) and "resource-199" not in page
    assert ui.get("/cluster").status_code == 200  # still logged in
