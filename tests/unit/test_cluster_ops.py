"""Daily cluster operations over a stand-in host holding a CIB in memory (pure logic: what is checked first, that
nothing is pushed on bad input or a dry run, the retry when the CIB moved on, the fencing self-test's verdicts,
backup files checked before a restore). The real pacemaker runs these edits in tests/image/test_cluster_ops_tools.py
and on live clusters in tests/vm/test_cluster_form.py."""

import json
import xml.etree.ElementTree as ET

import pytest

from sanappliance.cluster import cib, edits
from sanappliance.errors import CONFLICT, SanError
from sanappliance.service import cluster_backup, cluster_ops
from sanappliance.service.env import Env

from .cluster_samples import two_nodes
from .fakes import FakeSystem, MemoryStore

CRM_MON = """<pacemaker-result><summary><current_dc present="true" name="node1" with_quorum="true"/></summary>
<nodes><node name="node1" online="true"/><node name="node2" online="{online}"/></nodes>
<resources><resource id="fence-sbd" resource_agent="stonith:fence_sbd" role="Started" failed="false">
<node name="node2"/></resource></resources></pacemaker-result>"""


def live_cib() -> str:
    xml = cib.render_cib(two_nodes())
    xml = xml.replace("<nodes />", '<nodes><node id="1" uname="node1" /><node id="2" uname="node2" /></nodes>')
    return xml.replace("</resources>", '<primitive id="san-dummy" class="ocf" provider="pacemaker" type="Dummy" />'
                                       "</resources>")


class Host:
    def __init__(self, spec=None):
        self.spec, self.cib, self.pushes, self.conflicts = spec or two_nodes(), live_cib(), 0, 0
        self.online, self.slots_answer, self.fenced, self.files = "true", True, [], {}
        self.sent = []

    def read_spec(self):
        return self.spec

    def hostname(self):
        return "node1"

    def query_cib(self, timeout=0):
        return self.cib

    def push_cib(self, text):
        if self.conflicts:
            self.conflicts -= 1
            self.cib = edits.apply(self.cib)  # somebody else's change: the epoch moved on
            raise SanError("changed", field="cib", kind=CONFLICT)
        assert int(ET.fromstring(text).get("epoch")) > int(ET.fromstring(self.cib).get("epoch"))
        self.cib, self.pushes = text, self.pushes + 1

    def status_xml(self):
        return CRM_MON.format(online=self.online)

    def cleanup(self, resource, node):
        return f"Cleaned up {resource} on {node}\n"

    def fence(self, node, action, timeout):
        self.fenced.append((node, action, timeout))

    def fence_devices_for(self, node):
        return ["fence-sbd"]

    def sbd_message(self, spec, node, message):
        self.sent.append((node, message))

    def sbd_slots(self, spec):
        return {d: {n.name: "clear" if self.slots_answer else "test" for n in spec.nodes} for d in spec.sbd.devices}

    def write_private(self, path, text):
        self.files[str(path)] = text

    def read_text(self, path):
        return self.files[str(path)]


def env(dry_run=False):
    return Env(MemoryStore(), FakeSystem(), dry_run)


def node_attr(host, node, name):
    _, config = cib.parse_cib(host.cib)
    el = edits.node_element(config, node)
    return next((p.get("value") for p in el.iterfind("instance_attributes/nvpair") if p.get("name") == name), None)


def test_standby_and_online():
    host = Host()
    cluster_ops.standby(env(), host, "node2", True)
    assert node_attr(host, "node2", "standby") == "on" and host.pushes == 1
    cluster_ops.standby(env(), host, "node2", False)
    assert node_attr(host, "node2", "standby") is None
    assert ET.fromstring(host.cib).find(".//node[@uname='node2']/instance_attributes") is None


@pytest.mark.parametrize("call, field", [
    (lambda e, h: cluster_ops.standby(e, h, "node9"), "node"),
    (lambda e, h: cluster_ops.move(e, h, "nope", "node2"), "resource"),
    (lambda e, h: cluster_ops.move(e, h, "san-dummy", "node9"), "node"),
    (lambda e, h: cluster_ops.set_running(e, h, "nope", False), "resource"),
    (lambda e, h: cluster_ops.clear(e, h, "san-dummy"), "resource"),  # nothing to clear
    (lambda e, h: cluster_ops.cleanup(e, h, "nope"), "resource"),
    (lambda e, h: cluster_ops.fence(e, h, "node1"), "node"),  # itself
    (lambda e, h: cluster_ops.fence(e, h, "node2", "explode"), "action"),
])
def test_bad_input_names_the_field_and_pushes_nothing(call, field):
    host = Host()
    before = host.cib
    with pytest.raises(SanError) as err:
        call(env(), host)
    assert err.value.field == field
    assert host.cib == before and host.pushes == 0 and not host.fenced


def test_dry_run_pushes_nothing():
    host = Host()
    result = cluster_ops.move(env(dry_run=True), host, "san-dummy", "node2")
    assert result.dry_run and "cli-prefer-san-dummy" in result.plan[0] and host.pushes == 0
    assert cluster_ops.fence(env(dry_run=True), host, "node2").dry_run and not host.fenced


def test_move_and_clear():
    host = Host()
    cluster_ops.move(env(), host, "san-dummy", "node2")
    loc = ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-dummy']")
    assert loc.get("node") == "node2" and loc.get("score") == "INFINITY" and loc.get("role") is None
    cluster_ops.move(env(), host, "san-dummy", "node1")  # replaces the earlier move
    assert len(ET.fromstring(host.cib).findall(".//rsc_location[@rsc='san-dummy']")) == 1
    cluster_ops.clear(env(), host, "san-dummy")
    assert ET.fromstring(host.cib).find(".//rsc_location[@rsc='san-dummy']") is None


def test_moving_a_promotable_clone_moves_its_promoted_role_and_a_member_is_refused():
    host = Host()
    host.cib = host.cib.replace("</resources>", '<clone id="san-c"><meta_attributes id="san-c-meta">'
                                '<nvpair id="san-c-p" name="promotable" value="true"/></meta_attributes>'
                                '<primitive id="san-c-rsc" class="ocf" provider="pacemaker" type="Stateful"/>'
                                "</clone></resources>")
    cluster_ops.move(env(), host, "san-c", "node2")
    assert ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-c']").get("role") == "Promoted"
    with pytest.raises(SanError, match="part of san-c"):
        cluster_ops.move(env(), host, "san-c-rsc", "node2")
    with pytest.raises(SanError, match="part of san-c: clear that instead"):
        cluster_ops.clear(env(), host, "san-c-rsc")
    cluster_ops.clear(env(), host, "san-c")
    assert ET.fromstring(host.cib).find(".//rsc_location[@rsc='san-c']") is None


def test_stop_start_and_maintenance():
    host = Host()
    cluster_ops.set_running(env(), host, "san-dummy", False)
    assert 'name="target-role" value="Stopped"' in host.cib
    cluster_ops.set_running(env(), host, "san-dummy", True)
    assert "target-role" not in host.cib
    cluster_ops.maintenance(env(), host, True)
    assert 'name="maintenance-mode" value="true"' in host.cib
    cluster_ops.maintenance(env(), host, False)
    assert "maintenance-mode" not in host.cib


def test_a_push_refused_for_an_older_epoch_is_redone_on_the_new_cib():
    host = Host()
    host.conflicts = 2
    cluster_ops.standby(env(), host, "node1", True)
    assert host.pushes == 1 and node_attr(host, "node1", "standby") == "on"
    host.conflicts = 5
    with pytest.raises(SanError) as err:
        cluster_ops.standby(env(), host, "node1", False)
    assert err.value.kind == CONFLICT


def test_fencing_self_test_passes_and_marks_every_node():
    host = Host()
    assert cluster_ops.untested_nodes(host) == ["node1", "node2"]
    with pytest.raises(SanError, match="fencing is not proven on node1, node2"):
        cluster_ops.require_fencing_tested(host)
    result = cluster_ops.fencing_test(env(), host)
    assert result.passed, result.lines
    assert sorted(host.sent) == [("node1", "test"), ("node2", "test")]
    assert cluster_ops.untested_nodes(host) == []
    cluster_ops.require_fencing_tested(host)


def test_fencing_self_test_fails_for_a_node_that_is_offline_or_whose_sbd_does_not_answer(monkeypatch):
    monkeypatch.setattr(cluster_ops.time, "sleep", lambda s: None)
    clock = iter(range(0, 10**6, 5))
    monkeypatch.setattr(cluster_ops.time, "monotonic", lambda: next(clock))
    host = Host()
    host.slots_answer = False
    result = cluster_ops.fencing_test(env(), host)
    assert not result.passed and any("FAIL sbd on node2 answers" in line for line in result.lines)
    assert cluster_ops.untested_nodes(host) == ["node1", "node2"] and host.pushes == 0
    host = Host()
    host.online = "false"
    result = cluster_ops.fencing_test(env(), host)
    assert "FAIL node node2: not online: it cannot be tested" in result.lines and host.pushes == 0


def test_backup_and_restore_round_trip_and_bad_files_change_nothing():
    host, e = Host(), env()
    cluster_ops.standby(e, host, "node2", True)
    cluster_backup.backup(e, host, "/root/b.json")
    saved = json.loads(host.files["/root/b.json"])
    assert saved["format"] == "sanappliance-cluster-backup" and saved["cluster"]["name"] == "san"
    wanted = edits.configuration(host.cib)
    host.cib = edits.apply(host.cib, lambda config: config.find("resources").clear())
    assert edits.configuration(host.cib) != wanted
    for name, text, field in (("bad.json", "{", "file"), ("other.json", json.dumps({"format": "x"}), "format"),
                              ("v2.json", json.dumps({**saved, "version": 2}), "version"),
                              ("nocib.json", json.dumps({k: v for k, v in saved.items() if k != "cib"}), "cib"),
                              ("badcib.json", json.dumps({**saved, "cib": "<cib"}), "cib"),
                              ("name.json", json.dumps({**saved, "cluster": {**saved["cluster"], "name": "x"}}),
                               "cluster.name")):
        host.files[name] = text
        before = host.cib
        with pytest.raises(SanError) as err:
            cluster_backup.restore(e, host, name)
        assert err.value.field == field, (name, err.value)
        assert host.cib == before
    cluster_backup.restore(e, host, "/root/b.json")
    assert edits.configuration(host.cib) == wanted
