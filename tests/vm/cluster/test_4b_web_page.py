"""The admin web page on the formed two-node cluster, right after test_4_replication (fencing tested, the replicated
pool p1 served by one node): node1's page, reached from the host through a loopback port forward to guest port 443,
shows the real state. The cluster page: both nodes online, quorum, the members of the pool's group san-p1 on the
node crm_mon names, the DRBD clone Promoted and Unpromoted where crm_mon says, move/clear/cleanup offered, the fencing
self-test passed as the CIB's node attributes say. The dashboard: p1 replicated with role, connection and disks as
node1's /proc/drbd has them, in sync. One real action through its confirm page and the CSRF token: maintenance mode
on (crm_mon and crm_attribute say true) and off again, the chain where it was; a POST without (or with a wrong) token
is refused and changes nothing. Every page fetched is kept in build/test-logs/web-page/.

The admin password is generated at each node's first boot and only shown on its console, so the test sets its own
with the appliance's command (`python3 -m sanappliance.targetd set-password`, as tests/vm/test_ui.py does) and
restarts the page's service, which reads the account when it starts. The package's lab forwards a loopback port to
node1's 443 (conftest.py)."""

from __future__ import annotations

import html
import http.cookiejar
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from sanappliance.cluster.cib import FENCING_TESTED
from sanappliance.drbd.cib import PoolIds

from ..conftest import LOGS
from .helpers import mon, sanctl
from .test_4_replication import IQN, chain, drbd, other_of, promoted

PASSWORD = "vm-test-cluster-web-1"
OUT = LOGS / "web-page"
IDS = PoolIds("p1")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
GENERATION = re.compile(r'name="generation" value="([^"]+)"')


class Browser:
    """A cookie-keeping HTTPS client that posts forms with the page's CSRF token and keeps every page it got."""

    def __init__(self, port: int, tls: ssl.SSLContext) -> None:
        self.base = f"https://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls),
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""
        self.saved = 0
        self.login: tuple[int, str, str] = (0, "", "")  # what the login answered

    def save(self, name: str, text: str, suffix: str = "html") -> None:
        self.saved += 1
        (OUT / f"{self.saved:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.{suffix}").write_text(text)

    def _keep(self, name: str, page: str) -> str:
        found = CSRF.search(page)
        self.token = html.unescape(found.group(1)) if found else self.token
        self.save(name, page)
        return page

    def get(self, path: str, name: str) -> str:
        with self.opener.open(self.base + path, timeout=120) as response:
            return self._keep(name, response.read().decode())

    def post(self, path: str, name: str, *, token: str | None = None, **fields: str) -> tuple[int, str, str]:
        """(status, the path answered last (after redirects), page); `token`: the CSRF field to send instead of the
        page's (None: the page's, "": none at all)."""
        token = self.token if token is None else token
        data = urllib.parse.urlencode({**({"csrf_token": token} if token else {}), **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=300) as response:
                return response.status, urllib.parse.urlsplit(response.url).path, self._keep(name, response.read()
                                                                                              .decode())
        except urllib.error.HTTPError as exc:
            return exc.code, urllib.parse.urlsplit(exc.filename or "").path, self._keep(name, exc.read().decode())


@pytest.fixture(scope="module")
def web(lab, tmp_path_factory):
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    node = lab.node("node1")
    node.run(["/usr/bin/python3", "-m", "sanappliance.targetd", "set-password"], input=PASSWORD + "\n", check=True)
    node.run(["/usr/bin/systemctl", "restart", "sanappliance-ui.service"], check=True)
    cert = tmp_path_factory.mktemp("tls") / "appliance.crt"
    cert.write_text(node.run(["/bin/cat", "/etc/sanappliance/tls/targetd.crt"], check=True).stdout)
    tls = ssl.create_default_context(cafile=str(cert))
    tls.check_hostname = False  # the certificate names the node, the forward is 127.0.0.1; the chain is verified
    port = lab.forward("node1", 443)
    browser = Browser(port, tls)
    deadline = time.monotonic() + 90
    while True:
        try:
            browser.get("/login", "login")
            break
        except OSError:  # the service still starting (a reset or refused connection through the forward)
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    browser.login = browser.post("/login", "login-done", user="admin", password=PASSWORD)
    yield browser


# --- what the node itself says ---------------------------------------------------------------------------------------

def node_states(root: ET.Element) -> dict[str, str]:
    """Each node's state in the page's words, from crm_mon's attributes."""
    states = {}
    for n in root.iterfind("nodes/node"):
        flag = {k: n.get(k) == "true" for k in ("online", "standby", "maintenance", "unclean")}
        states[n.get("name")] = ("unclean" if flag["unclean"] else "offline" if not flag["online"] else
                                 "maintenance" if flag["maintenance"] else "standby" if flag["standby"] else "online")
    return states


def quorate(root: ET.Element) -> bool:
    dc = root.find("summary/current_dc")
    return dc is not None and dc.get("with_quorum") == "true"


def fencing_tested(node) -> dict[str, bool]:
    nodes = ET.fromstring(node.sh("cibadmin --query --scope nodes").stdout)
    return {n.get("uname"): any(p.get("name") == FENCING_TESTED for p in n.iterfind("instance_attributes/nvpair"))
            for n in nodes.iter("node")}


def maintenance_mode(node) -> tuple[str, str | None]:
    """(crm_attribute's value of the cluster option, "" when unset; crm_mon's cluster_options, None if absent)."""
    out = node.sh("crm_attribute --type crm_config --name maintenance-mode --query", check=False)
    found = re.search(r"value=(\S*)", out.stdout)
    value = found.group(1) if out.returncode == 0 and found and found.group(1) != "(null)" else ""
    options = mon(node).find("summary/cluster_options")
    return value, None if options is None else options.get("maintenance-mode")


def failed(node) -> set[tuple[str | None, ...]]:
    return {(f.get("op_key"), f.get("node"), f.get("status")) for f in mon(node).iterfind("failures/failure")}


def page_mode(crm_mon_mode: str | None) -> str:
    return {"true": "on", "false": "off"}.get(crm_mon_mode or "", "unknown (not reported)")


def truth(node) -> tuple:
    root = mon(node)
    return node_states(root), quorate(root), chain(node), fencing_tested(node)


def steady(web: Browser, node, path: str, name: str, read) -> tuple[str, object]:
    """The page and the node's own view of it, read before and after the page (again if they differ)."""
    for _ in range(3):
        before = read(node)
        page = web.get(path, name)
        after = read(node)
        if before == after:
            return page, after
    raise AssertionError(f"{node.name}'s state kept changing while {path} was read: {before} then {after}")


# --- the page's parts ------------------------------------------------------------------------------------------------

def row(page: str, rid: str) -> str:
    found = re.search(rf'<tr id="{re.escape(rid)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row {rid}"
    return found.group(1)


def cells(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", text, re.S)]


def plain(text: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))).strip()


def fact(page: str, element_id: str) -> str:
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert found, f"no element {element_id}"
    return plain(found.group(1))


def keyed(page: str, key: str) -> str:
    found = re.search(rf'data-key="{re.escape(key)}"[^>]*>([^<]*)<', page)
    assert found, f"no value {key}"
    return plain(found.group(1))


def members(page: str, unit: str) -> list[str]:
    """The ids of the resource rows that say they are part of `unit` (a group or clone)."""
    return re.findall(rf'<tr id="resource-([^"]+)">\s*<td>[^<]*<span class="tag"[^>]*>part of {re.escape(unit)}</span>',
                      page)


def where_of(resource_row: str) -> tuple[list[str], dict[str, str]]:
    """(the nodes of the Where column, node -> role): from the placement line of a row with several roles, else
    every node with the one role of the Role column."""
    tds = cells(resource_row)
    roles, where = plain(tds[2]), tds[3]
    nodes = [n.strip() for n in plain(where.split("<br>")[0]).split(",") if n.strip() not in ("", "-")]
    found = re.search(r'<small class="hint" id="placement-[^"]+">(.*?)</small>', where, re.S)
    if found is None:
        return nodes, {n: roles for n in nodes}
    by_node = {}
    for part in plain(found.group(1)).split(";"):
        role, _, on = part.strip().partition(" on ")
        by_node.update({n.strip(): role for n in on.split(",") if n.strip()})
    return nodes, by_node


def maintenance_confirmed(web: Browser, what: str, done: str) -> tuple[str, str]:
    """Maintenance mode on or off through the page: the Cluster page's button, its confirm page (the plan, the CSRF
    token and the cluster's generation), the confirm button; again when the cluster changed between the two."""
    for _ in range(3):
        cluster = web.get("/cluster", f"cluster-before-{what}")
        link = re.search(rf'<a class="button" id="{what}" href="([^"]+)"', cluster)
        assert link, f"no {what} button on the Cluster page"
        page = web.get(html.unescape(link.group(1)), f"confirm-{what}")
        assert 'id="confirm-button"' in page, plain(page)[:1500]
        plan = plain(re.search(r'<ol class="plan" id="plan">(.*?)</ol>', page, re.S).group(1))
        generation = GENERATION.search(page).group(1)
        status, path, result = web.post(f"/confirm/{what}", f"confirmed-{what}", generation=generation)
        if status == 409 and "changed since this plan was shown" in result:
            continue
        assert (status, path) == (200, "/cluster") and done in result, (status, path, plain(result)[:1500])
        return plan, result
    raise AssertionError(f"{what}: the cluster changed under every confirmation")


# --- the tests -------------------------------------------------------------------------------------------------------

def test_login_with_the_admin_password(web):
    status, path, page = web.login
    assert (status, path) == (200, "/") and "Log out" in page, (status, path, plain(page)[:800])


def test_the_cluster_page_shows_nodes_quorum_the_pools_chain_and_the_fencing_test(lab, web):
    node1 = lab.node("node1")
    page, (states, has_quorum, (roles, group), tested) = steady(web, node1, "/cluster", "cluster", truth)
    web.save("crm_mon", node1.sh("crm_mon --one-shot --inactive --output-as=xml").stdout, "xml")
    assert states == {"node1": "online", "node2": "online"} and has_quorum, (states, has_quorum)
    for name, state in states.items():
        tds = cells(row(page, f"node-{name}"))
        assert plain(tds[1]).split(" ")[0] == state, (name, tds)
        assert ("this node" in tds[0]) == (name == "node1"), tds
    assert "Quorum</dt><dd>quorate</dd>" in page
    # the pool's group: every member crm_mon lists, Started on the node it names; moved and cleared as a whole
    served = next((n for n, role in roles.items() if role == "Promoted"), "")
    assert group and all(nodes == [served] for nodes in group.values()), group
    assert set(members(page, IDS.group)) == set(group), (members(page, IDS.group), group)
    for rid, nodes in group.items():
        text = row(page, f"resource-{rid}")
        assert where_of(text) == (nodes, {served: "Started"}), (rid, cells(text))
        assert f'id="cleanup-{rid}"' in text
    first = row(page, f"resource-{next(iter(group))}")
    assert f'id="move-{IDS.group}"' in first and f'id="clear-{IDS.group}"' in first
    move = re.search(rf'id="move-{IDS.group}".*?</form>', first, re.S).group(0)
    assert f'<option value="{other_of(served)}" selected>' in move  # offered: the node that does not serve it
    # the DRBD clone (one row per instance id crm_mon gives): which node is Promoted, which Unpromoted
    assert roles == {served: "Promoted", other_of(served): "Unpromoted"}, roles
    clone = [row(page, f"resource-{rid}") for rid in members(page, IDS.clone)]
    shown: dict[str, str] = {}
    for text in clone:
        nodes, by_node = where_of(text)
        assert sorted(nodes) == sorted(by_node), cells(text)
        shown.update(by_node)
    assert shown == roles, ([cells(text) for text in clone], roles)
    assert any(f'id="move-{IDS.clone}"' in text and f'id="clear-{IDS.clone}"' in text for text in clone)
    # fencing: the self-test passed on both nodes (their node attribute in the CIB), the fence device runs
    assert tested == {"node1": True, "node2": True}, tested
    assert fact(page, "fencing-test-state") == "passed on every node"
    assert 'id="fencing-untested"' not in page and "waits for the fencing test" not in page
    devices = [(r.get("id"), [n.get("name") for n in r.iterfind("node")]) for r in mon(node1).iter("resource")
               if (r.get("resource_agent") or "").startswith("stonith:")]
    device = plain(re.search(r"<dt>Fence device</dt><dd>(.*?)</dd>", page, re.S).group(1))
    assert devices and all(rid in device and all(n in device for n in nodes) for rid, nodes in devices), \
        (device, devices)
    assert fact(page, "maintenance-state") == page_mode(maintenance_mode(node1)[1])


def test_the_dashboard_shows_the_replicated_pool_as_drbd_has_it_on_node1(lab, web):
    node1 = lab.node("node1")
    page, dev = steady(web, node1, "/", "dashboard", drbd)
    web.save("proc-drbd", node1.sh("cat /proc/drbd").stdout, "txt")
    with web.opener.open(web.base + "/api/summary", timeout=120) as response:
        summary = json.loads(response.read().decode())
    web.save("api-summary", json.dumps(summary, indent=1), "json")
    tds = cells(row(page, "pool-p1"))
    assert tds[0] == "p1" and tds[1] == "replicated", tds
    seen = {key: keyed(page, f"pool:p1:{key}") for key in ("role", "peer_role", "connection", "disk", "peer_disk",
                                                          "health")}
    assert seen == {"role": dev.role, "peer_role": dev.peer_role, "connection": dev.cstate, "disk": dev.disk,
                    "peer_disk": dev.peer_disk, "health": "in sync"}, (seen, dev)
    assert dev.healthy and (dev.role == "Primary") == (promoted(node1) == "node1"), (dev, chain(node1))
    assert re.search(r'<tr id="pool-p1" data-state-key="pool:p1:state" data-state="ok">', page)
    assert all(summary["values"][f"pool:p1:{key}"] == value for key, value in seen.items()), summary["values"]
    assert keyed(page, "nodes") == "2 of 2 online" and keyed(page, "quorum") == "quorate"
    assert keyed(page, "fencing_test") == "passed on every node"
    assert IQN in page


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(lab, web):
    node1 = lab.node("node1")
    before = maintenance_mode(node1), node1.sh("cibadmin --query --scope constraints").stdout
    assert before[0][0] in ("", "false"), before[0]
    page = web.get("/confirm/maintenance-on", "confirm-maintenance-on-unsent")
    generation = GENERATION.search(page).group(1)  # a valid plan: only the token is missing
    for token, name in (("", "no-token"), ("not-" + web.token, "wrong-token")):
        status, _, refused = web.post("/confirm/maintenance-on", f"maintenance-on-{name}", token=token,
                                      generation=generation)
        assert status == 400 and "security token is missing or out of date" in refused, (status, plain(refused))
        status, _, refused = web.post(f"/cluster/resources/{IDS.group}/clear", f"clear-{name}", token=token)
        assert status == 400 and "Nothing was changed" in refused, (status, plain(refused))
    assert (maintenance_mode(node1), node1.sh("cibadmin --query --scope constraints").stdout) == before
    assert fact(web.get("/cluster", "cluster-after-refused"), "maintenance-state") == page_mode(before[0][1])


def test_maintenance_mode_on_and_off_through_the_confirm_page(lab, web):
    node1 = lab.node("node1")
    before, failures = chain(node1), failed(node1)
    assert maintenance_mode(node1)[0] in ("", "false")
    try:
        plan, page = maintenance_confirmed(web, "maintenance-on", "Maintenance mode is on.")
        assert "maintenance-mode" in plan, plan
        value, shown = maintenance_mode(node1)
        assert value == "true" and shown in ("true", None), (value, shown)
        assert fact(page, "maintenance-state") == page_mode(shown)
        if shown is not None:
            assert 'id="maintenance-on"' not in page and 'id="maintenance-off"' in page
        assert any(r.get("managed") == "false" for r in mon(node1).iter("resource"))  # Pacemaker leaves them be
        plan, page = maintenance_confirmed(web, "maintenance-off", "Maintenance mode is off.")
        assert "maintenance-mode" in plan, plan
        value, shown = maintenance_mode(node1)
        assert value in ("", "false") and shown in ("false", None), (value, shown)
        assert fact(page, "maintenance-state") == page_mode(shown)
    finally:
        if maintenance_mode(node1)[0] == "true":  # failed above with it on: off again, for the modules after this
            sanctl(node1, "/cluster", "maintenance", "off", check=True)
    lab.wait_until(lambda: chain(node1) == before, 120, "the chain as it was before maintenance mode", 2)
    assert failed(node1) <= failures, node1.sh("crm_mon --one-shot --inactive").stdout  # none new
