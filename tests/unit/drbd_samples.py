"""Sample configurations with replicated pools, shared by the DRBD unit tests and the image tests."""

from __future__ import annotations

from sanappliance.model.config import (
    Config,
    FloatingIp,
    Lun,
    Pool,
    Portal,
    ReplicaNode,
    Replication,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)

R1 = "/dev/disk/by-id/virtio-repl1"
R2 = "/dev/disk/by-id/virtio-repl2"
LOCAL = "/dev/disk/by-id/virtio-data1"
IQN = "iqn.2026-11.org.example:storage"
IQN2 = "iqn.2026-11.org.example:backup"


def replication(minor: int = 0, port: int = 7789, disks: tuple[str, str] = (R1, R2),
                addresses: tuple[str, str] = ("10.0.2.11", "10.0.2.12")) -> Replication:
    return Replication((ReplicaNode("node1", disks[0], addresses[0]), ReplicaNode("node2", disks[1], addresses[1])),
                       minor, port)


def replicated_pool(name: str = "p1", **kw) -> Pool:
    fips = kw.pop("floating_ips", (FloatingIp("10.0.3.100/24", "eth2"), FloatingIp("10.0.4.100/24")))
    portblock = kw.pop("portblock", False)
    return Pool(name, (), replication=replication(**kw), floating_ips=fips, portblock=portblock)


def config(**kw) -> Config:
    """A local pool, a replicated pool p1 with two floating addresses, a volume on each, a target on p1's."""
    pool = kw.pop("pool", replicated_pool())
    base = dict(
        pools=(Pool("local", (LOCAL,)), pool),
        volumes=(Volume("vol1", VolumeKind.LV, 2**30, pool="p1"), Volume("vol2", VolumeKind.LV, 2**30, pool="p1"),
                 Volume("scratch", VolumeKind.LV, 2**30, pool="local")),
        targets=(Target(IQN, (Tpg(luns=(Lun(0, "vol1"), Lun(1, "vol2"))),)),),
    )
    return Config(**{**base, **kw})


def two_pools() -> Config:
    """p1 and p2 replicated (minors 0 and 1), each with a target."""
    p2 = replicated_pool("p2", minor=1, port=7790, disks=("/dev/disk/by-id/virtio-repl3",
                                                           "/dev/disk/by-id/virtio-repl4"),
                         floating_ips=(FloatingIp("10.0.3.101/24"),))
    base = config()
    return Config(pools=(*base.pools, p2),
                  volumes=(*base.volumes, Volume("vol3", VolumeKind.LV, 2**30, pool="p2")),
                  targets=(*base.targets, Target(IQN2, (Tpg(portals=(Portal("10.0.3.101"),),
                                                            luns=(Lun(0, "vol3"),)),))))
