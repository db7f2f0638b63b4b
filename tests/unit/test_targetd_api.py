"""The targetd-compatible API over real HTTP(S) on 127.0.0.1: every method with its documented errors, the JSON-RPC
protocol errors, HTTP status codes and the authentication tarpit. The service layer runs on stand-ins."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time

import pytest

from sanappliance.lio import plan as P
from sanappliance.lio.render import render
from sanappliance.model.apiconfig import hash_password
from sanappliance.service import storage
from sanappliance.service.env import Env
from sanappliance.targetd.auth import Authenticator

from .fakes import FakeSystem, MemoryStore
from .targetd_client import PASSWORD, TARGET, USER, start

DISK = "/dev/disk/by-id/virtio-data1"
I1, I2, I3 = "iqn.1994-05.com.redhat:client1", "iqn.1994-05.com.redhat:client2", "iqn.1998-01.com.vmware:esx3"
MiB = 2**20


@pytest.fixture(scope="module")
def password_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def env():
    env = Env(MemoryStore(), FakeSystem())
    storage.create_pool(env, "p1", [DISK])
    storage.create_pool(env, "p2", ["/dev/disk/by-id/virtio-data2"])
    return env


def _server(env, tmp_path, password_hash, tls):
    return start(env, tmp_path, tls=tls, auth=Authenticator(USER, password_hash))


@pytest.fixture(params=[False, True], ids=["http", "https"])
def both(request, env, tmp_path, password_hash):
    server = _server(env, tmp_path, password_hash, request.param)
    yield server
    server.stop()


@pytest.fixture
def api(env, tmp_path, password_hash):
    server = _server(env, tmp_path, password_hash, False)
    yield server
    server.stop()


def converged(env):
    config = env.store.load()
    assert P.plan(env.system.lio, render(config)) == []
    return config


def test_pools_and_volumes(both, env):
    c = both.client
    assert c.ok("pool_list") == [{"name": "p1", "size": 4 * 2**30, "free_size": 4 * 2**30, "type": "block"},
                                 {"name": "p2", "size": 4 * 2**30, "free_size": 4 * 2**30, "type": "block"}]
    assert c.ok("vol_create", pool="p1", name="v1", size=10 * MiB) is None
    (v1,) = c.ok("vol_list", pool="p1")
    assert v1["name"] == "v1" and v1["size"] == 12 * MiB and len(v1["uuid"]) == 36
    assert c.ok("pool_list")[0]["free_size"] == 4 * 2**30 - 12 * MiB
    assert c.ok("vol_list", pool="p2") == []
    assert c.err("vol_create", pool="p1", name="v1", size=MiB)["code"] == -50
    assert c.err("vol_create", pool="nope", name="v9", size=MiB)["code"] == -152
    assert c.err("vol_create", pool="p1", name="bad name", size=MiB)["code"] == -32602
    assert c.err("vol_create", pool="p1", name="v9", size=0)["code"] == -32602
    assert c.err("vol_create", pool="p1", name="big", size=2**40)["code"] == -1  # the pool is too small
    assert c.err("vol_list", pool="nope")["code"] == -152

    assert c.ok("vol_resize", pool="p1", name="v1", size=20 * MiB) is None
    assert c.ok("vol_list", pool="p1")[0]["size"] == 20 * MiB
    error = c.err("vol_resize", pool="p1", name="v1", size=20 * MiB)
    assert error["code"] == -32602 and error["data"] == {"field": "size"}
    assert c.err("vol_resize", pool="p2", name="v1", size=40 * MiB)["code"] == -103

    assert c.ok("vol_copy", pool="p1", vol_orig="v1", vol_new="v2") is None
    assert c.ok("vol_copy", pool="p1", vol_orig="v1", vol_new="v3", size=64 * MiB) is None
    sizes = {v["name"]: (v["size"], v["uuid"]) for v in c.ok("vol_list", pool="p1")}
    assert sizes["v2"][0] == 20 * MiB and sizes["v3"][0] == 64 * MiB
    assert len({u for _, u in sizes.values()}) == 3
    assert env.system.copies == [("v1", "v2"), ("v1", "v3")]
    assert c.err("vol_copy", pool="p1", vol_orig="v1", vol_new="v2")["code"] == -50
    assert c.err("vol_copy", pool="p1", vol_orig="nope", vol_new="v4")["code"] == -103
    assert c.err("vol_copy", pool="p1", vol_orig="v1", vol_new="v4", size=MiB)["code"] == -32602

    for name in ("v1", "v2", "v3"):
        assert c.ok("vol_destroy", pool="p1", name=name) is None
    assert c.err("vol_destroy", pool="p1", name="v1")["code"] == -103
    assert converged(env).volumes == () and env.system.lvm.lvs == {}


def test_a_failed_copy_leaves_no_volume(api, env):
    c = api.client
    c.ok("vol_create", pool="p1", name="v1", size=8 * MiB)
    env.system.fail_copy = True
    error = c.err("vol_copy", pool="p1", vol_orig="v1", vol_new="v2")
    assert error["code"] == -1 and "dd failed" in error["message"]
    assert [v.name for v in converged(env).volumes] == ["v1"]
    assert set(env.system.lvm.lvs) == {("san-p1", "v1")}


def test_exports_and_initiators(both, env):
    c = both.client
    c.ok("vol_create", pool="p1", name="v1", size=8 * MiB)
    c.ok("vol_create", pool="p1", name="v2", size=8 * MiB)
    assert c.ok("export_list") == [] and c.ok("initiator_list") == []
    assert c.ok("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=3) is None
    assert c.ok("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=3) is None  # again: nothing changes
    uuid = c.ok("vol_list", pool="p1")[0]["uuid"]
    assert c.ok("export_list") == [{"initiator_wwn": I1, "lun": 3, "vol_name": "v1", "vol_size": 8 * MiB,
                                    "vol_uuid": uuid, "pool": "p1"}]
    config = converged(env)
    (target,) = config.targets
    assert target.iqn == TARGET and [str(p) for p in target.tpgs[0].portals] == ["0.0.0.0:3260"]
    assert env.system.lio.targets[TARGET].tpgs[1].acls[I1].mapped[0].mapped_lun == 3

    assert c.err("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=4)["code"] == -50
    assert c.err("export_create", pool="p1", vol="v2", initiator_wwn=I1, lun=3)["code"] == -50
    assert c.err("export_create", pool="p1", vol="nope", initiator_wwn=I1, lun=4)["code"] == -103
    assert c.err("export_create", pool="p1", vol="v2", initiator_wwn="not-an-iqn", lun=4)["code"] == -32602
    assert c.err("export_create", pool="p1", vol="v2", initiator_wwn=I1, lun=-1)["code"] == -32602
    assert c.err("vol_destroy", pool="p1", name="v1")["code"] == -303

    assert c.ok("initiator_set_auth", initiator_wwn=I1, in_user="user1", in_pass="secret-secret-1",
                out_user="target1", out_pass="secret-secret-2") is None
    chap = env.store.load().targets[0].tpgs[0].acls[0].chap
    assert (chap.userid, chap.mutual_userid) == ("user1", "target1")
    error = c.err("export_create", pool="p1", vol="v2", initiator_wwn=I2, lun=0)
    assert error["code"] == -1 and "CHAP" in error["message"]  # LIO: CHAP for all initiators of a TPG or none
    assert c.err("initiator_set_auth", initiator_wwn=I1, in_user=None, in_pass=None, out_user="t",
                 out_pass="secret-secret-2")["code"] == -32602
    error = c.err("initiator_set_auth", initiator_wwn=I1, in_user="user1", in_pass="short", out_user=None,
                  out_pass=None)
    assert error["code"] == -32602 and "short" not in json.dumps(error)
    assert c.ok("initiator_set_auth", initiator_wwn=I1, in_user=None, in_pass=None, out_user=None,
                out_pass=None) is None
    assert env.store.load().targets[0].tpgs[0].acls[0].chap is None
    assert c.ok("export_create", pool="p1", vol="v2", initiator_wwn=I2, lun=0) is None
    assert c.err("initiator_set_auth", initiator_wwn=I3, in_user="user3", in_pass="secret-secret-3", out_user=None,
                 out_pass=None)["code"] == -1  # an ACL of its own with CHAP while I1 and I2 have none

    assert sorted(i["init_id"] for i in c.ok("initiator_list")) == [I1, I2]
    assert all(i["init_type"] == "iscsi" for i in c.ok("initiator_list", standalone_only=True))

    assert c.ok("export_destroy", pool="p1", vol="v1", initiator_wwn=I1) is None
    assert c.err("export_destroy", pool="p1", vol="v1", initiator_wwn=I1)["code"] == -151
    assert c.err("export_destroy", pool="p1", vol="nope", initiator_wwn=I1)["code"] == -103
    assert c.ok("export_destroy", pool="p1", vol="v2", initiator_wwn=I2) is None
    config = converged(env)
    assert config.targets[0].tpgs[0].luns == () and config.targets[0].tpgs[0].acls == ()
    assert c.ok("vol_destroy", pool="p1", name="v1") is None


def test_access_groups(both, env):
    c = both.client
    c.ok("vol_create", pool="p1", name="v1", size=8 * MiB)
    c.ok("vol_create", pool="p1", name="v2", size=8 * MiB)
    c.ok("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=0)
    assert c.ok("access_group_create", ag_name="ag1", init_id=I2, init_type="iscsi") is None
    assert c.err("access_group_create", ag_name="ag1", init_id=I3, init_type="iscsi")["code"] == -50
    assert c.err("access_group_create", ag_name="ag 2", init_id=I3, init_type="iscsi")["code"] == -32602
    assert c.err("access_group_create", ag_name="ag2", init_id=I3, init_type="fc")["code"] == -153
    assert c.err("access_group_create", ag_name="ag2", init_id=I1, init_type="iscsi")["code"] == -52
    assert c.ok("access_group_init_add", ag_name="ag1", init_id=I3, init_type="iscsi") is None
    assert c.ok("access_group_init_add", ag_name="ag1", init_id=I3, init_type="iscsi") is None
    assert c.err("access_group_init_add", ag_name="ag1", init_id=I1, init_type="iscsi")["code"] == -52
    assert c.ok("access_group_init_add", ag_name="ag3", init_id="iqn.2000-01.org.example:x") is None  # made
    assert c.ok("access_group_list") == [
        {"name": "ag1", "init_ids": [I2, I3], "init_type": "iscsi"},
        {"name": "ag3", "init_ids": ["iqn.2000-01.org.example:x"], "init_type": "iscsi"}]
    assert c.err("export_create", pool="p1", vol="v2", initiator_wwn=I2, lun=1)["code"] == -52

    assert c.ok("access_group_map_create", pool_name="p1", vol_name="v2", ag_name="ag1") is None
    assert c.ok("access_group_map_create", pool_name="p1", vol_name="v1", ag_name="ag1", h_lun_id=7) is None
    assert c.ok("access_group_map_create", pool_name="p1", vol_name="v1", ag_name="ag1") is None  # mapped already
    assert c.ok("access_group_map_list") == [
        {"ag_name": "ag1", "h_lun_id": 0, "pool_name": "p1", "vol_name": "v2"},
        {"ag_name": "ag1", "h_lun_id": 7, "pool_name": "p1", "vol_name": "v1"}]
    assert c.err("access_group_map_create", pool_name="p1", vol_name="v1", ag_name="nope")["code"] == -200
    assert c.err("access_group_map_create", pool_name="p1", vol_name="nope", ag_name="ag1")["code"] == -103
    assert c.err("access_group_map_create", pool_name="nope", vol_name="v1", ag_name="ag1")["code"] == -152
    assert c.err("access_group_map_create", pool_name="p1", vol_name="v1", ag_name="ag3",
                 h_lun_id=256)["code"] == -32602
    assert c.err("access_group_map_create", pool_name="p1", vol_name="v2", ag_name="ag1", h_lun_id=7)["code"] == -50
    acls = env.system.lio.targets[TARGET].tpgs[1].acls
    assert acls[I3].tag == "ag1" and sorted(m.mapped_lun for m in acls[I3].mapped) == [0, 7]
    assert c.err("vol_destroy", pool="p1", name="v2")["code"] == -303

    error = c.err("san_access_group_set_auth", ag_name="ag1", in_user="esx", in_pass="group-secret-1")
    assert error["code"] == -1 and "CHAP for all or none" in error["message"]  # I1's own ACL has no CHAP
    assert c.err("san_access_group_set_auth", ag_name="a/b", in_user="esx", in_pass="group-secret-1")["code"] == -32602

    assert sorted(i["init_id"] for i in c.ok("initiator_list")) == sorted([I1, I2, I3, "iqn.2000-01.org.example:x"])
    assert [i["init_id"] for i in c.ok("initiator_list", standalone_only=True)] == [I1]
    assert c.ok("access_group_init_del", ag_name="ag1", init_id=I3, init_type="iscsi") is None
    assert c.ok("access_group_init_del", ag_name="ag1", init_id=I3, init_type="iscsi") is None
    assert c.ok("access_group_init_del", ag_name="nope", init_id=I3, init_type="iscsi") is None
    assert I3 not in env.system.lio.targets[TARGET].tpgs[1].acls

    assert c.ok("access_group_map_destroy", pool_name="p1", vol_name="v2", ag_name="ag1") is None
    assert c.ok("access_group_map_destroy", pool_name="p1", vol_name="v2", ag_name="ag1") is None
    assert c.ok("access_group_map_destroy", pool_name="p1", vol_name="nope", ag_name="nope") is None
    assert c.ok("vol_destroy", pool="p1", name="v2") is None  # its LUN went with its last mapping
    assert c.ok("access_group_destroy", ag_name="ag1") is None
    assert c.ok("access_group_destroy", ag_name="ag1") is None
    assert [g["name"] for g in c.ok("access_group_list")] == ["ag3"]
    assert c.ok("access_group_map_list") == []
    tpg = converged(env).targets[0].tpgs[0]
    assert [x.volume for x in tpg.luns] == ["v1"]  # still exported to I1


def test_appliance_methods(both, env):
    c = both.client
    status = c.ok("san_status")
    assert status["target_name"] == TARGET and status["target_exists"] is False and status["pools"] == 2
    made = c.ok("san_target_create")["iqn"]
    assert made.startswith("iqn.2026-11.org.sanappliance:")
    assert c.ok("san_target_create", iqn="iqn.2003-01.org.example:t2") == {"iqn": "iqn.2003-01.org.example:t2"}
    assert c.err("san_target_create", iqn="iqn.2003-01.org.example:t2")["code"] == -50
    assert c.err("san_target_create", iqn="nope")["code"] == -32602
    t2 = "iqn.2003-01.org.example:t2"
    assert c.ok("san_portal_create", iqn=t2, address="192.0.2.10") is None
    assert c.err("san_portal_create", iqn=t2, address="192.0.2.10")["code"] == -50
    assert c.err("san_portal_create", iqn=t2, address="192.0.2.300")["code"] == -32602
    assert c.ok("san_portal_delete", iqn=t2, address="0.0.0.0", port=3260, tag=1) is None
    assert c.err("san_portal_delete", iqn=t2, address="0.0.0.0")["code"] == -100
    assert c.ok("san_tpg_set", iqn=t2, name="login_timeout", value=10) is None
    assert c.err("san_tpg_set", iqn=t2, name="login_timeout", value=100)["code"] == -32602
    assert c.err("san_tpg_set", iqn=t2, name="login_timeout", value=10, tag=9)["code"] == -100
    assert c.ok("san_tpg_enable", iqn=t2, enabled=False) is None
    assert c.ok("san_discovery_auth_set", userid="disc", password="discovery-secret") is None
    assert c.ok("san_discovery_auth_set") is None
    assert env.store.load().discovery.chap is None
    c.ok("vol_create", pool="p1", name="v1", size=8 * MiB)
    c.ok("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=0)
    c.ok("initiator_set_auth", initiator_wwn=I1, in_user="user1", in_pass="secret-secret-1", out_user=None,
         out_pass=None)
    assert c.err("access_group_create", ag_name="ag1", init_id=I2, init_type="iscsi")["code"] == -1  # no CHAP
    assert c.ok("san_access_group_set_auth", ag_name="ag1", in_user="esx", in_pass="group-secret-1",
                out_user="array", out_pass="group-secret-2") is None  # made, empty, with CHAP
    assert c.ok("access_group_init_add", ag_name="ag1", init_id=I2, init_type="iscsi") is None
    listing = c.ok("san_target_list")
    assert "secret-secret-1" not in json.dumps(listing)
    by_iqn = {t["iqn"]: t for t in listing}
    assert by_iqn[t2]["tpgs"][0]["portals"] == [{"address": "192.0.2.10", "port": 3260}]
    assert by_iqn[t2]["tpgs"][0]["enabled"] is False
    assert by_iqn[TARGET]["tpgs"][0]["acls"][0]["chap"] == {"userid": "user1", "mutual_userid": ""}
    assert by_iqn[TARGET]["tpgs"][0]["groups"][0]["chap"] == {"userid": "esx", "mutual_userid": "array"}
    assert "group-secret" not in json.dumps(listing)
    assert c.ok("san_status")["target_exists"] is True
    assert c.ok("san_target_delete", iqn=t2) is None
    assert c.err("san_target_delete", iqn=t2)["code"] == -100
    converged(env)


def test_pools_the_api_may_not_use_do_not_exist_for_it(env, tmp_path, password_hash):
    from sanappliance.service.space import ExportSpace

    server = start(env, tmp_path, tls=False, auth=Authenticator(USER, password_hash),
                   space=ExportSpace(TARGET, pools=("p2",)))
    try:
        c = server.client
        assert [p["name"] for p in c.ok("pool_list")] == ["p2"]
        assert c.err("vol_create", pool="p1", name="v1", size=MiB)["code"] == -152
        storage.create_volume(env, "v1", "8M", pool="p1")
        assert c.err("export_create", pool="p1", vol="v1", initiator_wwn=I1, lun=0)["code"] == -152
    finally:
        server.stop()


# --- JSON-RPC protocol --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, code", [
    (b"{not json", -32700),
    (b"\xff\xfe", -32700),
    (b"[" * 100000, -32700),
    (b'{"jsonrpc": "2.0", "id": NaN, "method": "pool_list"}', -32700),
    (b"", -32700),
    (b"[]", -32600),
    (b'[{"jsonrpc": "2.0", "id": 1, "method": "pool_list"}]', -32600),
    (b'"pool_list"', -32600),
    (b'{"id": 1, "method": "pool_list"}', -32600),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "pool_list"}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600),
    (b'{"jsonrpc": "2.0", "id": [1], "method": "pool_list"}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "pool_list", "params": "x"}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "nope"}', -32601),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "__init__"}', -32601),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_list"}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_list", "params": {"pool": 1}}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_list", "params": {"pool": "p1", "x": 1}}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_list", "params": ["p1", 2]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_create", "params": {"pool": "p1", "name": "v", "size": "1G"}}',
     -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_create", "params": {"pool": "p1", "name": "v", "size": true}}',
     -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "vol_create", "params": {"pool": "p1", "name": "v", "size": 1e400}}',
     -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "initiator_list", "params": {"standalone_only": 1}}', -32602),
])
def test_protocol_errors(api, env, body, code):
    before = env.store.load()
    status, headers, raw = api.client.raw(body)
    assert status == 200 and headers["content-type"] == "application/json"
    reply = json.loads(raw)
    assert reply["jsonrpc"] == "2.0" and reply["error"]["code"] == code and "result" not in reply
    assert reply["id"] in (None, 1)
    assert env.store.load() == before


def test_params_by_position_and_names_in_errors(api):
    c = api.client
    assert c.call("vol_create", ["p1", "v1", 8 * MiB])["result"] is None
    assert [v["name"] for v in c.call("vol_list", ["p1"])["result"]] == ["v1"]
    assert c.call("vol_create", {"pool": "p1", "name": "v2", "size": 8.0 * MiB})["result"] is None  # 8388608.0
    error = c.err("vol_create", pool="p1", name="v3")
    assert error["data"] == {"field": "size"} and "'size'" in error["message"]
    error = c.err("vol_create", pool="p1", name="v3", size=1, colour="red")
    assert "'colour'" in error["message"]
    error = c.err("vol_create", pool="p1", name=["v3"], size=1)
    assert error["code"] == -32602 and "'name'" in error["message"]


def test_notifications_get_no_answer(api, env):
    status, _, body = api.client.raw(b'{"jsonrpc": "2.0", "method": "vol_create", "params": '
                                     b'{"pool": "p1", "name": "v1", "size": 1048576}}')
    assert (status, body) == (204, b"")
    assert [v.name for v in env.store.load().volumes] == ["v1"]
    status, _, body = api.client.raw(b'{"jsonrpc": "2.0", "method": "nope"}')
    assert (status, body) == (204, b"")


def test_string_ids_are_echoed(api):
    status, _, body = api.client.raw(b'{"jsonrpc": "2.0", "id": "abc", "method": "pool_list"}')
    assert status == 200 and json.loads(body)["id"] == "abc"


# --- HTTP -----------------------------------------------------------------------------------------------------------

def test_http_status_codes(api, env):
    c = api.client
    request = b'{"jsonrpc": "2.0", "id": 1, "method": "pool_list"}'
    assert c.raw(request, path="/")[0] == 404
    assert c.raw(request, path="/targetrpc/x")[0] == 404
    status, headers, _ = c.raw(path="/targetrpc", method="GET")
    assert status == 405 and "POST" in headers["allow"]
    assert c.raw(request, method="PUT")[0] == 405
    assert c.raw(method="OPTIONS")[0] == 405
    big = b'{"jsonrpc": "2.0", "id": 1, "method": "pool_list", "params": {"x": "' + b"a" * (2 * MiB) + b'"}}'
    assert c.raw(big)[0] == 413
    assert c.raw(iter([big[i:i + 65536] for i in range(0, len(big), 65536)]), chunked=True)[0] == 413
    assert c.raw(request)[0] == 200


def test_tls_serves_https_only(both):
    c = both.client
    assert c.ok("pool_list") is not None
    if c.tls is not None:
        with pytest.raises((http.client.HTTPException, OSError)):
            type(c)(c.port, None).raw(b"{}")


def test_a_silent_connection_does_not_hold_up_others(both):
    with socket.create_connection(("127.0.0.1", both.client.port)):  # no TLS handshake, no request
        start_time = time.monotonic()
        assert both.client.ok("pool_list") is not None
        assert time.monotonic() - start_time < 2


# --- authentication -----------------------------------------------------------------------------------------------

def test_bad_and_missing_credentials_wait_and_fail(api, env, caplog):
    c = api.client
    request = b'{"jsonrpc": "2.0", "id": 1, "method": "vol_create", "params": {"pool": "p1", "name": "v1", ' \
              b'"size": 1048576}}'
    for auth in ((USER, "wrong-password"), None):
        start_time = time.monotonic()
        status, headers, _ = c.raw(request, auth=auth)
        assert status == 401 and time.monotonic() - start_time >= 1.0
        assert headers["www-authenticate"].startswith("Basic realm=")
    status, _, _ = c.raw(request, headers={"Authorization": "Bearer abc"}, auth=None)
    assert status == 401
    assert env.store.load().volumes == ()
    assert "wrong-password" not in caplog.text


def test_parallel_bad_logins_each_wait_and_queue(api):
    c = api.client
    assert c.ok("pool_list") is not None  # these credentials passed: they are not held up by the tarpit
    took: list[float] = []
    good: list[float] = []

    def bad() -> None:
        start_time = time.monotonic()
        assert c.raw(b"{}", auth=(USER, "guess"))[0] == 401
        took.append(time.monotonic() - start_time)

    threads = [threading.Thread(target=bad) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    start_time = time.monotonic()
    assert c.ok("pool_list") is not None
    good.append(time.monotonic() - start_time)
    for thread in threads:
        thread.join()
    assert len(took) == 5 and min(took) >= 1.0
    assert max(took) >= 4.5  # one failure per second: the fifth waits for the four before it
    assert good[0] < 0.5


def test_busy_when_too_many_attempts_wait(env, tmp_path, password_hash):
    auth = Authenticator(USER, password_hash, delay=0.5, max_waiting=1)
    server = start(env, tmp_path, tls=False, auth=auth)
    try:
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(server.client.raw(b"{}", auth=(USER, "x"))[0]))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results)[0] == 401 and 503 in results
    finally:
        server.stop()


def test_no_secrets_in_the_log(api, caplog):
    caplog.set_level(logging.DEBUG, logger="sanappliance.targetd")
    c = api.client
    c.ok("initiator_set_auth", initiator_wwn=I1, in_user="user1", in_pass="secret-secret-1", out_user="t1",
         out_pass="secret-secret-2")
    c.err("initiator_set_auth", initiator_wwn=I1, in_user="user1", in_pass="tiny-secret", out_user=None,
          out_pass=None)
    c.ok("san_discovery_auth_set", userid="disc", password="discovery-secret")
    assert "initiator_set_auth from 127.0.0.1: ok" in caplog.text
    for secret in ("secret-secret-1", "secret-secret-2", "tiny-secret", "discovery-secret", PASSWORD):
        assert secret not in caplog.text
