"""sanctl's `/pools/NAME status` and `recover`, and the API's san_pool_split_brain, san_pool_recover and the peer
methods, on the two stand-in nodes of test_split_brain.py."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from configshell_fb import ExecutionError

from sanappliance.service import replicated
from sanappliance.shell.root import make_shell

from .test_split_brain import A1, B2, Lab, split


@pytest.fixture
def lab(tmp_path):
    return split(tmp_path)


# --- sanctl ----------------------------------------------------------------------------------------------------------

def sanctl(lab: Lab, monkeypatch, cmdline: str, dry_run: bool = False) -> list[str]:
    node = lab.nodes["node1"]
    monkeypatch.setattr(replicated, "live_hosts", lambda *a, **k: node.hosts)
    lines: list[str] = []
    shell = make_shell(lambda dry: replace(node.env, dry_run=dry), dry_run=dry_run, write=lines.append,
                       stdout=io.StringIO())
    shell.run_cmdline(cmdline)
    return lines


def test_sanctl_status_and_recover(lab, monkeypatch, tmp_path):
    monkeypatch.setenv("SANCTL_PREFS", str(tmp_path / "prefs"))
    text = "\n".join(sanctl(lab, monkeypatch, "/pools/p1 status"))
    assert "pool p1: SPLIT BRAIN" in text and f"current {B2:016X}" in text and "node2:" in text
    out = sanctl(lab, monkeypatch, "/pools/p1 recover victim=node2")
    assert out[-1] == "nothing changed: give confirm=yes" and any("discard-my-data" in line for line in out)
    assert any(line.startswith("  lost: node2's changes") for line in out)
    out = sanctl(lab, monkeypatch, "/pools/p1 recover victim=node2 confirm=yes", dry_run=True)
    assert "Dry run, nothing changed." in out and lab.changes() == []
    with pytest.raises(ExecutionError, match="victim: .*node1 or node2"):
        sanctl(lab, monkeypatch, "/pools/p1 recover victim=nodeX confirm=yes")
    out = sanctl(lab, monkeypatch, "/pools/p1 recover victim=node2 confirm=yes")
    assert lab.changes() == [("node2", "connect --discard-my-data"), ("node1", "connect")]
    assert "node2 resyncs from node1" in out[-1]
    local = sanctl(lab, monkeypatch, "/pools/local status")
    assert local and "replicated" not in local[0]


# --- the API ---------------------------------------------------------------------------------------------------------

def test_the_api_methods(lab, monkeypatch):
    from sanappliance.targetd.dispatch import handle
    from sanappliance.targetd.methods import METHODS, PEER_METHODS, Context

    from .targetd_client import SPACE

    assert [p.name for p in PEER_METHODS["san_peer_replica_gi"].params] == ["pool"]
    assert [p.name for p in PEER_METHODS["san_peer_replica_recover"].params] == ["pool", "role"]
    assert not {"san_peer_replica_gi", "san_peer_replica_recover"} & set(METHODS)
    node = lab.nodes["node1"]
    monkeypatch.setattr(replicated, "live_hosts", lambda *a, **k: node.hosts)
    ctx = Context(node.env, SPACE, cluster_host=lambda: node.hosts.cluster)

    def call(method, methods=METHODS, **params):
        return handle(ctx, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
                      "test", methods)

    found = call("san_pool_split_brain", pool="p1")["result"]
    assert found["split_brain"] and found["nodes"][1]["generations"]["current"] == f"{B2:016X}"
    assert call("san_pool_split_brain", pool="local")["error"]["data"]["field"] == "pool"
    plan = call("san_pool_recover", pool="p1", victim="node2")["result"]
    assert not plan["done"] and plan["survivor"] == "node1" and "discard-my-data" in plan["plan"][2]
    assert call("san_pool_recover", pool="p1", victim="node2", confirm=True, dry_run=True)["result"]["dry_run"]
    assert call("san_pool_recover", pool="p1", victim="node1", confirm=True)["error"]["data"]["field"] == "victim"
    assert lab.changes() == []
    peer = call("san_peer_replica_gi", PEER_METHODS, pool="p1")["result"]
    assert peer["node"] == "node1" and peer["gi"].startswith(f"{A1:016X}:") and "cs:StandAlone" in peer["proc_drbd"]
    done = call("san_pool_recover", pool="p1", victim="node2", confirm=True)["result"]
    assert done["done"] and lab.changes() == [("node2", "connect --discard-my-data"), ("node1", "connect")]
