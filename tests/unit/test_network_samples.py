"""Sample network specs shared by the network unit tests and the image tests (and checked to be valid here)."""

from __future__ import annotations

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
from sanappliance.network.validate import validate

M, C, R, S = Role.MANAGEMENT, Role.CLUSTER, Role.REPLICATION, Role.STORAGE


def full(**kw) -> NetworkSpec:
    """A cluster node: management on eth0 (IPv4 and IPv6), an 802.3ad bond of eth1+eth2 with jumbo frames carrying
    two VLANs (replication and the first cluster link on bond0.100, the second cluster link on bond0.200), storage
    on eth3 (jumbo) and on a port matched by MAC (lan0)."""
    base = dict(
        hostname="san1",
        interfaces=(Interface("eth0"), Interface("eth1"), Interface("eth2"), Interface("eth3", mtu=9000),
                    Interface("lan0", mac="52:54:00:aa:bb:01")),
        bonds=(Bond("bond0", ("eth1", "eth2"), BondMode.LACP, lacp_rate=LacpRate.FAST,
                    xmit_hash_policy=HashPolicy.LAYER3_4, mtu=9000),),
        vlans=(Vlan("bond0.100", "bond0", 100, mtu=9000), Vlan("bond0.200", "bond0", 200)),
        links=(Link("eth0", (M,), addresses=("192.0.2.10/24", "2001:db8::10/64"), gateways=("192.0.2.1",),
                    dns=("192.0.2.53", "2001:db8::53")),
               Link("bond0.100", (R, C), addresses=("10.0.1.1/24",)),
               Link("bond0.200", (C,), addresses=("10.0.2.1/24",)),
               Link("eth3", (S,), addresses=("10.0.3.1/24",)),
               Link("lan0", (S,), addresses=("10.0.4.1/24",))),
        time=TimeSpec("Europe/Berlin", ("0.debian.pool.ntp.org", "192.0.2.123")),
    )
    return NetworkSpec(**{**base, **kw})


def dhcp(**kw) -> NetworkSpec:
    """The smallest spec: one port, management by DHCP."""
    return NetworkSpec(**{**dict(hostname="san1", interfaces=(Interface("eth0"),),
                                 links=(Link("eth0", (M,), dhcp=True),)), **kw})


def active_backup(**kw) -> NetworkSpec:
    """Management on an active-backup bond with a primary member, storage on a plain port."""
    base = dict(
        hostname="san2",
        interfaces=(Interface("eth0"), Interface("eth1"), Interface("eth2")),
        bonds=(Bond("mgmt0", ("eth0", "eth1"), primary="eth0", miimon=200),),
        links=(Link("mgmt0", (M, C), addresses=("192.0.2.20/24",), gateways=("192.0.2.1",)),
               Link("eth2", (S, R), addresses=("10.0.3.2/24",))),
    )
    return NetworkSpec(**{**base, **kw})


def test_the_samples_are_valid():
    for spec in (full(), dhcp(), active_backup()):
        assert validate(spec) == [], spec

