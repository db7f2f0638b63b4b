"""The API's cluster methods over real HTTP on 127.0.0.1, on the in-memory cluster host (test_ui_clusterhost.py) with
the real service functions: status, standby, maintenance, resource start/stop/move/clear/cleanup, fence and the
fencing self-test, each with its dry run, typed parameters and documented error codes (a refused call changes
nothing); the join methods answer only the join secret's user, and that user reaches nothing else."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest

from sanappliance.model.apiconfig import hash_password
from sanappliance.service.env import Env
from sanappliance.targetd.app import create_app
from sanappliance.targetd.auth import Authenticator, JoinGate
from sanappliance.targetd.methods import JOIN_METHODS, METHODS, Context
from sanappliance.targetd.server import make

from .fakes import FakeSystem, MemoryStore
from .targetd_client import PASSWORD, SPACE, USER, Client
from .test_ui_clusterhost import MemoryCluster

JOIN_SECRET = "the-join-secret"
CLUSTER_METHODS = ("san_cluster_status", "san_cluster_standby", "san_cluster_maintenance",
                   "san_cluster_resource_start", "san_cluster_resource_stop", "san_cluster_resource_move",
                   "san_cluster_resource_clear", "san_cluster_resource_cleanup", "san_cluster_fence",
                   "san_cluster_fencing_test")


@pytest.fixture(scope="module")
def auth():
    return Authenticator(USER, hash_password(PASSWORD), delay=0.0)


class Api:
    def __init__(self, host: MemoryCluster, auth: Authenticator) -> None:
        self.host = host
        ctx = Context(Env(MemoryStore(), FakeSystem()), SPACE, cluster_host=lambda: host)
        join = JoinGate(lambda secret: secret == JOIN_SECRET, delay=0.0)
        self.server = make(create_app(ctx, auth, join=join), "127.0.0.1", 0, None)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.client = Client(self.server.port)
        self.joining = Client(self.server.port, auth=("cluster-join", JOIN_SECRET))

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def api(auth):
    served = Api(MemoryCluster(), auth)
    yield served
    served.stop()


def unchanged(host: MemoryCluster) -> tuple:
    return host.cib, host.pushes, list(host.fenced), list(host.cleaned), list(host.sent)


def test_status(api):
    c = api.client
    state = c.ok("san_cluster_status")
    assert state["formed"] and state["dc"] == "node1" and state["quorate"]
    assert state["nodes"][0] == {"name": "node1", "state": "online", "online": True, "standby": False,
                                 "maintenance": False, "unclean": False, "dc": True}
    assert {r["id"]: (r["role"], r["nodes"]) for r in state["resources"]} == {
        "fence-sbd": ("Started", ["node1"]), "san-ip-p1": ("Stopped", []), "san-target-p1": ("Stopped", [])}
    assert state["failures"] == [{"resource": "san-ip-p1", "node": "node2", "task": "monitor", "status": "error",
                                  "fail_count": 3}]
    assert state["fencing_history"] == ["node2 reboot by node1: success"]
    assert state["fencing_untested"] == ["node1", "node2"]


def test_status_of_a_single_node(auth):
    served = Api(MemoryCluster(formed=False), auth)
    try:
        state = served.client.ok("san_cluster_status")
        assert state == {"formed": False, "dc": "", "quorate": False, "nodes": [], "resources": [], "failures": [],
                         "fencing_history": [], "fencing_untested": []}
        error = served.client.err("san_cluster_standby", node="node2")
        assert error["code"] == -32602 and error["data"] == {"field": "cluster"} and "in no cluster" in error[
            "message"]
    finally:
        served.stop()


def test_every_change_has_a_dry_run_that_changes_nothing(api):
    c, host = api.client, api.host
    before = unchanged(host)
    calls = {"san_cluster_standby": {"node": "node2"}, "san_cluster_maintenance": {"enabled": True},
             "san_cluster_resource_start": {"resource": "san-ip-p1"},
             "san_cluster_resource_stop": {"resource": "san-ip-p1"},
             "san_cluster_resource_move": {"resource": "san-ip-p1", "node": "node2"},
             "san_cluster_resource_cleanup": {}, "san_cluster_fence": {"node": "node2"}}
    for method, params in calls.items():
        result = c.ok(method, dry_run=True, **params)
        assert result["dry_run"] is True and result["plan"] and result["lines"] == [], method
    result = c.ok("san_cluster_fencing_test", dry_run=True)
    assert result["dry_run"] and not result["passed"] and result["checks"] == [] and len(result["plan"]) == 3
    assert unchanged(host) == before


def test_standby_maintenance_start_stop(api):
    c, host = api.client, api.host
    result = c.ok("san_cluster_standby", node="node2")
    assert result == {"plan": ["set node node2 standby (node attribute standby)"], "dry_run": False, "lines": []}
    assert c.ok("san_cluster_status")["nodes"][1]["state"] == "standby"
    c.ok("san_cluster_standby", node="node2", standby=False)
    assert c.ok("san_cluster_status")["nodes"][1]["state"] == "online"
    c.ok("san_cluster_maintenance", enabled=True)
    assert 'name="maintenance-mode" value="true"' in host.cib
    c.ok("san_cluster_maintenance", enabled=False)
    assert "maintenance-mode" not in host.cib
    c.ok("san_cluster_resource_stop", resource="fence-sbd")
    assert c.ok("san_cluster_status")["resources"][0]["role"] == "Stopped"
    c.ok("san_cluster_resource_start", resource="fence-sbd")
    assert c.ok("san_cluster_status")["resources"][0]["role"] == "Started"


def test_fencing_test_then_move_clear_cleanup_fence(api):
    c, host = api.client, api.host
    result = c.ok("san_cluster_fencing_test")
    assert result["passed"] and not result["dry_run"]
    assert {"name": "can fence node2", "ok": True, "detail": "devices able to fence it: fence-sbd"} in result["checks"]
    assert "PASS sbd on node2 answers: test message cleared on 2 disk(s)" in result["lines"]
    assert c.ok("san_cluster_status")["fencing_untested"] == []
    c.ok("san_cluster_resource_move", resource="san-ip-p1", node="node2")
    assert ET.fromstring(host.cib).find(".//rsc_location[@id='cli-prefer-san-ip-p1']").get("node") == "node2"
    assert c.ok("san_cluster_status")["resources"][1]["nodes"] == ["node2"]
    c.ok("san_cluster_resource_clear", resource="san-ip-p1")
    assert "cli-prefer" not in host.cib
    result = c.ok("san_cluster_resource_cleanup", resource="san-ip-p1")
    assert result["lines"] == ["Cleaned up san-ip-p1 on all nodes"] and host.cleaned == [("san-ip-p1", None)]
    c.ok("san_cluster_resource_cleanup", node="node2")
    assert host.cleaned[-1] == (None, "node2")
    result = c.ok("san_cluster_fence", node="node2", action="off")
    assert result["lines"] == ["node node2 fenced (off)"] and host.fenced == [("node2", "off")]


def test_a_failed_fencing_test_says_which_check_failed(api):
    api.host.online["node2"] = False
    result = api.client.ok("san_cluster_fencing_test")
    assert not result["passed"] and "FAIL node node2: not online: it cannot be tested" in result["lines"]
    assert api.client.ok("san_cluster_status")["fencing_untested"] == ["node1", "node2"]


@pytest.mark.parametrize("method, params, code, field", [
    ("san_cluster_standby", {"node": "node9"}, -100, "node"),
    ("san_cluster_standby", {"node": 2}, -32602, "node"),
    ("san_cluster_standby", {}, -32602, "node"),
    ("san_cluster_standby", {"node": "node2", "standby": "yes"}, -32602, "standby"),
    ("san_cluster_maintenance", {}, -32602, "enabled"),
    ("san_cluster_resource_stop", {"resource": "nope"}, -100, "resource"),
    ("san_cluster_resource_start", {"resource": "nope", "dry_run": True}, -100, "resource"),
    ("san_cluster_resource_move", {"resource": "san-ip-p1", "node": "node9"}, -100, "node"),
    ("san_cluster_resource_move", {"resource": "nope", "node": "node2"}, -100, "resource"),
    ("san_cluster_resource_clear", {"resource": "san-ip-p1"}, -50, "resource"),  # no move in place
    ("san_cluster_resource_cleanup", {"resource": "nope"}, -100, "resource"),
    ("san_cluster_resource_cleanup", {"node": "node9"}, -100, "node"),
    ("san_cluster_fence", {"node": "node1"}, -32602, "node"),  # the node answering: fence it from the other
    ("san_cluster_fence", {"node": "node2", "action": "explode"}, -32602, "action"),
    ("san_cluster_fence", {"node": "node2", "dry_run": "no"}, -32602, "dry_run"),
    ("san_cluster_fencing_test", {"force": True}, -32602, "force"),
])
def test_errors_name_the_field_and_change_nothing(api, method, params, code, field):
    before = unchanged(api.host)
    error = api.client.err(method, **params)
    assert (error["code"], error["data"]["field"]) == (code, field), error
    assert unchanged(api.host) == before


def test_a_failure_of_the_live_system_is_minus_one(api):
    api.host.broken = True
    error = api.client.err("san_cluster_status")
    assert error["code"] == -1 and "crm_mon did not answer" in error["message"]


def test_params_by_position(api):
    reply = api.client.call("san_cluster_resource_move", ["san-ip-p1", "node2", True])
    assert reply["result"]["dry_run"] is True
    assert api.host.pushes == 0


def test_the_join_methods_answer_only_the_join_secret_and_it_reaches_nothing_else(api):
    assert set(JOIN_METHODS) == {"san_cluster_info", "san_cluster_join"}
    assert not set(JOIN_METHODS) & set(METHODS) and set(CLUSTER_METHODS) <= set(METHODS)
    for method in JOIN_METHODS:
        assert api.client.err(method)["code"] == -32601  # the admin account: no such method
    info = api.joining.ok("san_cluster_info")
    assert info["name"] == "san" and info["nodes"] == ["node1", "node2"]
    before = unchanged(api.host)
    for method in CLUSTER_METHODS + ("pool_list", "san_status"):
        assert api.joining.err(method)["code"] == -32601, method
    assert unchanged(api.host) == before
    wrong = Client(api.server.port, auth=("cluster-join", "not-the-secret"))
    status, _, _ = wrong.raw(b'{"jsonrpc": "2.0", "id": 1, "method": "san_cluster_info"}')
    assert status == 401


class PeerCluster(MemoryCluster):
    key = b"k" * 256

    def authkey(self) -> bytes:
        return self.key

    def journal(self, argv):
        return "node1 log: " + " ".join(a for a in argv if a.startswith(("--since", "--lines"))) + "\n"


def test_the_peer_methods_answer_only_another_node_of_the_same_cluster(auth):
    from sanappliance.service import cluster
    from sanappliance.targetd.methods import PEER_METHODS

    host = PeerCluster()
    ctx = Context(Env(MemoryStore(), FakeSystem()), SPACE, cluster_host=lambda: host)
    peer = JoinGate(lambda secret: cluster.check_peer_secret(host, secret), delay=0.0)
    server = make(create_app(ctx, auth, peer=peer), "127.0.0.1", 0, None)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        node = Client(server.port, auth=(cluster.PEER_USER, cluster.peer_secret(PeerCluster.key)))
        assert node.ok("san_peer_logs", since="-1h", lines=5) == "node1 log: --lines --since=-1h\n"
        assert node.err("san_peer_logs", since="whenever")["data"] == {"field": "since"}
        for method in CLUSTER_METHODS + ("pool_list", "san_cluster_info"):
            assert node.err(method)["code"] == -32601, method
        assert not set(PEER_METHODS) & set(METHODS) and Client(server.port).err("san_peer_logs")["code"] == -32601
        other = Client(server.port, auth=(cluster.PEER_USER, cluster.peer_secret(b"another cluster's key" * 8)))
        status, _, _ = other.raw(b'{"jsonrpc": "2.0", "id": 1, "method": "san_peer_logs"}')
        assert status == 401
        host.spec = None  # a node in no cluster trusts no peer
        status, _, _ = node.raw(b'{"jsonrpc": "2.0", "id": 1, "method": "san_peer_logs"}')
        assert status == 401
    finally:
        server.shutdown()
        thread.join(5)


def test_replicated_pool_methods_check_their_parameters_and_change_nothing_on_refusal(api):
    before = unchanged(api.host)
    err = api.client.err("san_pool_create_replicated", name="p1", disk="/dev/disk/by-id/a", peer_disk=7)
    assert err["data"] == {"field": "peer_disk"}
    err = api.client.err("san_pool_create_replicated", name="p 1", disk="/dev/disk/by-id/a",
                         peer_disk="/dev/disk/by-id/b", ips=["10.0.3.100/24"])
    assert err["data"]["field"] == "name"
    err = api.client.err("san_pool_move", name="nosuch", node="node2")
    assert err["data"]["field"] == "pool"
    assert api.client.ok("san_pool_states") == []
    assert unchanged(api.host) == before
