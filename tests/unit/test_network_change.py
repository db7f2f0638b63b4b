"""Would a network change cut the management connection? (pure) What asks for confirmation and automatic
rollback, and what goes through without."""

from dataclasses import replace

import pytest

from sanappliance.errors import SanError
from sanappliance.network.change import CONFIRM_WITHIN, assess
from sanappliance.network.model import BondMode, Interface, LacpRate, Link, TimeSpec

from .test_network_samples import C, M, S, active_backup, dhcp, full


def with_link(spec, index, **kw):
    links = list(spec.links)
    links[index] = replace(links[index], **kw)
    return replace(spec, links=tuple(links))


def with_iface(spec, index, **kw):
    ifaces = list(spec.interfaces)
    ifaces[index] = replace(ifaces[index], **kw)
    return replace(spec, interfaces=tuple(ifaces))


def with_bond(spec, **kw):
    return replace(spec, bonds=(replace(spec.bonds[0], **kw),))


def cuts(old, new, **kw) -> tuple[str, ...]:
    impact = assess(old, new, **kw)
    assert impact.cuts == bool(impact.reasons) == impact.needs_confirmation
    assert impact.confirm_within == (CONFIRM_WITHIN if impact.cuts else 0)
    return impact.reasons


@pytest.mark.parametrize("change", [
    lambda s: replace(s, hostname="san9"),
    lambda s: replace(s, time=TimeSpec("UTC", ("ntp.example.org",))),
    lambda s: with_link(s, 0, dns=("192.0.2.54",)),
    lambda s: with_link(s, 0, addresses=(*s.links[0].addresses, "192.0.2.11/24")),
    lambda s: with_link(s, 3, addresses=("10.0.5.1/24",)),  # storage moves: not the management connection
    lambda s: with_iface(s, 3, mtu=None),
    lambda s: with_bond(s, miimon=50, lacp_rate=LacpRate.FAST),
    lambda s: replace(s, links=s.links[:-1]),
], ids=["hostname", "ntp", "dns", "address-added", "storage-address", "storage-mtu", "miimon", "link-removed"])
def test_what_does_not_cut(change):
    assert cuts(full(), change(full())) == ()


def test_first_boot_has_nothing_to_cut():
    impact = assess(None, full())
    assert not impact.cuts and impact.confirm_on == ("192.0.2.10", "2001:db8::10")


@pytest.mark.parametrize("change, reason", [
    (lambda s: with_link(s, 0, addresses=("192.0.2.11/24", "2001:db8::10/64")),
     "eth0: address(es) 192.0.2.10 removed"),
    (lambda s: with_link(s, 0, dhcp=True), "eth0: DHCP switched on"),
    (lambda s: with_link(s, 0, gateways=("192.0.2.254",)), "eth0: default gateway 192.0.2.1 -> 192.0.2.254"),
    (lambda s: with_iface(s, 0, mtu=9000), "eth0: MTU default -> 9000"),
    (lambda s: with_iface(s, 0, mac="52:54:00:aa:bb:07"), "eth0: matched by MAC 52:54:00:aa:bb:07 (was none)"),
    (lambda s: replace(with_link(s, 0, roles=()), links=(*with_link(s, 0, roles=()).links[:3],
                                                        replace(s.links[3], roles=(S, M)), s.links[4])),
     "the management role moves from eth0 to eth3"),
], ids=["address-removed", "dhcp-on", "gateway", "mtu", "mac", "role-moves"])
def test_what_cuts_on_a_port(change, reason):
    assert reason in cuts(full(), change(full()))


def test_the_port_removed():
    spec = full()
    new = replace(spec, interfaces=spec.interfaces[1:], links=spec.links[1:])
    reasons = cuts(spec, new)
    assert "the management role moves from eth0 to no link" in reasons
    assert "eth0: removed (the port goes down)" in reasons


def test_the_port_becomes_a_bond_member():
    spec = full()
    new = replace(spec, bonds=(replace(spec.bonds[0], members=("eth0", "eth1", "eth2")),),
                  links=(replace(spec.links[0], name="bond0.100", roles=(M,)),))
    reasons = cuts(spec, new)
    assert "eth0: becomes a member of bond0" in reasons
    assert "the management role moves from eth0 to bond0.100" in reasons


@pytest.mark.parametrize("change, reason", [
    (lambda s: with_bond(s, mode=BondMode.BALANCE_ALB),
     "mgmt0: bond mode active-backup -> balance-alb (the bond is created again)"),
    (lambda s: with_bond(s, members=("eth0",), primary=None), "mgmt0: member(s) eth1 removed"),
    (lambda s: with_bond(s, mtu=9000), "mgmt0: MTU default -> 9000"),
    (lambda s: with_iface(s, 1, mtu=1400), "eth1: MTU default -> 1400"),  # a member's own change
    (lambda s: replace(s, bonds=(), links=(replace(s.links[0], name="eth0"), s.links[1])),
     "mgmt0: removed (the port goes down)"),
], ids=["mode", "member-removed", "bond-mtu", "member-mtu", "bond-removed"])
def test_what_cuts_on_a_bond(change, reason):
    assert reason in cuts(active_backup(), change(active_backup()))


def test_what_does_not_cut_on_a_bond():
    spec = active_backup()
    more = replace(spec, interfaces=(*spec.interfaces, Interface("eth5")))
    assert cuts(more, with_bond(more, members=("eth0", "eth1", "eth5"))) == ()  # a member added
    assert cuts(spec, with_bond(spec, primary="eth1")) == ()  # another primary: the kernel switches over
    assert cuts(spec, with_link(spec, 0, roles=(M,))) == ()  # the cluster role leaves: not the management's concern


def test_management_on_a_vlan_checks_the_whole_stack():
    spec = full()
    on_vlan = replace(spec, links=(replace(spec.links[1], roles=(M, C)), replace(spec.links[0], roles=()),
                                   *spec.links[2:]))
    vlan_moved = replace(on_vlan, vlans=(replace(on_vlan.vlans[0], id=101), on_vlan.vlans[1]))
    assert "bond0.100: VLAN 100 on bond0 -> VLAN 101 on bond0 (created again)" in cuts(on_vlan, vlan_moved)
    assert "bond0: bond mode 802.3ad -> balance-xor (the bond is created again)" in cuts(
        on_vlan, with_bond(on_vlan, mode=BondMode.BALANCE_XOR, lacp_rate=None))
    assert "bond0: LACP rate changes (the bond is created again)" in cuts(
        on_vlan, with_bond(on_vlan, lacp_rate=LacpRate.SLOW))
    assert "eth2: MTU default -> 9000" in cuts(on_vlan, with_iface(on_vlan, 2, mtu=9000))
    assert cuts(on_vlan, with_iface(on_vlan, 3, mtu=1500)) == ()  # eth3 is not under the management link


def test_the_sessions_own_address():
    spec = full()
    storage_gone = with_link(spec, 3, addresses=("10.0.5.1/24",))
    assert cuts(spec, storage_gone) == ()
    assert cuts(spec, storage_gone, session_ip="10.0.3.1") == (
        "this session's address 10.0.3.1 is not in the new configuration",)
    assert cuts(spec, spec, session_ip="192.0.2.10") == ()
    assert cuts(dhcp(), replace(dhcp(), hostname="san2"), session_ip="192.0.2.77") == ()  # a DHCP lease: unknown


def test_dhcp_to_static_cuts_and_says_where_to_confirm():
    static = with_link(dhcp(), 0, dhcp=False, addresses=("192.0.2.30/24",))
    impact = assess(dhcp(), static)
    assert impact.reasons == ("eth0: DHCP switched off",)
    assert impact.confirm_on == ("192.0.2.30",) and impact.confirm_within == CONFIRM_WITHIN


def test_reasons_are_not_repeated():
    spec = active_backup()
    new = replace(spec, links=(Link("eth2", (M, S), addresses=("10.0.3.2/24",)),))
    reasons = cuts(spec, new)
    assert len(reasons) == len(set(reasons))
    assert reasons[0] == "the management role moves from mgmt0 to eth2"


def test_a_session_address_that_is_no_address():
    with pytest.raises(SanError) as err:
        assess(full(), full(), session_ip="console")
    assert err.value.field == "session_ip" and err.value.value == "console"
