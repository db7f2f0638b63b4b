"""`sanctl ls /pools` with replicated pools: this node's DRBD view of each (roles, disk states, sync progress, the
split-brain warning with its recovery command), the same through configshell and the one-shot listing."""

from __future__ import annotations

import io

import pytest

from sanappliance.model.config import Config
from sanappliance.service.env import Env
from sanappliance.service.pool_state import PoolState
from sanappliance.shell import listing, quick

from .drbd_samples import config, two_pools
from .fakes import FakeSystem, MemoryStore
from .test_drbd_status import HEAD, STANDALONE, SYNCING, TARGET, WAITING
from .test_pool_state import SYNCING_42, DrbdSystem
from .test_shell import DISK, FakeDisk, runner


@pytest.fixture(autouse=True)
def prefs(tmp_path, monkeypatch):
    monkeypatch.setenv("SANCTL_PREFS", str(tmp_path / "prefs"))


def both_ls(system, cfg: Config | None = None, path: str = "/pools") -> str:
    """`PATH ls` through configshell and through the one-shot listing: the same text, returned."""
    store = MemoryStore(cfg or config())
    system.disks = lambda config: [FakeDisk(DISK)]
    run = runner(store, system)
    run(f"{path} ls")
    shell = run.out.getvalue()
    out = io.StringIO()
    assert quick.try_ls([path, "ls"], lambda dry: Env(store, system, dry), out)
    assert out.getvalue() == shell
    return shell


def line_of(text: str, pool: str) -> str:
    return next(line for line in text.splitlines() if f"o- {pool} " in line)


def test_a_syncing_replicated_pool_and_a_local_one():
    text = both_ls(DrbdSystem(SYNCING_42))
    assert line_of(text, "p1").endswith("[2 volume(s), 2GiB allocated, replicated, Primary/Secondary, "
                                        "UpToDate/Inconsistent, sync 42.1% ETA 0:35]")
    assert line_of(text, "local").endswith("[1 volume(s), 1GiB allocated, on virtio-data1]")


def test_sync_target_in_sync_and_degraded():
    text = both_ls(DrbdSystem(SYNCING), two_pools())
    assert line_of(text, "p2").endswith("[1 volume(s), 1GiB allocated, replicated, Secondary/Primary, "
                                        "UpToDate/UpToDate]")
    assert "replicated, Secondary/Primary, Inconsistent/UpToDate, sync 0.4% ETA 3:59]" in both_ls(DrbdSystem(TARGET))
    assert "Primary/Unknown, UpToDate/DUnknown, DEGRADED (WFConnection)]" in both_ls(DrbdSystem(WAITING))


def test_split_brain_warns_with_the_recovery_command():
    text = both_ls(DrbdSystem(STANDALONE))
    assert line_of(text, "p1").endswith("[2 volume(s), 2GiB allocated, replicated, SPLIT BRAIN (StandAlone): "
                                        "sanctl /pools/p1 recover victim=NODE]")


def test_down_not_loaded_and_no_reader():
    assert "replicated, the DRBD resource san-p2 is not up on this node]" in both_ls(DrbdSystem(HEAD), two_pools())
    assert "replicated, DRBD is not loaded on this node (no /proc/drbd)]" in both_ls(DrbdSystem(None))
    assert "2GiB allocated, replicated, unknown (no DRBD reader)]" in both_ls(FakeSystem())
    assert "replicated, Primary/Secondary" in both_ls(DrbdSystem(SYNCING_42), path="/")


def test_red_for_a_warning_green_when_in_sync_plain_while_syncing():
    p1 = config().pool("p1")
    state = PoolState("p1", "replicated", "StandAlone", "Primary", "Unknown", "UpToDate", "DUnknown",
                      health="split-brain")
    assert listing.pool(config(), p1, state)[1] is False
    ok = PoolState("p1", "replicated", "Connected", "Primary", "Secondary", "UpToDate", "UpToDate", health="ok")
    assert listing.pool(config(), p1, ok) == ("2 volume(s), 2GiB allocated, replicated, Primary/Secondary, "
                                              "UpToDate/UpToDate", True)
    syncing = PoolState("p1", "replicated", "SyncSource", "Primary", "Secondary", "UpToDate", "Inconsistent", 5.0,
                        health="syncing")
    assert listing.pool(config(), p1, syncing)[1] is None
    assert listing.pool(config(), p1) == ("2 volume(s), 2GiB allocated, replicated", None)


def test_drbd_is_read_only_when_pools_are_shown():
    system = DrbdSystem(SYNCING)
    both_ls(system, path="/volumes")
    assert system.asked == 0
