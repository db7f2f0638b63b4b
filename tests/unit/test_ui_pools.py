"""The dashboard's pools section: local and replicated pools, this node's DRBD view of each (role, connection, disk
states, the sync progress bar, health in words, the warning style), and the values its self-update receives."""

from __future__ import annotations

import re

from sanappliance.model.config import Config, Pool

from .drbd_samples import config, two_pools
from .fakes import FakeSystem
from .test_drbd_status import STANDALONE, SYNCING, WAITING
from .test_pool_state import DrbdSystem
from .test_ui_harness import make_ui


def dashboard(system, cfg=None):
    ui = make_ui(system=system)
    ui.store.config = cfg or config()
    response = ui.get("/")
    assert response.status_code == 200
    return ui, response.get_data(as_text=True)


def row(page: str, pool: str) -> str:
    found = re.search(rf'<tr id="pool-{pool}".*?</tr>', page, re.S)
    assert found, pool
    return re.sub(r"\s+", " ", found.group(0))


def test_a_syncing_pool_with_its_progress_bar():
    _, page = dashboard(DrbdSystem(SYNCING))
    p1 = row(page, "p1")
    for fragment in ('data-state-key="pool:p1:state" data-state=""', "<td>replicated</td>",
                     'data-key="pool:p1:role">Primary<', 'data-key="pool:p1:peer_role">Secondary<',
                     'data-key="pool:p1:connection">SyncSource<', 'data-key="pool:p1:disk">UpToDate<',
                     'data-key="pool:p1:peer_disk">Inconsistent<', '<div data-show-key="pool:p1:syncing">',
                     '<progress max="100" value="23.8" data-value-key="pool:p1:sync_percent"',
                     'data-key="pool:p1:sync">23.8% ETA 0:29<', 'data-key="pool:p1:health" '
                     'data-state-key="pool:p1:state" data-state="">syncing<',
                     "resyncing 23.8% (this node is the source, 400384 KiB to go)"):
        assert fragment in p1, fragment
    local = row(page, "local")
    assert "<td>local</td>" in local and "local disks, not replicated" in local and "data-state" not in local


def test_in_sync_is_ok_and_the_bar_is_hidden():
    _, page = dashboard(DrbdSystem(SYNCING), two_pools())
    p2 = row(page, "p2")
    assert 'data-state="ok">in sync<' in p2 and '<div data-show-key="pool:p2:syncing" hidden>' in p2
    assert 'data-key="pool:p2:sync">-<' in p2 and 'data-key="pool:p2:role">Secondary<' in p2


def test_split_brain_and_degraded_in_warning_style():
    _, page = dashboard(DrbdSystem(STANDALONE))
    p1 = row(page, "p1")
    assert '<tr id="pool-p1" data-state-key="pool:p1:state" data-state="warning">' in p1
    assert 'data-state="warning">SPLIT BRAIN<' in p1 and "<code>" not in p1
    assert "run `sanctl /pools/p1 recover victim=NODE`" in p1
    _, page = dashboard(DrbdSystem(WAITING))
    assert 'data-state="warning">DEGRADED<' in row(page, "p1")


def test_without_a_drbd_reader_the_state_is_unknown():
    _, page = dashboard(FakeSystem())
    p1 = row(page, "p1")
    assert 'data-state="">unknown<' in p1 and "unknown (no DRBD reader)" in p1
    assert 'data-key="pool:p1:role">-<' in p1


def test_the_self_update_carries_the_pool_states():
    system = DrbdSystem(SYNCING)
    ui, _ = dashboard(system)
    first = ui.get("/api/summary").json
    values = first["values"]
    assert {k: v for k, v in values.items() if k.startswith("pool:p1:")} == {
        "pool:p1:free": "-", "pool:p1:role": "Primary", "pool:p1:peer_role": "Secondary",
        "pool:p1:connection": "SyncSource", "pool:p1:disk": "UpToDate", "pool:p1:peer_disk": "Inconsistent",
        "pool:p1:sync": "23.8% ETA 0:29", "pool:p1:sync_percent": 23.8, "pool:p1:syncing": True,
        "pool:p1:health": "syncing", "pool:p1:explanation": values["pool:p1:explanation"], "pool:p1:state": ""}
    assert not any(k.startswith("pool:local:") and k != "pool:local:free" for k in values)
    system.text = STANDALONE  # the link broke and DRBD found a split brain: the page updates in place
    second = ui.get("/api/summary").json
    assert second["layout"] == first["layout"]
    values = second["values"]
    assert (values["pool:p1:health"], values["pool:p1:state"], values["pool:p1:syncing"],
            values["pool:p1:sync_percent"], values["pool:p1:connection"]) == ("SPLIT BRAIN", "warning", False, 0,
                                                                              "StandAlone")
    assert "sanctl /pools/p1 recover victim=NODE" in values["pool:p1:explanation"]


def test_a_pool_that_changes_kind_changes_the_layout():
    ui, _ = dashboard(DrbdSystem(SYNCING))
    before = ui.get("/api/summary").json["layout"]
    ui.store.config = Config(pools=(config().pools[0], Pool("p1", ("/dev/disk/by-id/virtio-data2",))))
    assert ui.get("/api/summary").json["layout"] != before


class PathsSystem(FakeSystem):
    """multipathd's report of the shelf's disk: both paths active, or one failed."""

    def __init__(self, text):
        super().__init__()
        self.text = text

    def multipath_paths(self):
        return self.text


BOTH = "san-mp-c50015ea71ac|35000c50015ea71ac|sda|0:0:0:0|active|ready|running\n" \
       "san-mp-c50015ea71ac|35000c50015ea71ac|sdb|1:0:0:0|active|ready|running\n"


def shared_config():
    from sanappliance.model.config import FloatingIp, SharedDisk, SharedStorage

    return Config(pools=(Pool("s1", (), shared=SharedStorage((SharedDisk("35000c50015ea71ac", "san-mp-c50015ea71ac"),)),
                              floating_ips=(FloatingIp("10.231.1.101/24"),)),))


def test_a_shared_pool_shows_its_paths_and_a_failed_one_in_warning_style():
    system = PathsSystem(BOTH)
    ui, page = dashboard(system, shared_config())
    s1 = row(page, "s1")
    assert "<td>shared</td>" in s1 and 'data-key="pool:s1:paths">san-mp-c50015ea71ac: 2/2 paths up<' in s1
    assert 'data-state="ok">all paths up<' in s1
    system.text = BOTH.replace("sdb|1:0:0:0|active|ready", "sdb|1:0:0:0|failed|faulty")
    values = ui.get("/api/summary").json["values"]
    assert values["pool:s1:paths"] == "san-mp-c50015ea71ac: 1/2 paths up (sdb failed faulty)"
    assert (values["pool:s1:health"], values["pool:s1:state"]) == ("DEGRADED", "warning")
