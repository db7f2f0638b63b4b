"""Property: whatever a client sends (known and unknown methods, any JSON as params, any bytes as body), the API
answers with a JSON-RPC response (never HTTP 500, never a traceback), and a call it rejects changes nothing."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanappliance.model.apiconfig import hash_password
from sanappliance.service import access_groups, exports, storage, volumes
from sanappliance.service.env import Env
from sanappliance.targetd.app import create_app
from sanappliance.targetd.auth import Authenticator
from sanappliance.targetd.methods import METHODS, Context

from .fakes import FakeSystem, MemoryStore
from .targetd_client import PASSWORD, SPACE, USER
from .test_ui_clusterhost import MemoryCluster

I1, I2 = "iqn.1994-05.com.redhat:client1", "iqn.1994-05.com.redhat:client2"
WORDS = ["p1", "p2", "v1", "v2", "ag1", I1, I2, "iscsi", SPACE.target, "0.0.0.0", "login_timeout", "", "a b"]
PARAM_NAMES = sorted({p.name for m in METHODS.values() for p in m.params})

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.sampled_from([0, 1, 3, 255, 2**22]),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(WORDS), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)
params = st.one_of(st.none(), st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=8)), values,
                                              max_size=6), st.lists(values, max_size=6), scalars)
methods = st.one_of(st.sampled_from(sorted(METHODS)), st.text(max_size=20))
ids = st.one_of(st.integers(-2**40, 2**40), st.text(max_size=8), st.none())
TYPED = {"str": st.one_of(st.sampled_from(WORDS), st.text(max_size=12)),
         "int": st.one_of(st.sampled_from([-1, 0, 1, 3, 255, 256, 2**22, 2**40]), st.integers()),
         "bool": st.booleans(), "scalar": scalars,
         "strlist": st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=3)}


@st.composite
def calls(draw):
    """(method, params, whether params are sent): half of them a known method with mostly well-typed params, so
    that calls get past parameter checking into the service layer."""
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(METHODS)))
        sent = {}
        for param in METHODS[name].params:
            if draw(st.integers(0, 9)):  # now and then one is left out
                sent[param.name] = draw(TYPED[param.type] if draw(st.integers(0, 5)) else values)
        if not draw(st.integers(0, 9)):
            sent[draw(st.text(max_size=6))] = draw(values)
        return name, sent, True
    return draw(methods), draw(params), draw(st.booleans())


def _base():
    """A populated appliance: pools, volumes, an export, an access group with a mapping."""
    env = Env(MemoryStore(), FakeSystem())
    storage.create_pool(env, "p1", ["/dev/disk/by-id/virtio-data1"])
    volumes.create_volume(env, SPACE, "p1", "v1", 8 * 2**20)
    volumes.create_volume(env, SPACE, "p1", "v2", 8 * 2**20)
    exports.create_export(env, SPACE, "p1", "v1", I1, 0)
    access_groups.create_group(env, SPACE, "ag1", I2)
    access_groups.map_volume(env, SPACE, "p1", "v2", "ag1")
    return env.store.load(), env.system


@pytest.fixture(scope="module")
def world():
    config, system = _base()
    auth = Authenticator(USER, hash_password(PASSWORD))
    header = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    return config, system, auth, header


def _client(world):
    config, system, auth, header = world
    env = Env(MemoryStore(config), replace(system, reads=[], copies=[]))
    host = MemoryCluster()  # the cluster methods too, never the live host
    return env, create_app(Context(env, SPACE, cluster_host=lambda: host), auth).test_client(), header


def _check(env, before, status, body):
    assert status in (200, 204), (status, body[:300])
    assert b"Traceback" not in body
    if status == 204:
        assert body == b""
        return
    reply = json.loads(body)
    assert reply["jsonrpc"] == "2.0" and ("result" in reply) != ("error" in reply)
    if "error" in reply:
        error = reply["error"]
        assert isinstance(error["code"], int) and error["code"] < 0 and isinstance(error["message"], str)
        assert error["code"] != -32603, error  # an internal error is a bug
        assert env.store.load() == before[0] and (env.system.lio, env.system.lvm) == before[1:]


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(call=calls(), request_id=ids)
def test_any_call_gets_a_json_rpc_answer(world, call, request_id):
    method, params, with_params = call
    env, client, header = _client(world)
    request = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if with_params:
        request["params"] = params
    before = (env.store.load(), env.system.lio, env.system.lvm)
    response = client.post("/targetrpc", data=json.dumps(request), headers=header)
    _check(env, before, response.status_code, response.data)


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                      values.map(lambda v: json.dumps(v).encode())))
def test_any_body_gets_a_json_rpc_answer(world, body):
    env, client, header = _client(world)
    before = (env.store.load(), env.system.lio, env.system.lvm)
    response = client.post("/targetrpc", data=body, headers=header)
    _check(env, before, response.status_code, response.data)
