"""The cluster renders checked by the appliance image's own tools: corosync 3.1 (`corosync -t`), pacemaker 3.0
(`crm_verify`, `crm_simulate`, `cibadmin` on a file-backed CIB) and the image's sh for /etc/default/sbd.
Each check also shows it can fail: a broken variant of the same file must be refused."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib, render
from sanappliance.cluster.model import SbdSpec
from tests.unit.cluster_samples import SBD0, SBD1, n_nodes, two_nodes

pytestmark = pytest.mark.image

TOOLS = ("usr/sbin/corosync", "usr/sbin/crm_verify", "usr/sbin/crm_simulate", "usr/sbin/cibadmin", "usr/sbin/sbd",
         "usr/sbin/fence_sbd", "usr/lib/ocf/resource.d/pacemaker/Dummy")
SPECS = {"two-nodes-two-links": two_nodes(), "two-nodes-lab": two_nodes(profile="lab"),
         "one-node": n_nodes(1), "three-nodes-lab": n_nodes(3, profile="lab")}


def test_the_tools_are_in_the_root(image_root):
    missing = [tool for tool in TOOLS if not (image_root.root / tool).exists()]
    assert not missing, f"{image_root.root} lacks {missing}: the image's package list changed?"


# --- corosync.conf -------------------------------------------------------------------------------------------------

def corosync_check(image_root, conf: str, hostname: str = "node1", key: bytes | None = None):
    files = {"corosync.conf": conf, "authkey": render.new_authkey() if key is None else key}
    return image_root.run(["/usr/sbin/corosync", "-t"], etc_corosync=files, hostname=hostname)


@pytest.mark.parametrize("name", SPECS)
def test_corosync_accepts_the_rendered_conf(image_root, name):
    result = corosync_check(image_root, render.render_corosync(SPECS[name]))
    assert result.returncode == 0, result.output


@pytest.mark.parametrize("breakage, hostname, key, reason", [
    (None, "node9", None, "No valid name found for local host"),
    (None, "node1", b"short" * 10, "minimum 1024 bits"),
    (("crypto_cipher: aes256", "crypto_cipher: aes999"), "node1", None, "Invalid cipher type"),
    (("nodeid: 2\n", "nodeid: 70000\n"), "node1", None, "less than 65536"),
    (("    node {\n        name: node1\n", "    node { name: node1\n"), "node1", None, "after opening bracket"),
], ids=["host-not-in-nodelist", "short-authkey", "unknown-cipher", "nodeid-above-knet-limit", "key-on-node-line"])
def test_corosync_refuses_a_broken_conf(image_root, breakage, hostname, key, reason):
    conf = render.render_corosync(two_nodes()).replace("to_stderr: no", "to_stderr: yes")  # to read the reason
    if breakage:
        assert breakage[0] in conf
        conf = conf.replace(*breakage)
    result = corosync_check(image_root, conf, hostname, key)
    assert result.returncode != 0 and reason in result.stdout + result.stderr, result.output


# --- CIB: crm_verify -----------------------------------------------------------------------------------------------

def crm_verify(image_root, xml: str):
    return image_root.run(["/usr/sbin/crm_verify", "--verbose", "--xml-file", "/tmp/cib.xml"], {"cib.xml": xml})


@pytest.mark.parametrize("name", SPECS)
def test_crm_verify_accepts_the_rendered_cib_without_a_warning(image_root, name):
    result = crm_verify(image_root, cib.render_cib(SPECS[name]))
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.output


def test_crm_verify_accepts_admin_choices_and_forced_fencing_off(image_root):
    spec = two_nodes(properties={"no-quorum-policy": "freeze", "stonith-timeout": "2min", "stonith-action": "off",
                                 "resource-stickiness": "INFINITY"})
    assert crm_verify(image_root, cib.render_cib(spec)).returncode == 0
    off = replace(spec, properties={"stonith-enabled": "false"}, allow_no_fencing=True, sbd=SbdSpec(()))
    result = crm_verify(image_root, cib.render_cib(off))
    assert result.returncode == 0, result.output


def without_fence(xml: str) -> str:
    return re.sub(r"<primitive id=\"fence-sbd\".*?</primitive>", "", xml, flags=re.S)


@pytest.mark.parametrize("breakage", [
    without_fence,  # fencing on, no fence device: Pacemaker refuses to start resources
    lambda xml: xml.replace('class="stonith" ', ""),  # schema: a primitive needs its class
    lambda xml: xml.replace('value="20s"', 'value="soon"'),  # schema (4.0): stonith-timeout is a duration
    lambda xml: xml.replace('name="no-quorum-policy" value="stop"', 'name="no-quorum-policy" value="panic"'),
], ids=["no-fence-device", "primitive-without-class", "timeout-not-a-duration", "unknown-no-quorum-policy"])
def test_crm_verify_refuses_a_broken_cib(image_root, breakage):
    good = cib.render_cib(two_nodes())
    bad = breakage(good)
    assert bad != good
    result = crm_verify(image_root, bad)
    assert result.returncode != 0, result.output


# --- CIB: the validated push ---------------------------------------------------------------------------------------

def test_merge_verify_push_on_a_file_backed_cib(image_root):
    """The push as the apply layer runs it, against a CIB file (CIB_file) standing in for the live cluster: a CIB
    with foreign content, merged, verified, replaced; then a push built on an older CIB is refused."""
    live = cib.render_cib(n_nodes(2, profile="lab"))
    live = live.replace("</constraints>", '<rsc_location id="web-prefers-node1" rsc="web" node="node1" '
                                          'score="50" /></constraints>')
    assert "web-prefers-node1" in live
    live = live.replace("</resources>", '<primitive id="web" class="ocf" provider="pacemaker" type="Dummy" />'
                                        "</resources>")
    new = cib.merge_cib(live, two_nodes())
    env = {"CIB_file": "/tmp/live.xml"}
    argv = ["sh", "-ec", " ".join(cib.verify_argv("/tmp/new.xml")) + " && " + " ".join(cib.push_argv("/tmp/new.xml"))
            + " && /usr/sbin/crm_verify --live-check --verbose"]
    result = image_root.run(argv, {"live.xml": live, "new.xml": new}, env=env, keep=("live.xml",))
    assert result.returncode == 0, result.output
    pushed = ET.fromstring(result.files["live.xml"])
    assert pushed.find(".//primitive[@id='web']") is not None
    assert pushed.find(".//rsc_location[@id='web-prefers-node1']") is not None
    assert pushed.find(f".//rsc_location[@id='{cib.GATE_ID}']") is not None
    assert pushed.find(".//nvpair[@id='fence-sbd-instance_attributes-devices']").get("value") == f"{SBD0},{SBD1}"
    assert pushed.find(".//nvpair[@name='stonith-timeout']").get("value") == "20s"
    stale = result.files["live.xml"].replace(pushed.get("epoch"), str(int(pushed.get("epoch")) + 5), 1)
    refused = image_root.run(cib.push_argv("/tmp/new.xml"), {"live.xml": stale, "new.xml": new}, env=env)
    assert refused.returncode != 0 and "older" in refused.output, refused.output


# --- CIB: placement by the real scheduler --------------------------------------------------------------------------

def with_dummy(xml: str, prefer: str = "node1") -> str:
    """The rendered CIB plus a Dummy resource that prefers `prefer` (score 50, below the stickiness of 100)."""
    xml = xml.replace("</constraints>", f'<rsc_location id="dummy-prefers-{prefer}" rsc="dummy" '
                                        f'node="{prefer}" score="50" /></constraints>')
    return xml.replace("</resources>", '<primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy">'
                                       '<operations><op id="dummy-monitor-10s" name="monitor" interval="10s" />'
                                       "</operations></primitive></resources>")


def run_simulation(image_root, xml: str, *changes: str) -> tuple[str, str, dict[str, dict[str, list[str]]]]:
    """Run the scheduler with `changes` and execute its transition: the transcript, the resulting CIB, and for each
    resource the nodes it is on by role (Started, Promoted, Unpromoted)."""
    step = image_root.run(["/usr/sbin/crm_simulate", "--xml-file", "/tmp/in.xml", "--simulate", *changes,
                           "--save-output", "/tmp/out.xml"], {"in.xml": xml}, keep=("out.xml",))
    assert step.returncode == 0 and "out.xml" in step.files, step.output
    after = image_root.run(["/usr/sbin/crm_simulate", "--xml-file", "/tmp/in.xml", "--output-as=xml"],
                           {"in.xml": step.files["out.xml"]})
    assert after.returncode == 0, after.output
    roles: dict[str, dict[str, list[str]]] = {}
    for rsc in ET.fromstring(after.stdout).iter("resource"):
        for node in rsc.findall("node"):
            roles.setdefault(rsc.get("id").split(":")[0], {}).setdefault(rsc.get("role"), []).append(node.get("name"))
    return step.stdout, step.files["out.xml"], roles


def simulate(image_root, xml: str, *changes: str) -> tuple[str, str, dict[str, list[str]]]:
    """run_simulation, with where each resource runs afterwards (its Started instances)."""
    transcript, out, roles = run_simulation(image_root, xml, *changes)
    return transcript, out, {rsc: nodes["Started"] for rsc, nodes in roles.items() if "Started" in nodes}


def test_node1_fails_and_its_resources_go_to_node2(image_root):
    xml = with_dummy(cib.render_cib(two_nodes()))
    _, xml, placement = simulate(image_root, xml, "--quorum", "1", "--node-up", "node1", "--node-up", "node2")
    assert placement["dummy"] == ["node1"] and len(placement["fence-sbd"]) == 1

    transcript, xml, placement = simulate(image_root, xml, "--node-fail", "node1")
    assert "Fencing node1 (reboot)" in transcript, transcript
    assert placement == {"dummy": ["node2"], "fence-sbd": ["node2"]}

    transcript, _, placement = simulate(image_root, xml, "--node-up", "node1")
    assert placement["dummy"] == ["node2"], transcript  # stickiness 100 beats the preference of 50: no failback


def fence_event(image_root, xml: str, node: str) -> tuple[dict[str, str], dict[str, str]]:
    """The scheduler's transition graph when `node` is lost: the graph's options and the fence event's attributes."""
    result = image_root.run(["/usr/sbin/crm_simulate", "--xml-file", "/tmp/in.xml", "--simulate", "--node-fail", node,
                             "--save-graph", "/tmp/graph.xml"], {"in.xml": xml}, keep=("graph.xml",))
    assert result.returncode == 0 and "graph.xml" in result.files, result.output
    graph = ET.fromstring(result.files["graph.xml"])
    events = [ev for ev in graph.iter("crm_event") if ev.get("operation") == "stonith" and ev.find("attributes")
              is not None and ev.get("on_node") == node]
    assert events, result.files["graph.xml"]
    return graph.attrib, events[0].find("attributes").attrib


def test_the_node_serving_resources_wins_a_split(image_root):
    """Two nodes: fencing the node that runs resources waits priority-fencing-delay (10 s), fencing the other one
    does not (the fence device itself has priority 0), so in a split the node serving the storage shoots first."""
    xml = with_dummy(cib.render_cib(two_nodes()))
    _, xml, placement = simulate(image_root, xml, "--quorum", "1", "--node-up", "node1", "--node-up", "node2")
    assert placement == {"dummy": ["node1"], "fence-sbd": ["node2"]}
    options, serving = fence_event(image_root, xml, "node1")
    assert serving["CRM_meta_priority_fencing_delay"] == "10" and serving["CRM_meta_stonith_action"] == "reboot"
    assert options["stonith-timeout"] == "20s"
    _, idle = fence_event(image_root, xml, "node2")
    assert idle.get("CRM_meta_priority_fencing_delay", "0") == "0"


def test_stonith_action_off_is_what_the_scheduler_asks_for(image_root):
    xml = with_dummy(cib.render_cib(two_nodes(properties={"stonith-action": "off"})))
    _, xml, _ = simulate(image_root, xml, "--quorum", "1", "--node-up", "node1", "--node-up", "node2")
    transcript, _, _ = simulate(image_root, xml, "--node-fail", "node2")
    assert "Fencing node2 (off)" in transcript, transcript


def test_without_quorum_resources_stop(image_root):
    """Three nodes, two lost: the survivor has no quorum and no-quorum-policy=stop stops the Dummy, fences nobody."""
    xml = with_dummy(cib.render_cib(n_nodes(3)), prefer="node3")
    up = [arg for i in (1, 2, 3) for arg in ("--node-up", f"node{i}")]
    _, xml, placement = simulate(image_root, xml, "--quorum", "1", *up)
    assert placement["dummy"] == ["node3"]
    transcript, _, placement = simulate(image_root, xml, "--quorum", "0", "--node-fail", "node1",
                                        "--node-fail", "node2")
    assert "dummy" not in placement and "Fencing" not in transcript, transcript


# --- /etc/default/sbd ----------------------------------------------------------------------------------------------

def test_sbd_config_reads_back_in_the_images_sh(image_root):
    spec = two_nodes(profile="lab")
    script = '. /tmp/sbd && printf "%s|%s|%s|%s" "$SBD_DEVICE" "$SBD_WATCHDOG_TIMEOUT" "$SBD_DELAY_START" "$SBD_OPTS"'
    result = image_root.run(["/bin/sh", "-ec", script], {"sbd": render.render_sbd_config(spec)})
    assert result.returncode == 0, result.output
    assert result.stdout == f"{SBD0};{SBD1}|15|82|"
