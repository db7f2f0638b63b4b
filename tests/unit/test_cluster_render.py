"""Timeouts per profile, corosync.conf, /etc/default/sbd, the sbd argv and the CIB (built and merged), pure.
tests/image/test_cluster_tools.py runs the same renders through the image's corosync, crm_verify and crm_simulate."""

import shlex
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib, render, timeouts
from sanappliance.cluster.model import Node, SbdSpec
from sanappliance.errors import SanError

from .cluster_samples import SBD0, SBD1, n_nodes, two_nodes

# --- timeouts ------------------------------------------------------------------------------------------------------

def test_production_profile():
    t = timeouts.derive("production", 2)
    assert (t.token_ms, t.consensus_ms, t.watchdog_timeout, t.msgwait, t.stonith_timeout) == (3000, 3600, 5, 10, 20)
    assert (t.pcmk_delay_max, t.priority_fencing_delay, t.sbd_delay_start, t.sbd_start_timeout) == (5, 10, 0, 0)


def test_lab_profile():
    t = timeouts.derive("lab", 2)
    assert (t.token_ms, t.consensus_ms, t.watchdog_timeout, t.msgwait, t.stonith_timeout) == (10000, 12000, 15, 30, 40)
    assert (t.pcmk_delay_max, t.priority_fencing_delay) == (10, 20)
    assert t.sbd_delay_start == 22 + 10 + 20 + 30  # token + consensus + both fence delays + msgwait
    assert t.sbd_start_timeout >= 1.2 * t.sbd_delay_start


@pytest.mark.parametrize("watchdog, msgwait, stonith", [(5, 10, 20), (15, 30, 40), (30, 60, 72), (60, 120, 144)])
def test_derivations(watchdog, msgwait, stonith):
    assert timeouts.msgwait_for(watchdog) == msgwait
    assert timeouts.stonith_timeout_for(msgwait) == stonith
    t = timeouts.derive("production", 2, watchdog_timeout=watchdog)
    assert t.stonith_timeout > t.msgwait and t.stonith_timeout >= t.msgwait + 10


def test_fence_delays_only_for_two_nodes():
    for nodes in (1, 3, 5):
        t = timeouts.derive("production", nodes)
        assert t.pcmk_delay_max == 0 and t.priority_fencing_delay == 0
    assert timeouts.derive("production", 2, fence_delay_max=0).priority_fencing_delay == 0
    assert timeouts.derive("production", 2, fence_delay_max=8).priority_fencing_delay == 16


def test_token_grows_with_nodes_as_corosync_does():
    t = timeouts.derive("production", 4)
    assert t.token_ms == 3000 and t.effective_token_ms == 3000 + 2 * 650
    assert t.consensus_ms == 1.2 * t.effective_token_ms


def test_unknown_profile():
    with pytest.raises(SanError) as err:
        timeouts.derive("turbo", 2)
    assert err.value.field == "profile" and err.value.value == "turbo"


# --- corosync.conf -------------------------------------------------------------------------------------------------

def blocks(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_corosync_two_nodes_two_links():
    lines = blocks(render.render_corosync(two_nodes()))
    assert lines[:12] == ["totem {", "version: 2", "cluster_name: san", "transport: knet", "crypto_cipher: aes256",
                          "crypto_hash: sha256", "keyfile: /etc/corosync/authkey", "token: 3000", "consensus: 3600",
                          "link_mode: passive", "interface {", "linknumber: 0"]
    text = "\n".join(lines)
    assert "linknumber: 0\nknet_link_priority: 2\n}\ninterface {\nlinknumber: 1\nknet_link_priority: 1" in text
    assert ("node {\nname: node2\nnodeid: 2\nring0_addr: 10.0.0.2\nring1_addr: 10.0.1.2\n}" in text)  # prefix gone
    assert "quorum {\nprovider: corosync_votequorum\ntwo_node: 1\n}" in text
    assert "logging {\nto_syslog: yes\nto_stderr: no" in text


def test_corosync_node_blocks_open_alone_on_their_line():
    for line in render.render_corosync(two_nodes()).splitlines():
        if line.rstrip().endswith("{"):
            assert line.strip().split()[-1] == "{" and len(line.split()) == 2, line


def test_corosync_one_link_three_nodes_and_lab():
    text = render.render_corosync(n_nodes(3, profile="lab"))
    assert "two_node" not in text and "knet_link_priority" not in text and "link_mode" not in text
    assert "token: 10000\n" in text and "consensus: 12780\n" in text  # 1.2 x (10000 + 650)
    assert text.count("node {") == 3 and "ring1_addr" not in text


def test_authkey():
    key = render.new_authkey()
    assert len(key) == 256 and key != render.new_authkey()


# --- sbd -----------------------------------------------------------------------------------------------------------

def sbd_values(text: str) -> dict[str, str]:
    return dict(shlex.split(line)[0].split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_sbd_config_production():
    values = sbd_values(render.render_sbd_config(two_nodes()))
    assert values == {"SBD_DEVICE": f"{SBD0};{SBD1}", "SBD_PACEMAKER": "yes", "SBD_STARTMODE": "always",
                      "SBD_DELAY_START": "no", "SBD_WATCHDOG_DEV": "/dev/watchdog", "SBD_WATCHDOG_TIMEOUT": "5",
                      "SBD_TIMEOUT_ACTION": "flush,reboot", "SBD_MOVE_TO_ROOT_CGROUP": "auto",
                      "SBD_SYNC_RESOURCE_STARTUP": "yes", "SBD_OPTS": ""}
    assert render.render_sbd_dropin(two_nodes()) is None


def test_sbd_config_lab():
    spec = two_nodes(profile="lab", sbd=SbdSpec((SBD0,), watchdog_device="/dev/watchdog0"))
    values = sbd_values(render.render_sbd_config(spec))
    assert values["SBD_WATCHDOG_TIMEOUT"] == "15" and values["SBD_DELAY_START"] == "82"
    assert values["SBD_WATCHDOG_DEV"] == "/dev/watchdog0" and values["SBD_DEVICE"] == SBD0
    assert "TimeoutStartSec=109\n" in render.render_sbd_dropin(spec)


def test_sbd_argv():
    assert render.sbd_create_argv(two_nodes()) == ["/usr/sbin/sbd", "-d", SBD0, "-d", SBD1, "-1", "5", "-4", "10",
                                                   "create"]
    spec = two_nodes(sbd=SbdSpec((SBD0,), watchdog_timeout=20))
    assert render.sbd_create_argv(spec)[-5:] == ["-1", "20", "-4", "40", "create"]
    assert render.sbd_dump_argv(spec) == ["/usr/sbin/sbd", "-d", SBD0, "dump"]


# --- CIB -----------------------------------------------------------------------------------------------------------

def nvpairs(root: ET.Element, set_id: str) -> dict[str, str]:
    nvset = root.find(f".//*[@id='{set_id}']")
    return {p.get("name"): p.get("value") for p in nvset.findall("nvpair")}


def test_cib_document():
    root = ET.fromstring(cib.render_cib(two_nodes()))
    assert root.get("validate-with") == "pacemaker-4.0" and root.get("epoch") == "1"
    assert [c.tag for c in root.find("configuration")] == ["crm_config", "nodes", "resources", "constraints",
                                                            "rsc_defaults"]
    assert nvpairs(root, "cib-bootstrap-options") == {
        "stonith-enabled": "true", "stonith-action": "reboot", "stonith-timeout": "20s", "no-quorum-policy": "stop",
        "priority-fencing-delay": "10s", "stonith-watchdog-timeout": "0", "cluster-name": "san"}
    assert nvpairs(root, "rsc-options") == {"resource-stickiness": "100", "priority": "1"}
    fence = root.find(".//primitive[@id='fence-sbd']")
    assert (fence.get("class"), fence.get("type")) == ("stonith", "fence_sbd")
    assert nvpairs(root, "fence-sbd-instance_attributes") == {"devices": f"{SBD0},{SBD1}", "pcmk_delay_max": "5s"}
    assert fence.find("operations/op").attrib == {"id": "fence-sbd-monitor-interval-300s", "name": "monitor",
                                                  "interval": "300s", "timeout": "30s"}
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert cib.render_cib(two_nodes()) == cib.render_cib(two_nodes())  # deterministic


def test_cib_three_nodes_has_no_fence_delay_and_admin_values():
    spec = n_nodes(3, profile="lab", properties={"stonith-timeout": "90s", "resource-stickiness": "INFINITY"})
    root = ET.fromstring(cib.render_cib(spec))
    assert "pcmk_delay_max" not in nvpairs(root, "fence-sbd-instance_attributes")
    options = nvpairs(root, "cib-bootstrap-options")
    assert options["priority-fencing-delay"] == "0s" and options["stonith-timeout"] == "90s"
    assert nvpairs(root, "rsc-options")["resource-stickiness"] == "INFINITY"


LIVE = """<cib validate-with="pacemaker-4.0" admin_epoch="0" epoch="41" num_updates="7" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-have-watchdog" name="have-watchdog" value="true"/>
        <nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="3.0.0"/>
        <nvpair id="old-stonith" name="stonith-timeout" value="60s"/>
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="fence-sbd" class="stonith" type="fence_sbd">
        <instance_attributes id="fence-sbd-instance_attributes">
          <nvpair id="fence-sbd-instance_attributes-devices" name="devices" value="/dev/disk/by-id/old"/>
        </instance_attributes>
      </primitive>
      <primitive id="web" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints><rsc_location id="web-prefers-node1" rsc="web" node="node1" score="50"/></constraints>
  </configuration>
  <status><node_state id="1" uname="node1"><lrm id="1"><lrm_resources><lrm_resource id="web"/></lrm_resources></lrm>
  </node_state><node_state id="2" uname="node2"><lrm id="2"><lrm_resources><lrm_resource id="web"/></lrm_resources>
  </lrm></node_state></status>
</cib>"""


def test_merge_replaces_ours_and_keeps_the_rest():
    root = ET.fromstring(cib.merge_cib(LIVE, two_nodes()))
    assert (root.get("epoch"), root.get("num_updates"), root.get("dc-uuid")) == ("42", "0", "1")
    options = nvpairs(root, "cib-bootstrap-options")
    assert options["dc-version"] == "3.0.0" and options["have-watchdog"] == "true"  # Pacemaker's own: kept
    assert options["stonith-enabled"] == "true" and options["stonith-timeout"] == "20s"  # ours: replaced
    names = [p.get("name") for p in root.findall(".//cluster_property_set/nvpair")]
    assert len(names) == len(set(names))  # the old stonith-timeout (other id, same name) is gone
    assert nvpairs(root, "fence-sbd-instance_attributes")["devices"] == f"{SBD0},{SBD1}"
    assert [p.get("id") for p in root.find("configuration/resources")] == ["fence-sbd", "web"]
    assert root.find(".//rsc_location").get("id") == "web-prefers-node1"
    assert len(root.findall("status/node_state")) == 2 and len(root.findall("configuration/nodes/node")) == 2
    assert [c.tag for c in root.find("configuration")][-1] == "rsc_defaults"


def test_merge_is_idempotent_but_for_the_epoch():
    once = cib.merge_cib(LIVE, two_nodes())
    twice = cib.merge_cib(once, two_nodes())
    assert twice.replace('epoch="43"', 'epoch="42"') == once


def test_merge_drops_the_fence_delay_when_a_third_node_joins():
    spec = two_nodes()
    grown = replace(spec, nodes=(*spec.nodes, Node("node3", 3, ("10.0.0.3/24", "10.0.1.3/24"))))
    root = ET.fromstring(cib.merge_cib(cib.render_cib(spec), grown))
    assert "pcmk_delay_max" not in nvpairs(root, "fence-sbd-instance_attributes")
    assert nvpairs(root, "cib-bootstrap-options")["priority-fencing-delay"] == "0s"


def test_merge_removes_the_fence_device_when_fencing_is_forced_off():
    off = two_nodes(properties={"stonith-enabled": "false"}, allow_no_fencing=True, sbd=SbdSpec(()))
    root = ET.fromstring(cib.merge_cib(LIVE, off))
    assert [p.get("id") for p in root.find("configuration/resources")] == ["web"]
    assert nvpairs(root, "cib-bootstrap-options")["stonith-enabled"] == "false"


@pytest.mark.parametrize("text, message", [
    ("<cib><configuration>", "well-formed"),
    ("<cluster/>", "not a CIB"),
    (LIVE.replace('id="web-prefers-node1"', 'id="rsc-options"'), "elsewhere"),
    (LIVE.replace('epoch="41"', 'epoch="x"'), "epoch"),
])
def test_merge_refuses(text, message):
    with pytest.raises(SanError, match=message) as err:
        cib.merge_cib(text, two_nodes())
    assert err.value.field.startswith("cib")


def test_push_argvs():
    assert cib.verify_argv("/run/x.xml") == ["/usr/sbin/crm_verify", "--verbose", "--xml-file", "/run/x.xml"]
    assert cib.push_argv("/run/x.xml") == ["/usr/sbin/cibadmin", "--replace", "--xml-file", "/run/x.xml"]
