"""Sample configurations with shared-disk pools and sample multipath outputs, shared by the unit and image tests."""

from __future__ import annotations

from sanappliance.model.config import (
    Config,
    FloatingIp,
    Lun,
    Pool,
    SharedDisk,
    SharedStorage,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)
from tests.unit.drbd_samples import LOCAL, replicated_pool

WWID1 = "36001405a1b2c3d4e5f60718293a4b5c6"  # NAA 6 (LIO's own shape: 6001405 + 25 hex)
WWID2 = "35000c500a1b2c3d4"  # NAA 5
ALIAS1 = "san-mp-718293a4b5c6"  # multipath.model.default_alias(WWID1)
ALIAS2 = "shelf-b"
SIQN = "iqn.2026-11.org.example:shared"


def shared_pool(name: str = "s1", disks: tuple[SharedDisk, ...] | None = None, **kw) -> Pool:
    fips = kw.pop("floating_ips", (FloatingIp("10.0.3.110/24", "eth2"), FloatingIp("10.0.4.110/24", "eth3")))
    disks = disks if disks is not None else (SharedDisk(WWID1, ALIAS1),)
    return Pool(name, (), shared=SharedStorage(disks), floating_ips=fips, **kw)


def config(**kw) -> Config:
    """A local pool, a shared pool s1 (one multipathed disk, two floating addresses), a volume on each, a target on
    s1's."""
    pool = kw.pop("pool", shared_pool())
    base = dict(
        pools=(Pool("local", (LOCAL,)), pool),
        volumes=(Volume("svol1", VolumeKind.LV, 2**30, pool="s1"), Volume("svol2", VolumeKind.LV, 2**31, pool="s1"),
                 Volume("scratch", VolumeKind.LV, 2**30, pool="local")),
        targets=(Target(SIQN, (Tpg(luns=(Lun(0, "svol1"), Lun(1, "svol2"))),)),),
    )
    return Config(**{**base, **kw})


def mixed() -> Config:
    """The shared pool s1 beside a replicated pool p1 (drbd_samples), each with its volume and target."""
    from tests.unit import drbd_samples

    rep = drbd_samples.config()
    base = config()
    return Config(pools=(*base.pools, replicated_pool()), volumes=(*base.volumes, *rep.volumes[:2]),
                  targets=(*base.targets, *rep.targets))


# `multipath -ll` of multipath-tools 0.11 on a node with s1's disk over two paths (one failed) and a second disk
# without an alias (named by its WWID)
MULTIPATH_LL = f"""\
{ALIAS1} ({WWID1}) dm-3 LIO-ORG,shelf1
size=10G features='0' hwhandler='1 alua' wp=rw
|-+- policy='service-time 0' prio=50 status=active
| `- 2:0:0:0 sdb 8:16 active ready running
`-+- policy='service-time 0' prio=0 status=enabled
  `- 3:0:0:0 sdc 8:32 failed faulty offline
{WWID2} dm-4 QEMU,QEMU HARDDISK
size=1.0G features='0' hwhandler='0' wp=rw
`-+- policy='service-time 0' prio=1 status=active
  |- 4:0:0:1 sdd 8:48 active ready running
  `- 5:0:0:1 sde 8:64 active ready running
"""

# `multipathd show paths raw format "%m|%w|%d|%i|%t|%T|%o"` on the same node, plus the local system disk (no map)
SHOW_PATHS = f"""\
{ALIAS1}|{WWID1}|sdb|2:0:0:0|active|ready|running
{ALIAS1}|{WWID1}|sdc|3:0:0:0|failed|faulty|offline
[orphan]|0QEMU_QEMU_HARDDISK_drive-scsi0|sda|0:0:0:0|undef|undef|running
{WWID2}|{WWID2}|sdd|4:0:0:1|active|ready|running
{WWID2}|{WWID2}|sde|5:0:0:1|active|ghost|running
"""
