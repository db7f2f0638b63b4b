"""The daily operations' CIB edits (cluster.edits) run through the image's own pacemaker 3.0: crm_verify accepts
every edited CIB, and the scheduler (crm_simulate) does what each operation promises: the fencing gate keeps the
appliance's storage resources off untested nodes, standby moves them away, move/clear, maintenance, stop/start."""

from __future__ import annotations

import pytest

from sanappliance.cluster import cib, edits
from tests.image.test_cluster_tools import crm_verify, simulate
from tests.unit.cluster_samples import two_nodes

pytestmark = pytest.mark.image
UP = ("--quorum", "1", "--node-up", "node1", "--node-up", "node2")


def base(tested: tuple[str, ...] = ("node1", "node2")) -> str:
    """The rendered CIB of two nodes with their node entries, a storage-like resource san-dummy (gated) that
    prefers node1 a little, and the fencing self-test recorded for `tested`."""
    xml = cib.render_cib(two_nodes())
    xml = xml.replace("<nodes />", '<nodes><node id="1" uname="node1" /><node id="2" uname="node2" /></nodes>')
    xml = xml.replace("</resources>", '<primitive id="san-dummy" class="ocf" provider="pacemaker" type="Dummy">'
                                      '<operations><op id="san-dummy-monitor-10s" name="monitor" interval="10s" />'
                                      "</operations></primitive></resources>")
    xml = xml.replace("</constraints>", '<rsc_location id="san-dummy-prefers-node1" rsc="san-dummy" node="node1" '
                                        'score="50" /></constraints>')
    return edits.apply(xml, *(edits.node_attribute(n, cib.FENCING_TESTED, "2026-12-01T08:00:00Z") for n in tested))


def running(image_root, xml: str, *changes: str) -> list[str]:
    _, _, placement = simulate(image_root, xml, *changes)
    return placement.get("san-dummy", [])


def checked(image_root, xml: str) -> str:
    """crm_verify accepts it (a CIB with a status section: without one every node is unclean)."""
    result = crm_verify(image_root, xml)
    assert result.returncode == 0, result.output
    return xml


def test_the_gate_keeps_storage_off_nodes_whose_fencing_is_untested(image_root):
    assert running(image_root, base(tested=()), *UP) == []
    assert running(image_root, base(tested=("node2",)), *UP) == ["node2"]  # despite its preference for node1
    assert running(image_root, base(), *UP) == ["node1"]


def test_standby_moves_resources_away_and_online_lets_them_stay(image_root):
    _, xml, placement = simulate(image_root, base(), *UP)
    assert placement["san-dummy"] == ["node1"]
    away = checked(image_root, edits.apply(xml, edits.standby("node1", True)))
    _, xml, placement = simulate(image_root, away)
    assert placement["san-dummy"] == ["node2"]
    back = checked(image_root, edits.apply(xml, edits.standby("node1", False)))
    assert running(image_root, back) == ["node2"]  # stickiness: no move back by itself


def test_move_then_clear(image_root):
    _, xml, _ = simulate(image_root, base(), *UP)
    moved = checked(image_root, edits.apply(xml, edits.move("san-dummy", "node2")))
    _, xml, placement = simulate(image_root, moved)
    assert placement["san-dummy"] == ["node2"]
    cleared = checked(image_root, edits.apply(xml, edits.clear("san-dummy")))
    assert "cli-prefer-san-dummy" not in cleared
    assert running(image_root, cleared) == ["node2"]


def test_stop_and_start(image_root):
    _, xml, _ = simulate(image_root, base(), *UP)
    stopped = checked(image_root, edits.apply(xml, edits.target_role("san-dummy", False)))
    _, xml, placement = simulate(image_root, stopped)
    assert "san-dummy" not in placement
    assert running(image_root, checked(image_root, edits.apply(xml, edits.target_role("san-dummy", True)))) \
        == ["node1"]


def test_maintenance_mode_changes_nothing_until_it_is_off(image_root):
    _, xml, _ = simulate(image_root, base(), *UP)
    quiet = checked(image_root, edits.apply(xml, edits.maintenance(True), edits.target_role("san-dummy", False)))
    transcript, xml, placement = simulate(image_root, quiet)
    assert placement.get("san-dummy") == ["node1"] and "Stop" not in transcript, transcript  # unmanaged: left alone
    _, _, placement = simulate(image_root, edits.apply(xml, edits.maintenance(False)))
    assert "san-dummy" not in placement  # now the stop happens


def test_a_restored_configuration_verifies_and_runs_as_before(image_root):
    saved = base()
    _, live, _ = simulate(image_root, saved, *UP)
    wiped = edits.apply(live, lambda config: [config.remove(c) for c in list(config) if c.tag != "crm_config"])
    assert "san-dummy" not in edits.configuration(wiped)
    restored = checked(image_root, edits.apply(wiped, edits.replace_configuration(saved)))
    assert edits.configuration(restored) == edits.configuration(saved)
    assert running(image_root, restored) == ["node1"]
