"""Cluster init over a stand-in host: validated first, nothing written on bad input, the steps in order; crm_mon's
XML parsed into status (the real tools run in tests/vm/test_cluster_init.py)."""

import pytest

from sanappliance.cluster.status import parse
from sanappliance.errors import SanError
from sanappliance.service import cluster
from sanappliance.service.env import Env

from .fakes import FakeSystem, MemoryStore

SBD = "/dev/disk/by-id/virtio-sbd0"


class Disk:
    def __init__(self, path, in_use=""):
        self.path, self.in_use, self.size, self.model, self.serial = path, in_use, 64 * 2**20, "", ""


class FakeHost:
    def __init__(self):
        self.spec, self.steps = None, []

    def read_spec(self):
        return self.spec

    def hostname(self):
        return "node1"

    def write_files(self, spec, authkey):
        self.steps.append(("write", authkey and len(authkey)))
        self.spec = spec

    def init_sbd(self, spec):
        self.steps.append(("sbd", spec.sbd.devices))
        return "==Header on disk"

    def sbd_dump(self, spec):
        return ""

    def start_stack(self):
        self.steps.append(("start",))

    def wait_settled(self, node, timeout=600.0):
        self.steps.append(("settled", node))

    def query_cib(self, timeout=300.0):
        return '<cib epoch="3" admin_epoch="0" num_updates="1" validate-with="pacemaker-4.0"><configuration>' \
               "<crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"

    def push_cib(self, text):
        self.steps.append(("push", 'epoch="4"' in text and "fence_sbd" in text))

    def status_xml(self):
        return STATUS


@pytest.fixture
def env():
    system = FakeSystem()
    system.disks = lambda config: [Disk(SBD), Disk("/dev/disk/by-id/virtio-sanroot", "mounted")]
    return Env(MemoryStore(), system)


def test_init_runs_the_steps_in_order(env):
    host = FakeHost()
    result = cluster.init(env, host, "lab1", [SBD], ["10.0.0.11"], profile="lab")
    assert [s[0] for s in host.steps] == ["write", "sbd", "start", "settled", "push"]
    assert host.steps[0][1] == 256 and host.steps[4][1] is True
    assert result.spec.nodes[0].name == "node1" and result.spec.sbd.devices == (SBD,)
    with pytest.raises(SanError, match="in a cluster already"):
        cluster.init(env, host, "lab2", [SBD], ["10.0.0.11"], profile="lab")
    host.steps.clear()  # the same init again (after an interruption): finished, with the same key and SBD disks
    cluster.init(env, host, "lab1", [SBD], ["10.0.0.11"], profile="lab")
    assert [s[0] for s in host.steps] == ["write", "start", "settled", "push"] and host.steps[0][1] is None


@pytest.mark.parametrize("name, disks, addresses, field", [
    ("lab1", ["/dev/disk/by-id/virtio-nope"], ["10.0.0.11"], "sbd.devices[0]"),
    ("lab1", ["/dev/disk/by-id/virtio-sanroot"], ["10.0.0.11"], "sbd.devices[0]"),
    ("lab1", ["/dev/sdb"], ["10.0.0.11"], "sbd.devices[0]"),
    ("Bad_Name", [SBD], ["10.0.0.11"], "name"),
    ("lab1", [SBD], ["300.0.0.1"], "nodes[0].addresses[0]"),
])
def test_bad_input_writes_nothing(env, name, disks, addresses, field):
    host = FakeHost()
    with pytest.raises(SanError) as err:
        cluster.init(env, host, name, disks, addresses)
    assert err.value.field == field
    assert host.steps == []


def test_dry_run_shows_the_plan_only(env):
    host = FakeHost()
    result = cluster.init(Env(env.store, env.system, dry_run=True), host, "lab1", [SBD], ["10.0.0.11"])
    assert result.dry_run and host.steps == [] and any("sbd -d" in step for step in result.plan)


STATUS = """<pacemaker-result api-version="2.38" request="crm_mon --output-as=xml">
  <summary>
    <stack type="corosync" pacemakerd-state="running"/>
    <current_dc present="true" version="3.0.0" name="node1" id="1" with_quorum="true" mixed_version="false"/>
    <nodes_configured number="2"/>
  </summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false"
          pending="false" unclean="false" health="green" feature_set="3.20.0" shutdown="false" expected_up="true"
          is_dc="true" resources_running="1" type="member"/>
    <node name="node2" id="2" online="false" standby="false" standby_onfail="false" maintenance="false"
          pending="false" unclean="true" health="green" feature_set="" shutdown="false" expected_up="true"
          is_dc="false" resources_running="0" type="member"/>
  </nodes>
  <resources>
    <resource id="fence-sbd" resource_agent="stonith:fence_sbd" role="Started" active="true" orphaned="false"
              blocked="false" maintenance="false" managed="true" failed="false" failure_ignored="false"
              nodes_running_on="1">
      <node name="node1" id="1" cached="true"/>
    </resource>
  </resources>
  <failures>
    <failure op_key="dummy_monitor_10000" node="node2" exitstatus="not running" exitreason="" exitcode="7"
             call="12" status="complete" last-rc-change="2026-11-25 17:00:00Z" queued="0" exec="0" interval="10000"
             task="monitor"/>
  </failures>
  <fence_history>
    <fence_event action="reboot" target="node2" client="pacemaker-controld.1234" origin="node1" status="success"
                 delegate="node1" completed="2026-11-25 17:01:00Z"/>
  </fence_history>
  <status code="0" message="OK"/>
</pacemaker-result>"""


def test_crm_mon_xml_becomes_status():
    state = parse(STATUS)
    assert state.summary() == "1/2 nodes online, quorate, DC node1"
    assert [(n.name, n.state) for n in state.nodes] == [("node1", "online"), ("node2", "unclean")]
    (fence,) = state.resources
    assert (fence.id, fence.agent, fence.role, fence.nodes) == ("fence-sbd", "stonith:fence_sbd", "Started", ("node1",))
    assert state.failures[0].resource == "dummy" and state.failures[0].task == "monitor"
    assert state.fencing == ("node2 reboot by node1: success",)
    with pytest.raises(SanError):
        parse("<not xml")
