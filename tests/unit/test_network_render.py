"""What a network spec renders to (pure): the networkd/udev files, chrony.conf, /etc/hostname and the console banner,
checked against their full expected text. tests/image/test_network_tools.py runs the same files through the
image's systemd-networkd, udevadm and chronyd."""

from dataclasses import replace

from sanappliance.network import banner, render
from sanappliance.network.model import Link, Role, RoleAddress

from .test_network_samples import M, active_backup, dhcp, full

HEADER = "# Written by sanappliance from the network spec: changes made here are overwritten.\n"


def test_file_names():
    assert list(render.networkd_files(full())) == [
        "10-sanappliance-bond0.100.netdev", "10-sanappliance-bond0.100.network",
        "10-sanappliance-bond0.200.netdev", "10-sanappliance-bond0.200.network",
        "10-sanappliance-bond0.netdev", "10-sanappliance-bond0.network",
        "10-sanappliance-eth0.network", "10-sanappliance-eth1.network", "10-sanappliance-eth2.network",
        "10-sanappliance-eth3.network", "10-sanappliance-lan0.link", "10-sanappliance-lan0.network",
        "70-sanappliance-unused.network"]
    assert list(render.networkd_files(dhcp())) == ["10-sanappliance-eth0.network", "70-sanappliance-unused.network"]


def test_rendering_is_deterministic():
    assert render.networkd_files(full()) == render.networkd_files(full())
    assert render.render_files(full()) == render.render_files(full())


def test_management_port_with_ipv4_and_ipv6():
    assert render.networkd_files(full())["10-sanappliance-eth0.network"] == HEADER + """\
# roles: management
[Match]
Name=eth0

[Network]
DHCP=no
LinkLocalAddressing=ipv6
IPv6AcceptRA=no
Address=192.0.2.10/24
Address=2001:db8::10/64
Gateway=192.0.2.1
DNS=192.0.2.53
DNS=2001:db8::53
"""


def test_dhcp_port():
    assert render.networkd_files(dhcp())["10-sanappliance-eth0.network"] == HEADER + """\
# roles: management
[Match]
Name=eth0

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
"""
    ra = replace(dhcp(), links=(Link("eth0", (M,), dhcp=True, ipv6_ra=True),))
    text = render.networkd_files(ra)["10-sanappliance-eth0.network"]
    assert "LinkLocalAddressing=ipv6\nIPv6AcceptRA=yes\n" in text


def test_lacp_bond():
    files = render.networkd_files(full())
    assert files["10-sanappliance-bond0.netdev"] == HEADER + """\
[NetDev]
Name=bond0
Kind=bond

[Bond]
Mode=802.3ad
MIIMonitorSec=100ms
LACPTransmitRate=fast
TransmitHashPolicy=layer3+4
"""
    assert files["10-sanappliance-bond0.network"] == HEADER + """\
[Match]
Name=bond0

[Link]
MTUBytes=9000

[Network]
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no
VLAN=bond0.100
VLAN=bond0.200
"""
    assert files["10-sanappliance-eth1.network"] == HEADER + """\
[Match]
Name=eth1

[Network]
Bond=bond0
LinkLocalAddressing=no
IPv6AcceptRA=no
"""


def test_active_backup_bond_with_primary_and_its_addresses():
    files = render.networkd_files(active_backup())
    assert files["10-sanappliance-mgmt0.netdev"] == HEADER + """\
[NetDev]
Name=mgmt0
Kind=bond

[Bond]
Mode=active-backup
MIIMonitorSec=200ms
PrimaryReselectPolicy=always
"""
    assert "[Network]\nBond=mgmt0\nPrimarySlave=yes\n" in files["10-sanappliance-eth0.network"]
    assert "PrimarySlave" not in files["10-sanappliance-eth1.network"]
    assert files["10-sanappliance-mgmt0.network"] == HEADER + """\
# roles: management, cluster
[Match]
Name=mgmt0

[Network]
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no
Address=192.0.2.20/24
Gateway=192.0.2.1
"""


def test_vlan():
    files = render.networkd_files(full())
    assert files["10-sanappliance-bond0.100.netdev"] == HEADER + """\
[NetDev]
Name=bond0.100
Kind=vlan

[VLAN]
Id=100
"""
    assert files["10-sanappliance-bond0.100.network"] == HEADER + """\
# roles: replication, cluster
[Match]
Name=bond0.100

[Link]
MTUBytes=9000

[Network]
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no
Address=10.0.1.1/24
"""


def test_port_matched_by_mac():
    files = render.networkd_files(full())
    assert files["10-sanappliance-lan0.link"] == HEADER + """\
[Match]
PermanentMACAddress=52:54:00:aa:bb:01

[Link]
Name=lan0
"""
    assert files["10-sanappliance-lan0.network"].startswith(HEADER + """\
# roles: storage
[Match]
PermanentMACAddress=52:54:00:aa:bb:01

[Network]
""")


def test_mac_is_written_lowercase():
    spec = full()
    upper = replace(spec, interfaces=(*spec.interfaces[:4], replace(spec.interfaces[4], mac="52:54:00:AA:BB:01")))
    assert render.networkd_files(upper) == render.networkd_files(spec)


def test_jumbo_port():
    assert "[Link]\nMTUBytes=9000\n" in render.networkd_files(full())["10-sanappliance-eth3.network"]


def test_every_other_port_stays_down():
    assert render.networkd_files(dhcp())["70-sanappliance-unused.network"] == HEADER + """\
[Match]
Type=ether

[Link]
ActivationPolicy=down
RequiredForOnline=no

[Network]
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no
"""
    assert "70-sanappliance-unused.network" < "80-sanappliance-dhcp.network"  # the image's default comes later


def test_chrony_with_servers():
    assert render.render_chrony(full()) == HEADER + """\
server 0.debian.pool.ntp.org iburst
server 192.0.2.123 iburst
sourcedir /etc/chrony/sources.d
keyfile /etc/chrony/chrony.keys
driftfile /var/lib/chrony/chrony.drift
ntsdumpdir /var/lib/chrony
logdir /var/log/chrony
maxupdateskew 100.0
rtcsync
makestep 1 3
leapseclist /usr/share/zoneinfo/leap-seconds.list
confdir /etc/chrony/conf.d
"""


def test_chrony_without_servers_keeps_debians_pool_and_dhcps_servers():
    text = render.render_chrony(dhcp())
    assert text.startswith(HEADER + "pool 2.debian.pool.ntp.org iburst\nsourcedir /run/chrony-dhcp\n")
    assert "chrony-dhcp" not in render.render_chrony(active_backup())


def test_all_files_by_path():
    files = render.render_files(dhcp())
    assert set(files) == {"/etc/systemd/network/10-sanappliance-eth0.network",
                          "/etc/systemd/network/70-sanappliance-unused.network", "/etc/chrony/chrony.conf",
                          "/etc/hostname"}
    assert files["/etc/hostname"] == "san1\n"
    assert render.zoneinfo_path(full()) == "/usr/share/zoneinfo/Europe/Berlin"


# --- banner --------------------------------------------------------------------------------------------------------

def test_banner_from_the_spec():
    assert banner.banner(full(), "0.1.0") == """\
san1 - sanappliance 0.1.0

  management   192.0.2.10/24 (eth0), 2001:db8::10/64 (eth0)
  cluster      10.0.1.1/24 (bond0.100), 10.0.2.1/24 (bond0.200)
  replication  10.0.1.1/24 (bond0.100)
  storage      10.0.3.1/24 (eth3), 10.0.4.1/24 (lan0)

  web page     https://192.0.2.10/
  API          https://192.0.2.10:18700/targetrpc
  shell        sanctl
"""


def test_banner_with_live_dhcp_address_and_ipv6():
    text = banner.banner(dhcp(), "0.2.0", {Role.MANAGEMENT: [RoleAddress("eth0", "2001:db8::7/64")]})
    assert "  management   2001:db8::7/64 (eth0)\n" in text
    assert "https://[2001:db8::7]/" in text and "https://[2001:db8::7]:18700/targetrpc" in text
    assert "cluster" not in text and "storage" not in text


def test_banner_while_dhcp_has_no_answer_yet():
    text = banner.banner(dhcp(), "0.1.0")
    assert "  management   waiting for DHCP\n" in text
    assert "web page and API: no management address yet" in text and "https://" not in text


def test_banner_is_plain_ascii_without_escapes():
    text = banner.banner(full(), "0.1.0\\n", {Role.MANAGEMENT: ["192.0.2.10"]})
    assert "\\" not in text and text.isascii()
    assert banner.urls("192.0.2.10/24") == ("https://192.0.2.10/", "https://192.0.2.10:18700/targetrpc")
