"""Validation of the network spec (pure): every problem is found, each naming its field and value."""

from dataclasses import replace

import pytest

from sanappliance.errors import SanError
from sanappliance.network.model import (
    Bond,
    BondMode,
    HashPolicy,
    Interface,
    LacpRate,
    Link,
    NetworkSpec,
    Role,
    TimeSpec,
    Vlan,
)
from sanappliance.network.validate import Facts, check, validate

from .test_network_samples import C, M, R, S, active_backup, dhcp, full


def problems(spec, facts=None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in validate(spec, facts):
        out.setdefault(p.field, []).append(p.message)
    return out


def with_link(spec, index, **kw):
    links = list(spec.links)
    links[index] = replace(links[index], **kw)
    return replace(spec, links=tuple(links))


def with_iface(spec, index, **kw):
    ifaces = list(spec.interfaces)
    ifaces[index] = replace(ifaces[index], **kw)
    return replace(spec, interfaces=tuple(ifaces))


def with_bond(spec, **kw):
    return replace(spec, bonds=(replace(spec.bonds[0], **kw), *spec.bonds[1:]))


def with_vlan(spec, index, **kw):
    vlans = list(spec.vlans)
    vlans[index] = replace(vlans[index], **kw)
    return replace(spec, vlans=tuple(vlans))


def only(spec, field, fragment, facts=None):
    """`spec` has exactly one problem, on `field`, whose message contains `fragment`."""
    found = problems(spec, facts)
    assert list(found) == [field] and len(found[field]) == 1, found
    assert fragment in found[field][0], found


# --- names ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["eth0123456789012", "lo", "all", "default", "123", "eth 0", "a/b", "a:1", "", "."])
def test_interface_names_follow_the_kernels_rules(name):
    spec = replace(dhcp(), interfaces=(*dhcp().interfaces, Interface(name)))
    only(spec, "interfaces[1].name", "an interface name is 1-15")


def test_fifteen_characters_are_fine():
    assert validate(replace(dhcp(), interfaces=(*dhcp().interfaces, Interface("storage-left.01")))) == []


def test_a_name_is_taken_once():
    spec = replace(full(), interfaces=(*full().interfaces, Interface("bond0")))
    assert "the name is taken already (an interface)" in problems(spec)["bonds[0].name"][0]


@pytest.mark.parametrize("hostname", ["San1", "-san", "san-", "san_1", "san.example.com", "", "a" * 64])
def test_hostname_rules(hostname):
    only(replace(dhcp(), hostname=hostname), "hostname", "a host name is 1-63")


# --- bonds ---------------------------------------------------------------------------------------------------------

def test_unknown_member():
    only(with_bond(full(), members=("eth1", "eth7")), "bonds[0].members[1]", "no such interface")


def test_a_member_in_two_bonds():
    spec = replace(full(), bonds=(*full().bonds, Bond("bond1", ("eth2",))))
    only(spec, "bonds[1].members[0]", "a member of bond0 already")


def test_members_are_interfaces():
    only(with_bond(full(), members=("eth1", "bond0.200")), "bonds[0].members[1]", "not a vlan")


def test_a_member_has_no_addresses_of_its_own():
    spec = replace(full(), links=(*full().links, Link("eth1", (S,), addresses=("10.0.9.1/24",))))
    only(spec, "links[5].name", "a member of bond0 has no addresses or roles of its own")


def test_a_bond_needs_members():
    found = problems(with_bond(full(), members=()))
    assert "at least one member" in found["bonds[0].members"][0]


@pytest.mark.parametrize("miimon", [0, 5, 10001, True])
def test_miimon_range(miimon):
    only(with_bond(full(), miimon=miimon), "bonds[0].miimon", "10-10000 ms")


def test_primary_needs_a_mode_that_has_one_and_a_member():
    only(with_bond(full(), primary="eth1"), "bonds[0].primary", "a primary member needs mode active-backup")
    only(with_bond(active_backup(), primary="eth2"), "bonds[0].primary", "one of the bond's members")


def test_lacp_options_only_where_they_apply():
    spec = with_bond(full(), mode=BondMode.ACTIVE_BACKUP)
    found = problems(spec)
    assert "802.3ad only" in found["bonds[0].lacp_rate"][0]
    assert "balance-xor, 802.3ad, balance-tlb" in found["bonds[0].xmit_hash_policy"][0]
    assert validate(with_bond(spec, lacp_rate=None, xmit_hash_policy=None)) == []
    assert validate(with_bond(spec, lacp_rate=None, mode=BondMode.BALANCE_XOR,
                              xmit_hash_policy=HashPolicy.LAYER2_3)) == []
    assert validate(with_bond(full(), lacp_rate=LacpRate.SLOW)) == []


# --- VLANs ---------------------------------------------------------------------------------------------------------

def test_vlan_parent_exists():
    only(with_vlan(full(), 0, parent="bond9"), "vlans[0].parent", "no such interface or bond")


def test_vlan_on_a_vlan_or_a_member():
    only(with_vlan(full(), 1, parent="bond0.100"), "vlans[1].parent", "not on another VLAN")
    only(with_vlan(full(), 1, parent="eth1", mtu=None), "vlans[1].parent", "put the VLAN on the bond")


@pytest.mark.parametrize("vid", [0, 4095, -1, "100"])
def test_vlan_id_range(vid):
    only(with_vlan(full(), 1, id=vid), "vlans[1].id", "1-4094")


def test_vlan_ids_are_unique_per_parent():
    only(with_vlan(full(), 1, id=100), "vlans.id", "VLAN id 100 is used twice on bond0")
    spec = replace(full(), vlans=(*full().vlans, Vlan("eth3.100", "eth3", 100)))
    assert validate(spec) == []  # the same id on another parent is another network


# --- addresses -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address, fragment", [
    ("10.0.3.1", "written with its prefix"),
    ("10.0.3.300/24", "not an IPv4 or IPv6 address"),
    ("10.0.3.1/33", "not an IPv4 or IPv6 address"),
    ("127.0.0.2/8", "not a usable unicast address"),
    ("224.0.0.5/24", "not a usable unicast address"),
    ("169.254.1.1/16", "not a usable unicast address"),
    ("fe80::1/64", "not a usable unicast address"),
    ("10.0.3.0/24", "network or broadcast address of 10.0.3.0/24"),
    ("10.0.3.255/24", "network or broadcast address"),
])
def test_address_rules(address, fragment):
    only(with_link(full(), 3, addresses=(address,)), "links[3].addresses[0]", fragment)


def test_point_to_point_prefixes_have_no_network_address():
    assert validate(with_link(full(), 3, addresses=("10.0.3.0/31",))) == []
    assert validate(with_link(full(), 3, addresses=("10.0.3.7/32",))) == []


def test_duplicate_address():
    only(with_link(full(), 4, addresses=("10.0.3.1/25",)), "links[4].addresses[0]",
         "address used already (links[3].addresses[0])")


def test_overlapping_subnets_across_links():
    only(with_link(full(), 2, addresses=("10.0.1.2/23",)), "links[2].addresses[0]",
         "the subnet overlaps 10.0.1.0/24 of bond0.100 (links[1].addresses[0])")
    only(with_link(full(), 0, addresses=("192.0.2.10/24", "2001:db8::10/64", "10.0.4.9/24")),
         "links[4].addresses[0]", "overlaps 10.0.4.0/24 of eth0 (links[0].addresses[2])")  # the later one


def test_two_subnets_on_one_link_may_overlap():
    assert validate(with_link(full(), 3, addresses=("10.0.3.1/24", "10.0.3.2/24"))) == []


@pytest.mark.parametrize("gateways, fragment", [
    (("198.51.100.1",), "outside the link's subnets (192.0.2.0/24)"),
    (("192.0.2.10",), "this machine's own address"),
    (("192.0.2.1", "192.0.2.254"), "one default gateway per address family"),
    (("gateway",), "a gateway is an IPv4 or IPv6 address"),
    (("2001:db9::1",), "outside the link's subnets (2001:db8::/64)"),
])
def test_gateway_rules(gateways, fragment):
    spec = with_link(full(), 0, gateways=gateways)
    found = problems(spec)
    assert [f for f in found if f.startswith("links[0].gateways")], found
    assert any(fragment in m for ms in found.values() for m in ms), found


def test_gateways_of_both_families_and_a_link_local_one():
    assert validate(with_link(full(), 0, gateways=("192.0.2.1", "2001:db8::1"))) == []
    assert validate(with_link(full(), 0, gateways=("fe80::1",))) == []


def test_one_link_has_the_default_gateway():
    only(with_link(full(), 3, gateways=("10.0.3.254",)), "links[3].gateways[0]",
         "a default gateway is set already (links[0].gateways[0])")


def test_a_gateway_needs_a_static_subnet():
    only(with_link(dhcp(), 0, gateways=("192.0.2.1",)), "links[0].gateways[0]", "outside the link's subnets (none)")


def test_name_servers():
    found = problems(with_link(full(), 0, dns=("192.0.2.53", "ns1", "192.0.2.53")))
    assert "a name server is an IPv4 or IPv6 address" in found["links[0].dns[1]"][0]
    assert "listed twice" in found["links[0].dns"][0]


# --- links and roles -----------------------------------------------------------------------------------------------

def test_link_on_an_unknown_device_and_twice_on_one():
    spec = replace(full(), links=(*full().links, Link("eth8", (S,), addresses=("10.0.8.1/24",)),
                                  Link("eth3", (), addresses=("10.0.9.1/24",))))
    found = problems(spec)
    assert found["links[5].name"] == ["no such interface, bond or VLAN"]
    assert found["links[6].name"] == ["links[3] configures this device already"]


def test_exactly_one_management_link():
    only(with_link(full(), 0, roles=()), "links", "exactly one link has the management role")
    only(with_link(full(), 3, roles=(S, M)), "links[3].roles", "the management role is on links[0] already")


def test_at_most_two_cluster_links():
    only(with_link(full(), 3, roles=(S, C)), "links[3].roles", "at most 2 cluster links")


@pytest.mark.parametrize("index, role", [(2, C), (3, R), (3, S)])
def test_a_role_needs_a_static_address(index, role):
    spec = with_link(full(), index, roles=(role,), addresses=(), dhcp=True)
    only(spec, f"links[{index}].addresses", f"the {role.value} role needs a static address")


def test_management_needs_an_address_or_dhcp():
    only(with_link(dhcp(), 0, dhcp=False), "links[0].addresses", "a static address or DHCP")
    assert validate(with_link(dhcp(), 0, addresses=("192.0.2.9/24",))) == []  # both: fine


def test_a_role_listed_twice():
    only(with_link(full(), 3, roles=(S, S)), "links[3].roles", "role listed twice")


def test_a_link_without_roles_is_an_extra_network():
    assert validate(with_link(full(), 3, roles=())) == []


# --- MTU -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mtu", [575, 9001, 0, True])
def test_mtu_range(mtu):
    only(with_iface(full(), 3, mtu=mtu), "interfaces[3].mtu", "an MTU is 576-9000")


def test_ipv6_needs_1280():
    only(with_iface(full(), 0, mtu=1279), "interfaces[0].mtu", "(IPv6 needs 1280)")
    assert validate(with_iface(full(), 3, mtu=1000)) == []  # IPv4 only


def test_members_follow_the_bonds_mtu():
    only(with_iface(full(), 1, mtu=1500), "bonds[0].members[0]", "a member's MTU is its bond's (9000)")
    assert validate(with_iface(full(), 1, mtu=9000)) == []


def test_a_vlan_fits_in_its_parent():
    only(with_bond(with_vlan(full(), 0, mtu=9000), mtu=None), "vlans[0].mtu", "at most its parent's (1500)")


# --- MAC addresses -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mac", ["52:54:00:aa:bb", "52-54-00-aa-bb-01", "01:00:5e:00:00:01", "00:00:00:00:00:00",
                                 "52:54:00:aa:bb:0g"])
def test_mac_rules(mac):
    only(with_iface(full(), 4, mac=mac), "interfaces[4].mac", "a MAC address is six hex pairs")


def test_one_mac_one_interface():
    spec = with_iface(full(), 3, mac="52:54:00:AA:BB:01", name="lan1")
    spec = with_link(spec, 3, name="lan1")
    only(spec, "interfaces.mac", "two interfaces match the same MAC address")


def test_renaming_to_a_kernel_name_is_refused():
    only(with_iface(full(), 3, mac="52:54:00:aa:bb:02"), "interfaces[3].name", "outside the kernel's ethN")


# --- time ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tz", ["Europe/Berlin!", "../etc/passwd", "Europe//Berlin", "", "Europe Berlin", "a/b/c/d"])
def test_timezone_format(tz):
    only(replace(dhcp(), time=TimeSpec(tz)), "time.timezone", "a tz database name")


@pytest.mark.parametrize("tz", ["UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "America/Port-au-Prince"])
def test_timezone_names(tz):
    assert validate(replace(dhcp(), time=TimeSpec(tz))) == []


@pytest.mark.parametrize("server", ["ntp..example.org", "-ntp.example.org", "ntp_1.example.org", "", "1.2.3.999"])
def test_ntp_server_names(server):
    only(replace(dhcp(), time=TimeSpec(ntp_servers=(server,))), "time.ntp_servers[0]", "a host name or an IP")


def test_ntp_servers_listed_once_and_not_too_many():
    only(replace(dhcp(), time=TimeSpec(ntp_servers=("a.example", "a.example"))), "time.ntp_servers", "listed twice")
    many = tuple(f"ntp{i}.example.org" for i in range(9))
    only(replace(dhcp(), time=TimeSpec(ntp_servers=many)), "time.ntp_servers", "at most 8")
    fine = ("ntp.example.org.", "192.0.2.123", "2001:db8::123", "localhost")
    assert validate(replace(dhcp(), time=TimeSpec(ntp_servers=fine))) == []


# --- facts of the live system --------------------------------------------------------------------------------------

def test_ports_must_be_present_when_known():
    facts = Facts(interfaces={"eth0": "52:54:00:00:00:01", "eth1": "52:54:00:00:00:02"})
    only(replace(dhcp(), interfaces=(Interface("eth4"),), links=(Link("eth4", (M,), dhcp=True),)),
         "interfaces[0].name", "no such port on this machine (present: eth0, eth1)", facts)
    only(replace(dhcp(), interfaces=(Interface("lan0", mac="52:54:00:00:00:09"),), links=(Link("lan0", (M,),
         dhcp=True),)), "interfaces[0].mac", "no port with this MAC address", facts)
    assert validate(replace(dhcp(), interfaces=(Interface("lan0", mac="52:54:00:00:00:02"),),
                            links=(Link("lan0", (M,), dhcp=True),)), facts) == []
    assert validate(dhcp(), facts) == []


def test_timezone_must_exist_when_the_list_is_known():
    only(replace(dhcp(), time=TimeSpec("Mars/Olympus")), "time.timezone", "no such time zone",
         Facts(timezones=frozenset({"UTC", "Europe/Berlin"})))


# --- all at once ---------------------------------------------------------------------------------------------------

def test_every_problem_at_once():
    spec = NetworkSpec("San1", interfaces=(Interface("eth0"), Interface("eth1", mtu=100)),
                       vlans=(Vlan("eth0.5", "eth0", 5000),),
                       links=(Link("eth0", (S,)), Link("eth1", (S,), addresses=("10.0.0.1/24",))),
                       time=TimeSpec("nowhere!"))
    assert set(problems(spec)) == {"hostname", "interfaces[1].mtu", "vlans[0].id", "links[0].addresses", "links",
                                   "time.timezone"}


def test_check_raises_the_first_and_counts_the_rest():
    spec = replace(dhcp(), hostname="San1", time=TimeSpec("nowhere!"))
    with pytest.raises(SanError) as err:
        check(spec)
    assert err.value.field == "hostname" and "(and 1 more: time.timezone:" in err.value.message
    check(full())
    check(active_backup())


def test_schema_version():
    only(replace(dhcp(), schema=2), "schema", "schema version 1 expected")


def test_roles_enum_names():
    assert [r.value for r in Role] == ["management", "cluster", "replication", "storage"]
    assert [m.value for m in BondMode] == ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
                                           "balance-tlb", "balance-alb"]
