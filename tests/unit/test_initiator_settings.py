"""Initiator settings derived from the appliance's failover timers: the arithmetic (I/O held longer than the
longest failover), the rendered iscsid.conf, multipath device section, iface binding, ESXi and Windows commands,
and docs/INITIATORS.md showing the same numbers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sanappliance.cluster.timeouts import derive as timing
from sanappliance.drbd.render import FENCE_PEER_TIMEOUT
from sanappliance.errors import SanError
from sanappliance.initiator import render, settings
from sanappliance.model.config import FloatingIp
from tests.unit.cluster_samples import two_nodes
from tests.unit.shared_samples import SIQN, config, shared_pool

DOC = Path(__file__).resolve().parents[2] / "docs" / "INITIATORS.md"


def production() -> settings.InitiatorSettings:
    return settings.derive(two_nodes().timing())


def test_the_longest_failover_phase_by_phase():
    f = production().failover
    assert (f.detect, f.fence_delay, f.fence, f.promote, f.start) == (7, 15, 20, FENCE_PEER_TIMEOUT, 30)
    lab = settings.derive(timing("lab", 2)).failover
    assert (lab.detect, lab.fence_delay, lab.fence, lab.start) == (22, 30, 40, 120)
    three = settings.derive(timing("production", 3)).failover
    assert (three.detect, three.fence_delay) == (9, 0)  # token + 650 ms per extra node; no delays beyond two


@pytest.mark.parametrize("profile, nodes", [("production", 2), ("lab", 2), ("production", 3), ("lab", 5)])
def test_io_is_held_longer_than_any_failover(profile, nodes):
    s = settings.derive(timing(profile, nodes))
    assert s.no_path_retry * settings.POLLING_INTERVAL == s.hold >= s.failover.total * settings.MARGIN
    assert s.hold - settings.POLLING_INTERVAL < s.failover.total * settings.MARGIN  # and not a period more
    assert s.single_path_replacement_timeout == s.hold
    assert s.silence >= settings.MIN_SILENCE and s.silence * 1000 >= timing(profile, nodes).effective_token_ms
    assert s.replacement_timeout == 2 * s.silence and s.login_timeout == s.silence


def test_the_numbers_follow_the_cluster_timers():
    base = production()
    slower = settings.derive(replace(two_nodes().timing(), stonith_timeout=60))
    assert slower.failover.total == base.failover.total + 40 and slower.hold > base.hold
    assert settings.derive(two_nodes().timing(), takeover=0).failover.start == 0
    with pytest.raises(SanError) as err:
        settings.derive(two_nodes().timing(), takeover=-1)
    assert err.value.field == "takeover"


def test_iscsid_conf_lines():
    s = production()
    text = render.render_iscsid_conf(s)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["node.startup = automatic", f"node.session.timeo.replacement_timeout = {s.replacement_timeout}",
                     f"node.conn[0].timeo.login_timeout = {s.login_timeout}",
                     f"node.conn[0].timeo.noop_out_interval = {s.silence}",
                     f"node.conn[0].timeo.noop_out_timeout = {s.silence}"]
    assert f"replacement_timeout = {s.hold}" in text  # the single-session alternative, commented


def test_multipath_device_section_golden():
    s = production()
    assert render.render_multipath_device(s) == f"""\
devices {{
    device {{
        vendor "LIO-ORG"
        product ".*"
        # both portals are on the node that serves the pool: one group, I/O over both networks
        path_grouping_policy multibus
        path_selector "service-time 0"
        path_checker tur
        failback immediate
        # {s.no_path_retry} x polling_interval 5 s = {s.hold} s of queueing with every path down:
        # the longest failover ({s.failover.total} s) x 1.2
        no_path_retry {s.no_path_retry}
    }}
}}
"""


def test_iface_binding_one_interface_per_portal():
    cfg = config()
    text = render.render_iface_binding(cfg, cfg.pool("s1"), ["ens4", "ens5"])
    assert "iscsiadm -m iface -I san1 -o update -n iface.net_ifacename -v ens5" in text
    assert "iscsiadm -m discovery -t sendtargets -p 10.0.3.110:3260 -I san0" in text
    assert text.splitlines()[-2:] == [f"iscsiadm -m node -T {SIQN} -p 10.0.3.110:3260 -I san0 --login",
                                      f"iscsiadm -m node -T {SIQN} -p 10.0.4.110:3260 -I san1 --login"]
    six = shared_pool(floating_ips=(FloatingIp("fd00:3::110/64"),))
    assert "-p [fd00:3::110]:3260 -I san0" in render.render_iface_binding(config(pool=six), six, ["ens4"])


@pytest.mark.parametrize("pool, nics, field", [
    (shared_pool(), ["ens4"], "nics"),
    (shared_pool(), ["ens4", "bad nic"], "nics[1]"),
    (shared_pool(floating_ips=()), [], "pools[s1].floating_ips"),
])
def test_iface_binding_refusals_name_the_field(pool, nics, field):
    with pytest.raises(SanError) as err:
        render.render_iface_binding(config(pool=pool), pool, nics)
    assert err.value.field == field


def test_esxi_values_stay_in_its_ranges():
    s = production()
    assert s.esxi == {"NoopOutInterval": 5, "NoopOutTimeout": 10, "RecoveryTimeout": 10, "LoginTimeout": 5,
                      "Misc.APDTimeout": max(140, s.hold)}
    text = render.render_esxi(s, "vmhba65")
    assert "--psp VMW_PSP_RR" in text and "--key RecoveryTimeout --value 10" in text and "vmhba65" in text
    long = settings.derive(replace(two_nodes().timing(), effective_token_ms=200000))
    assert long.esxi["NoopOutTimeout"] == 30 and long.esxi["RecoveryTimeout"] == 120


def test_windows_holds_the_device_through_a_failover():
    s = production()
    assert s.windows == {"PDORemovePeriod": s.hold, "LinkDownTime": s.replacement_timeout,
                         "MaxRequestHoldTime": s.hold}
    text = render.render_windows(s)
    assert 'New-MSDSMSupportedHW -VendorId "LIO-ORG" -ProductId "IBLOCK"' in text
    assert f"-NewPDORemovePeriod {s.hold}" in text and "-Policy RR" in text


def test_the_doc_shows_the_derived_numbers():
    table = render.numbers_table([production(), settings.derive(timing("lab", 2))])
    assert table in DOC.read_text(), "docs/INITIATORS.md: paste render.numbers_table's output again"
    assert render.render_multipath_device(production()) in DOC.read_text()
    assert render.render_iscsid_conf(production()) in DOC.read_text()
