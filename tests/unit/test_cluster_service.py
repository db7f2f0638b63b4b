"""Cluster init over a stand-in host: validated first, nothing written on bad input, the steps in order; crm_mon's
XML parsed into status (the real tools run in tests/vm/test_cluster_init.py)."""

import pytest

from sanappliance.cluster.status import parse
from sanappliance.errors import SanError
from sanappliance.service import cluster
from sanappliance.service.env import Env

from .cluster_samples import two_nodes
from .fakes import FakeSystem, MemoryStore

SBD = "/dev/disk/by-id/virtio-sbd0"


class Disk:
    def __init__(self, path, in_use=""):
        self.path, self.in_use, self.size, self.model, self.serial = path, in_use, 64 * 2**20, "", ""


class FakeHost:
    def __init__(self):
        self.spec, self.steps, self.hash, self.key = None, [], "", b"k" * 256

    def join_hash(self):
        return self.hash

    def set_join_hash(self, value):
        self.hash = value

    def api_fingerprint(self):
        return "ab" * 32

    def restart_stack(self):
        self.steps.append(("restart",))

    def authkey(self):
        return self.key

    def sbd_uuid(self, spec):
        return "uuid-1"

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


def test_init_moves_the_local_targets_from_0_0_0_0_to_the_node_s_addresses(env):
    from sanappliance.model.config import Config, Target, Tpg

    env.store.config = Config(targets=(Target("iqn.2026-12.org.example:here", (Tpg(),)),))
    env.system.node_addresses = ("10.0.3.11",)  # what the live system says once the node is in a cluster
    result = cluster.init(env, FakeHost(), "lab1", [SBD], ["10.0.0.11"], profile="lab")
    assert "local targets: create portal 10.0.3.11:3260 on iqn.2026-12.org.example:here tpg1" in result.plan
    assert set(env.system.lio.targets["iqn.2026-12.org.example:here"].tpgs[1].portals) == {("10.0.3.11", 3260)}


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


class JoiningHost(FakeHost):
    """node2: in no cluster; its calls to the peer go to `peer` (node1's FakeHost through the service functions)."""

    def __init__(self, peer, uuid="uuid-1"):
        super().__init__()
        self.peer, self.uuid, self.key = peer, uuid, b""

    def hostname(self):
        return "node2"

    def sbd_uuid(self, spec):
        return self.uuid

    def write_authkey(self, key):
        self.key = key

    def call_peer(self, address, pinned, user, secret, method, params):
        assert user == cluster.JOIN_USER
        if not cluster.check_join_secret(self.peer, secret):
            raise SanError("the peer refused the join secret", field="secret")
        if method == "san_cluster_info":
            return cluster.info(self.peer)
        return cluster.accept_join(self.peer, **params)


def formed(env):
    node1 = FakeHost()
    result = cluster.init(env, node1, "lab1", [SBD], ["10.0.0.11"], profile="lab")
    node1.steps.clear()
    return node1, result.join_secret


def test_join_with_the_secret(env):
    node1, secret = formed(env)
    assert secret.endswith(".abababababababab")
    node2 = JoiningHost(node1)
    result = cluster.join(env, node2, "10.0.0.11", secret, ["10.0.0.12"])
    assert [n.name for n in result.spec.nodes] == ["node1", "node2"] and result.spec.two_node
    assert node2.key == b"k" * 256 and node2.spec == node1.spec == result.spec
    assert [s[0] for s in node1.steps] == ["write", "restart"]
    assert [s[0] for s in node2.steps] == ["write", "start", "settled", "push"]
    with pytest.raises(SanError, match="refused the join secret"):  # used up
        cluster.join(env, JoiningHost(node1), "10.0.0.11", secret, ["10.0.0.13"])


@pytest.mark.parametrize("change, field", [
    (lambda s: s.replace(s.split(".")[0], "wrong-secret-value"), "secret"),
    (lambda s: s.split(".")[0], "secret"),
])
def test_a_wrong_secret_changes_nothing_on_either_node(env, change, field):
    node1, secret = formed(env)
    before = node1.spec
    node2 = JoiningHost(node1)
    with pytest.raises(SanError) as err:
        cluster.join(env, node2, "10.0.0.11", change(secret), ["10.0.0.12"])
    assert err.value.field == field and node1.steps == [] and node2.steps == [] and node1.spec == before


def test_a_disk_that_is_not_shared_is_refused(env):
    node1, secret = formed(env)
    node2 = JoiningHost(node1, uuid="another-disk")
    with pytest.raises(SanError) as err:
        cluster.join(env, node2, "10.0.0.11", secret, ["10.0.0.12"])
    assert err.value.field == "sbd.devices[0]" and node1.steps == [] and node2.steps == []
    assert cluster.check_join_secret(node1, secret.split(".")[0])  # still valid: nothing was used up


def test_an_sbd_disk_in_use_on_the_joining_node_is_refused(env):
    node1, secret = formed(env)
    node2 = JoiningHost(node1)
    env.system.disks = lambda config: [Disk(SBD, "LVM physical volume")]
    with pytest.raises(SanError, match="in use on this node") as err:
        cluster.join(env, node2, "10.0.0.11", secret, ["10.0.0.12"])
    assert err.value.field == "sbd.devices[0]" and node1.steps == [] and node2.steps == []
    env.system.disks = lambda config: []
    with pytest.raises(SanError, match="does not see the cluster's SBD disk"):
        cluster.join(env, node2, "10.0.0.11", secret, ["10.0.0.12"])


def test_a_bad_node_name_is_refused_by_the_cluster_node(env):
    node1, secret = formed(env)
    node2 = JoiningHost(node1)
    node2.hostname = lambda: "Node_2!"
    with pytest.raises(SanError) as err:
        cluster.join(env, node2, "10.0.0.11", secret, ["10.0.0.12"])
    assert "name" in err.value.field and node1.steps == [] and node2.steps == []


class RemovingHost(FakeHost):
    def __init__(self, spec, node2_online="false"):
        super().__init__()
        self.spec, self.node2_online, self.files = spec, node2_online, True

    def status_xml(self):
        return STATUS.replace('name="node2" id="2" online="false"', f'name="node2" id="2" online="{self.node2_online}"')

    def reload_corosync(self):
        self.steps.append(("reload",))

    def forget_node(self, name):
        self.steps.append(("forget", name))

    def stop_stack(self):
        self.steps.append(("stop",))

    def remove_files(self):
        self.steps.append(("remove-files",))
        self.spec = None

    def journal(self, argv):
        self.steps.append(("journal", argv))
        return "log line\n"

    def resolve(self, name):
        return "10.0.0.11" if name == "node1.lab" else ""


def two_node_spec():
    return two_nodes(profile="lab")


def test_remove_a_node_that_is_down(env):
    host = RemovingHost(two_node_spec())
    result = cluster.remove(env, host, "node2")
    assert [n.name for n in result.spec.nodes] == ["node1"] and not result.spec.two_node
    assert [s[0] for s in host.steps] == ["write", "restart", "settled", "forget", "push"]
    assert host.spec.nodes == result.spec.nodes


@pytest.mark.parametrize("node, online, message", [
    ("node2", "true", "is online"), ("node1", "false", "cannot remove itself"), ("node9", "false", "no such")])
def test_remove_refuses_and_changes_nothing(env, node, online, message):
    host = RemovingHost(two_node_spec(), online)
    with pytest.raises(SanError, match=message) as err:
        cluster.remove(env, host, node)
    assert err.value.field == "node" and host.steps == []


def test_leave_when_the_peer_is_down_stops_and_removes_everything(env):
    host = RemovingHost(two_node_spec())
    host.status_xml = lambda: STATUS.replace('with_quorum="true"', 'with_quorum="false"')
    result = cluster.leave(env, host)
    assert [s[0] for s in host.steps] == ["stop", "remove-files"]
    assert "sanctl /cluster remove node1" in result.plan[-1] and host.read_spec() is None
    assert cluster.leave(Env(env.store, env.system, dry_run=True), RemovingHost(two_node_spec())).dry_run


def test_logs_filters_are_checked_before_journalctl_runs():
    host = RemovingHost(two_node_spec())
    assert cluster.logs(host, "node1", "2026-12-01 08:00", "-5min", 50) == "log line\n"
    argv = host.steps[-1][1]
    assert "--since=2026-12-01 08:00" in argv and "--until=-5min" in argv and argv[argv.index("--lines") + 1] == "50"
    assert "--unit" in argv and "pacemaker.service" in argv
    for kwargs, field in (({"since": "last tuesday"}, "since"), ({"until": "; rm -rf /"}, "until"),
                          ({"lines": "0"}, "lines"), ({"lines": "many"}, "lines"), ({"node": "node9"}, "node")):
        host.steps.clear()
        with pytest.raises(SanError) as err:
            cluster.logs(host, **kwargs)
        assert err.value.field == field and host.steps == []


def test_join_resolves_a_peer_name_and_refuses_one_that_does_not_resolve(env):
    node1, secret = formed(env)
    node2 = JoiningHost(node1)
    node2.resolve = lambda name: "10.0.0.11" if name == "node1.lab" else ""
    for peer, message in (("nosuch.lab", "does not resolve"), ("bad name!", "address or host name")):
        with pytest.raises(SanError, match=message) as err:
            cluster.join(env, node2, peer, secret, ["10.0.0.12"])
        assert err.value.field == "peer" and node2.steps == []
    assert cluster.join(env, node2, "node1.lab", secret, ["10.0.0.12"]).spec.two_node


def test_logs_of_another_node_come_from_its_api_with_its_pinned_certificate():
    from dataclasses import replace

    spec = two_node_spec()
    spec = replace(spec, nodes=tuple(replace(n, api_pin=f"{i}" * 64) for i, n in enumerate(spec.nodes, 1)))
    host = RemovingHost(spec)
    calls = []
    host.call_peer = lambda *args: calls.append(args) or "node2 log\n"
    assert cluster.logs(host, "node2", "-1h") == "node2 log\n"
    (address, pin, user, secret, method, params), = calls
    assert (address, pin, user, method) == ("10.0.0.2", "2" * 64, cluster.PEER_USER, "san_peer_logs")
    assert secret == cluster.peer_secret(host.authkey()) and params == {"since": "-1h", "until": "", "lines": 200}
    assert cluster.check_peer_secret(host, secret) and not cluster.check_peer_secret(host, "x" * 64)
    unpinned = RemovingHost(two_node_spec())
    with pytest.raises(SanError, match="no API certificate pin"):
        cluster.logs(unpinned, "node2")


def test_status_knows_maintenance_mode_and_the_group_or_clone_of_each_resource():
    xml = STATUS.replace('<nodes_configured number="2"/>',
                         '<nodes_configured number="2"/><cluster_options maintenance-mode="true"/>')
    xml = xml.replace("</resources>", '<group id="san-p1" number_resources="1"><resource id="san-p1-vg" '
                      'resource_agent="ocf:heartbeat:LVM-activate" role="Started" failed="false"><node name="node1"/>'
                      '</resource></group><clone id="san-p1-drbd-clone"><resource id="san-p1-drbd" '
                      'resource_agent="ocf:linbit:drbd" role="Promoted" failed="false"><node name="node1"/>'
                      "</resource></clone></resources>")
    state = parse(xml)
    assert state.maintenance_mode is True and parse(STATUS).maintenance_mode is None
    assert {r.id: r.parent for r in state.resources} == {"fence-sbd": "", "san-p1-vg": "san-p1",
                                                         "san-p1-drbd": "san-p1-drbd-clone"}


def test_leave_with_a_replicated_pool_is_refused_unless_forced(env):
    from tests.unit.drbd_samples import config as pools_config

    env.store.config = pools_config()
    host = RemovingHost(two_node_spec())
    host.status_xml = lambda: STATUS.replace('with_quorum="true"', 'with_quorum="false"')
    with pytest.raises(SanError) as err:
        cluster.leave(env, host)
    assert err.value.field == "force" and "p1" in err.value.message and host.steps == []
    cluster.leave(env, host, force=True)
    assert [s[0] for s in host.steps] == ["stop", "remove-files"]
