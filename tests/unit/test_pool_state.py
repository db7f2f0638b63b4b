"""The pools' state for the front ends (service.pool_state): local and replicated pools, this node's DRBD view from
sample /proc/drbd texts, the health in words, and the live system's reader of /proc/drbd."""

from __future__ import annotations

import pytest

from sanappliance.apply.live import LiveSystem
from sanappliance.errors import SanError
from sanappliance.model.config import Config, Pool
from sanappliance.service import pool_state
from sanappliance.service.env import Env
from sanappliance.service.pool_state import NO_READER, PoolState, eta, pool_states

from .drbd_samples import config, two_pools
from .fakes import FakeSystem, MemoryStore
from .test_drbd_status import HEAD, STANDALONE, SYNCING, TARGET, VERIFY, WAITING

SYNCING_42 = HEAD + """ 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:123904 nr:0 dw:0 dr:124832 al:8 bm:0 lo:0 pe:2 ua:0 ap:0 ep:1 wo:f oos:303104
\t[=======>............] sync'ed: 42.1% (303104/524288)K
\tfinish: 0:00:35 speed: 8,660 (8,660) K/sec
"""


class DrbdSystem(FakeSystem):
    """A system that reads /proc/drbd (the text set by the test; None: DRBD not loaded)."""

    def __init__(self, text: str | None) -> None:
        super().__init__()
        self.text = text
        self.asked = 0

    def drbd_status(self) -> str | None:
        self.asked += 1
        return self.text


def states(text: str | None, cfg: Config | None = None) -> dict[str, PoolState]:
    env = Env(MemoryStore(cfg or config()), DrbdSystem(text))
    return {s.name: s for s in pool_states(env)}


def test_local_pools_only_never_read_drbd():
    system = DrbdSystem(SYNCING)
    env = Env(MemoryStore(Config(pools=(Pool("p1", ("/dev/disk/by-id/virtio-data1",)),))), system)
    assert pool_states(env) == [PoolState("p1", "local")]
    assert system.asked == 0 and not pool_states(env)[0].warning and pool_states(env)[0].health == ""


def test_a_syncing_source():
    found = states(SYNCING)
    assert list(found) == ["local", "p1"] and found["local"].kind == "local"
    p1 = found["p1"]
    assert (p1.kind, p1.connection, p1.role, p1.peer_role, p1.disk, p1.peer_disk) == (
        "replicated", "SyncSource", "Primary", "Secondary", "UpToDate", "Inconsistent")
    assert (p1.sync_percent, p1.sync_eta, p1.out_of_sync_kib, p1.health) == (23.8, "0:29", 400384, "syncing")
    assert (p1.roles, p1.disks, p1.sync) == ("Primary/Secondary", "UpToDate/Inconsistent", "23.8% ETA 0:29")
    assert p1.syncing and not p1.warning and p1.replicated
    assert p1.explanation.startswith("resyncing 23.8% (this node is the source, 400384 KiB to go)")


def test_a_sync_target_and_a_verify():
    p1 = states(TARGET)["p1"]
    assert (p1.role, p1.disk, p1.sync, p1.health) == ("Secondary", "Inconsistent", "0.4% ETA 3:59", "syncing")
    assert "this node receives" in p1.explanation
    p1 = states(VERIFY)["p1"]
    assert p1.verifying and p1.sync == "31.0% ETA 0:20" and p1.explanation.startswith("verifying 31.0%")


def test_in_sync():
    p2 = states(SYNCING, two_pools())["p2"]  # minor 1 of the sample: Connected, UpToDate/UpToDate
    assert (p2.connection, p2.roles, p2.disks, p2.health, p2.sync_percent, p2.sync) == (
        "Connected", "Secondary/Primary", "UpToDate/UpToDate", "ok", None, "")
    assert p2.explanation == "in sync: connected, both disks UpToDate, this node Secondary" and not p2.warning


def test_standalone_is_a_split_brain_with_the_recovery_command():
    p1 = states(STANDALONE)["p1"]
    assert (p1.connection, p1.health, p1.out_of_sync_kib) == ("StandAlone", "split-brain", 4096) and p1.warning
    assert p1.explanation.startswith("SPLIT BRAIN: DRBD is StandAlone")
    assert "`sanctl /pools/p1 recover victim=NODE`" in p1.explanation and "(node1 or node2)" in p1.explanation


def test_a_missing_peer_is_degraded():
    p1 = states(WAITING)["p1"]
    assert (p1.connection, p1.health) == ("WFConnection", "degraded") and p1.warning
    assert p1.explanation == ("DEGRADED: the peer is not connected (WFConnection); this node (Primary) runs "
                              "without a replica")
    outdated = HEAD + " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/Outdated C r-----\n"
    assert states(outdated)["p1"].explanation == "DEGRADED: the peer's disk is Outdated"


def test_a_failed_disk_and_a_resource_that_is_down():
    diskless = HEAD + " 0: cs:Connected ro:Primary/Secondary ds:Diskless/UpToDate C r-----\n"
    p1 = states(diskless)["p1"]
    assert p1.health == "failed" and p1.warning and "this node's disk is Diskless" in p1.explanation
    p2 = states(HEAD, two_pools())["p2"]  # minor 1 not listed: not up here
    assert (p2.connection, p2.health, p2.role) == ("Unconfigured", "down", "") and p2.warning
    assert p2.explanation == "the DRBD resource san-p2 is not up on this node"


def test_drbd_not_loaded_no_reader_or_unreadable():
    p1 = states(None)["p1"]
    assert p1.health == "down" and p1.explanation == "DRBD is not loaded on this node (no /proc/drbd)"
    env = Env(MemoryStore(config()), FakeSystem())  # no drbd_status(): cannot tell
    p1 = {s.name: s for s in pool_states(env)}["p1"]
    assert (p1.health, p1.explanation, p1.warning) == ("unknown", NO_READER, False)
    p1 = states("version: 9.2.12 (api:2/proto:86-122)\n")["p1"]
    assert p1.health == "unknown" and "DRBD 8.4" in p1.explanation


def test_pool_states_of_a_loaded_config():
    system = DrbdSystem(SYNCING)
    found = pool_states(Env(MemoryStore(), system), config())
    assert [s.name for s in found] == ["local", "p1"] and system.asked == 1


@pytest.mark.parametrize("seconds,text", [(0, "0:00"), (35, "0:35"), (239, "3:59"), (3600, "1:00:00"),
                                          (3700, "1:01:40"), (-5, "0:00")])
def test_eta(seconds, text):
    assert eta(seconds) == text


def test_live_reader_of_proc_drbd(tmp_path, monkeypatch):
    proc = tmp_path / "drbd"
    monkeypatch.setattr(LiveSystem, "proc_drbd", proc)
    assert LiveSystem().drbd_status() is None  # no file: DRBD is not loaded
    proc.write_text(SYNCING)
    assert LiveSystem().drbd_status() == SYNCING
    proc.unlink()
    proc.mkdir()  # unreadable as a file: an error naming it, not "not loaded"
    with pytest.raises(SanError) as err:
        LiveSystem().drbd_status()
    assert err.value.field == str(proc)
    assert pool_state.RECOVER.format(pool="p1") == "sanctl /pools/p1 recover victim=NODE"
