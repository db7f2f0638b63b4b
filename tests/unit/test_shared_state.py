"""A shared pool as this node sees it: its disks' paths from multipathd (every path up, one down, none, a map under
another name, multipathd silent), `sanctl ls` of it and of the multipath disks; and the lock managers pushed
ahead of the first shared pool's VG (drbd.shared_cib.with_lock_managers)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.cluster import sanconfig
from sanappliance.drbd import cib, shared_cib
from sanappliance.errors import SanError
from sanappliance.model.config import Config, SharedDisk
from sanappliance.multipath.status import parse_show_paths
from sanappliance.service.env import Env
from sanappliance.service.pool_state import SHARED, UNKNOWN, PoolState, pool_states, shared_state, states_of
from sanappliance.shell import listing
from tests.unit import drbd_samples
from tests.unit.cluster_samples import two_nodes
from tests.unit.shared_samples import ALIAS1, ALIAS2, SHOW_PATHS, WWID1, WWID2, config, mixed, shared_pool

from .fakes import FakeSystem, MemoryStore
from .test_drbd_status import SYNCING
from .test_pool_listing import both_ls, line_of
from .test_pool_state import DrbdSystem
from .test_shared_cib import ids, merged

UP = f"""\
{ALIAS1}|{WWID1}|sdb|2:0:0:0|active|ready|running
{ALIAS1}|{WWID1}|sdc|3:0:0:0|active|ghost|running
"""
ONE_DOWN = SHOW_PATHS  # sdc failed faulty offline
ALL_DOWN = f"""\
{ALIAS1}|{WWID1}|sdb|2:0:0:0|failed|faulty|offline
{ALIAS1}|{WWID1}|sdc|3:0:0:0|failed|faulty|offline
"""
NOT_SEEN = f"{WWID2}|{WWID2}|sdd|4:0:0:1|active|ready|running\n"


class Reader:
    """multipathd's `show paths` as the Env's system gives it (None: multipathd does not answer)."""

    def __init__(self, text: str | None) -> None:
        self.text, self.asked = text, 0

    def __call__(self) -> str | None:
        self.asked += 1
        return self.text


def state(text: str | None, cfg: Config | None = None, pool: str = "s1") -> PoolState:
    found = {s.name: s for s in states_of(cfg or config(), None, Reader(text))}
    return found[pool]


# --- pool_state -----------------------------------------------------------------------------------------------------

def test_every_path_up_is_ok():
    s1 = state(UP)
    assert (s1.kind, s1.health, s1.paths) == (SHARED, "ok", f"{ALIAS1}: 2/2 paths up")
    assert s1.explanation == "every path of every disk up" and not s1.warning and not s1.replicated


def test_one_path_down_is_degraded():
    s1 = state(ONE_DOWN)
    assert (s1.health, s1.paths) == ("degraded", f"{ALIAS1}: 1/2 paths up (sdc failed faulty)")
    assert s1.warning and s1.explanation.startswith(f"DEGRADED: a path of {ALIAS1} is down")


def test_no_path_up_or_a_disk_not_seen_is_failed():
    s1 = state(ALL_DOWN)
    assert (s1.health, s1.paths) == ("failed", f"{ALIAS1}: 0/2 paths up (sdb failed faulty, sdc failed faulty)")
    assert s1.warning and ALIAS1 in s1.explanation and "cannot serve" in s1.explanation
    for text in (NOT_SEEN, ""):
        s1 = state(text)
        assert (s1.health, s1.paths) == ("failed", f"{ALIAS1}: no path up"), text


def test_a_map_under_another_alias_or_none_is_down():
    """LVM takes the disk only as /dev/mapper/ALIAS (lvm.conf): paths up under another map name do not serve."""
    s1 = state(UP.replace(f"{ALIAS1}|", "mpatha|"))
    assert (s1.health, s1.paths) == ("failed", f"{ALIAS1}: the map is named mpatha here")
    assert s1.warning and ALIAS1 in s1.explanation and "cannot serve" in s1.explanation
    s1 = state(UP.replace(f"{ALIAS1}|", f"{WWID1}|"))  # named by its WWID: no alias
    assert (s1.health, s1.paths) == ("failed", f"{ALIAS1}: the map is named {WWID1} here")
    two = shared_pool(disks=(SharedDisk(WWID1, ALIAS1), SharedDisk(WWID2, ALIAS2)))
    s1 = state(UP + NOT_SEEN, config(pool=two))  # WWID2's map named by its WWID, not ALIAS2
    assert s1.health == "failed" and s1.paths == (f"{ALIAS1}: 2/2 paths up; {ALIAS2}: the map is named {WWID2} "
                                                  "here")
    assert ALIAS2 in s1.explanation and ALIAS1 not in s1.explanation


def test_multipathd_silent_is_unknown():
    s1 = state(None)
    assert (s1.kind, s1.health, s1.paths) == (SHARED, UNKNOWN, "")
    assert s1.explanation == "multipathd does not run on this node" and not s1.warning
    assert {s.name: s for s in states_of(config(), None, None)}["s1"].health == UNKNOWN  # no reader at all
    assert state("sdb active ready\n").health == UNKNOWN  # an answer that does not parse: not guessed


def test_the_worst_disk_decides_and_only_it_is_named():
    two = shared_pool(disks=(SharedDisk(WWID1, ALIAS1), SharedDisk(WWID2, ALIAS2)))
    s1 = state(ONE_DOWN.replace(f"{WWID2}|{WWID2}", f"{ALIAS2}|{WWID2}"), config(pool=two))
    assert s1.health == "degraded" and ALIAS2 not in s1.explanation
    assert s1.paths == f"{ALIAS1}: 1/2 paths up (sdc failed faulty); {ALIAS2}: 2/2 paths up"
    s1 = state(UP, config(pool=two))
    assert s1.health == "failed" and s1.paths == f"{ALIAS1}: 2/2 paths up; {ALIAS2}: no path up"
    assert ALIAS2 in s1.explanation and ALIAS1 not in s1.explanation


def test_shared_state_of_the_parsed_paths():
    pool = config().pool("s1")
    assert shared_state(pool, parse_show_paths(UP)).health == "ok"
    assert shared_state(pool, ()).health == "failed"
    assert shared_state(pool, None).health == UNKNOWN


def test_multipathd_is_asked_once_and_only_for_a_shared_pool():
    reader = Reader(UP)
    found = states_of(mixed(), lambda: SYNCING, reader)
    assert [(s.name, s.kind) for s in found] == [("local", "local"), ("s1", SHARED), ("p1", "replicated")]
    assert reader.asked == 1 and found[1].health == "ok" and found[2].role == "Primary"
    reader = Reader(UP)
    states_of(drbd_samples.config(), lambda: SYNCING, reader)
    assert reader.asked == 0


class PathsSystem(DrbdSystem):
    """A node that reads /proc/drbd and multipathd's paths."""

    def __init__(self, drbd: str | None, paths: str | None) -> None:
        super().__init__(drbd)
        self.multipath_paths = Reader(paths)


def test_pool_states_read_the_env_s_system():
    system = PathsSystem(None, ONE_DOWN)
    found = {s.name: s for s in pool_states(Env(MemoryStore(config()), system))}
    assert found["s1"].health == "degraded" and system.multipath_paths.asked == 1 and system.asked == 0
    assert {s.name: s for s in pool_states(Env(MemoryStore(config()), FakeSystem()))}["s1"].health == UNKNOWN


# --- listing --------------------------------------------------------------------------------------------------------

HEAD = "2 volume(s), 3GiB allocated"  # svol1 and svol2 of shared_samples.config()


def test_a_shared_pool_listed_with_its_paths():
    cfg, s1 = config(), config().pool("s1")
    assert listing.pool(cfg, s1, state(UP)) == (f"{HEAD}, shared on {ALIAS1}: 2/2 paths up", True)
    assert listing.pool(cfg, s1, state(ONE_DOWN)) == (f"{HEAD}, shared on {ALIAS1}: 1/2 paths up (sdc failed "
                                                      "faulty)", False)
    assert listing.pool(cfg, s1, state(ALL_DOWN))[1] is False
    assert listing.pool(cfg, s1, state(NOT_SEEN)) == (f"{HEAD}, shared on {ALIAS1}: no path up", False)


def test_a_shared_pool_listed_without_a_state():
    cfg, s1 = config(), config().pool("s1")
    assert listing.pool(cfg, s1) == (f"{HEAD}, shared on {ALIAS1}", None)
    assert listing.pool(cfg, s1, state(None)) == (
        f"{HEAD}, shared on {ALIAS1}: multipathd does not run on this node", None)
    two = shared_pool(disks=(SharedDisk(WWID1, ALIAS1), SharedDisk(WWID2, ALIAS2)))
    assert listing.pool(config(pool=two), two) == (f"{HEAD}, shared on {ALIAS1}, {ALIAS2}", None)


def test_the_multipath_summary_counts_the_shared_pools_disks():
    disks = parse_show_paths(SHOW_PATHS)  # s1's disk, WWID2 and the system disk
    assert listing.multipath(config(), disks) == ("Multipath disks: 3, in shared pools: 1", None)
    assert listing.multipath(Config(), disks) == ("Multipath disks: 3, in shared pools: 0", None)
    assert listing.multipath(config(), []) == ("Multipath disks: 0, in shared pools: 0", None)
    two = replace(config(), pools=(*config().pools, shared_pool("s2", disks=(SharedDisk(WWID2, ALIAS2),),
                                                                floating_ips=())))
    assert listing.multipath(two, iter(disks)) == ("Multipath disks: 3, in shared pools: 2", None)


@pytest.fixture
def prefs(tmp_path, monkeypatch):
    monkeypatch.setenv("SANCTL_PREFS", str(tmp_path / "prefs"))


def test_ls_pools_shows_the_paths_through_both_listings(prefs):
    text = both_ls(PathsSystem(None, ONE_DOWN), config())
    assert line_of(text, "s1").endswith(f"[{HEAD}, shared on {ALIAS1}: 1/2 paths up (sdc failed faulty)]")
    text = both_ls(PathsSystem(None, None), config())
    assert line_of(text, "s1").endswith(f"[{HEAD}, shared on {ALIAS1}: multipathd does not run on this node]")


def test_ls_of_other_nodes_does_not_ask_multipathd(prefs):
    system = PathsSystem(None, UP)
    both_ls(system, config(), path="/volumes")
    assert system.multipath_paths.asked == 0


# --- the lock managers ahead of the first shared pool ---------------------------------------------------------------

def children(root: ET.Element, section: str) -> list[str]:
    return [el.get("id") for el in root.find(f"configuration/{section}")]


def xml(el: ET.Element) -> str:
    """The element without its layout (the CIB's text is indented)."""
    return ET.canonicalize(ET.tostring(el, encoding="unicode"), strip_text=True)


def test_with_lock_managers_adds_the_clones_and_their_constraints():
    base = ccib.render_cib(two_nodes())
    root = ET.fromstring(shared_cib.with_lock_managers(base, two_nodes()))
    assert children(root, "resources") == ["fence-sbd", "san-dlm-clone", "san-lvmlockd-clone"]
    assert children(root, "constraints") == ["san-fencing-gate", "san-lvmlockd-after-dlm", "san-lvmlockd-with-dlm"]
    assert int(root.get("epoch")) == int(ET.fromstring(base).get("epoch")) + 1
    resources = root.find("configuration/resources")
    assert [xml(el) for el in resources[1:]] == [xml(el) for el in shared_cib.lock_clones()]
    assert [xml(el) for el in root.find("configuration/constraints")[1:]] == [
        xml(el) for el in shared_cib.lock_constraints()]
    before = ET.fromstring(base)
    for section in ("crm_config", "nodes", "rsc_defaults"):  # the rest as it was
        assert xml(root.find(f"configuration/{section}")) == xml(before.find(f"configuration/{section}")), section


def test_with_lock_managers_twice_changes_nothing_but_the_epoch():
    base = ccib.render_cib(two_nodes())
    once = shared_cib.with_lock_managers(base, two_nodes())
    twice = shared_cib.with_lock_managers(once, two_nodes())
    epoch = ET.fromstring(once).get("epoch")
    assert twice == once.replace(f'epoch="{epoch}"', f'epoch="{int(epoch) + 1}"', 1)
    assert children(ET.fromstring(twice), "resources") == ["fence-sbd", "san-dlm-clone", "san-lvmlockd-clone"]


def test_with_lock_managers_keeps_the_nodes_and_the_pools_there(tmp_path):
    from .test_replicated_service import Cluster

    live = cib.merge_pools(Cluster(tmp_path, []).cib, two_nodes(), mixed())  # tested nodes, s1 and p1 in place
    root = ET.fromstring(shared_cib.with_lock_managers(live, two_nodes()))
    assert children(root, "resources") == children(ET.fromstring(live), "resources")
    assert ids(root) == ids(ET.fromstring(live))
    assert xml(root.find("configuration/nodes")) == xml(ET.fromstring(live).find("configuration/nodes"))
    assert sanconfig.read(ET.tostring(root, encoding="unicode")) == sanconfig.read(live)


def test_the_pool_s_push_keeps_the_clones_and_a_push_without_one_takes_them(tmp_path):
    ahead = shared_cib.with_lock_managers(ccib.render_cib(two_nodes()), two_nodes())
    root = merged(config(), ahead)
    assert children(root, "resources") == ["fence-sbd", "san-dlm-clone", "san-lvmlockd-clone", "san-s1"]
    left = ids(merged(drbd_samples.config(), ahead))
    assert not {i for i in left if i.startswith(("san-dlm", "san-lvmlockd"))}, left


def test_with_lock_managers_refuses_what_is_not_a_cib():
    with pytest.raises(SanError) as err:
        shared_cib.with_lock_managers("<pacemaker-result/>", two_nodes())
    assert err.value.field == "cib"
