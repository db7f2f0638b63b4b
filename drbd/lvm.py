"""The LVM configuration the appliance writes (pure): /etc/lvm/lvm.conf.

A replicated pool's backing disk carries, below DRBD, the very PV signature its /dev/drbdN shows: if LVM scanned
the backing disk it would see the VG twice (or activate it under DRBD's feet, writing past replication). So LVM
looks only at what the appliance names: the DRBD devices and the disks of the local (not replicated) pools; every
other device is rejected, the backing disks first.

Why an accept list that ends in `r|.*|` rather than a reject list: LVM accepts a device when *any* of its names
matches an accept pattern before a reject one, and a disk has several names (/dev/vdb, /dev/disk/by-id/...,
/dev/disk/by-path/..., /dev/block/252:16). `[ "r|^/dev/disk/by-id/BACKING$|", "a|.*|" ]` would still accept the
backing disk as /dev/vdb. With the accept list, a backing disk matches no accept pattern under any name.

A shared pool's disks are named by their multipath maps, /dev/mapper/<alias>: the raw paths under a map (sda,
sdb: one per path, each showing the same PV) match no accept pattern under any of their names, so LVM never opens
them (LVM's multipath_component_detection would also skip them; the filter does not depend on it). With a shared
pool, `use_lvmlockd = 1`: LVM takes the shared VG's locks through lvmlockd (and dlm), as LVM-activate's
vg_access_mode=lvmlockd expects. Both settings appear only when a shared pool exists: the file of a configuration
without one is the same as before shared pools.

Consequence for the apply layer: write this file (from the new config) before `pvcreate` on a new local pool's
disk, or LVM refuses it as filtered.

With a replicated or shared pool, `activation { udev_sync = 0  udev_rules = 0 }`: LVM makes the /dev nodes and
links of the LVs itself and does not wait for udev. A failover activates every LV of the pool in one
LVM-activate start; waiting for udev's handling of each LV made that wait grow with the LV count (256 LVs: 84 s
under TCG, 1.8 s without the wait; udev catches up in the background, LIO opens /dev/<VG>/<LV>, which LVM made).
LVM's default retry_deactivation covers an LV udev still holds open when it is deactivated right after.

`global_filter` (not `filter`) so that udev's pvscan and lvmetad-free autoactivation obey it too, and
use_devicesfile = 0 so it is the only device selection (a devices file needs each PV's id: not a pure render).
`system_id_source = "uname"` is what LVM-activate's vg_access_mode=system_id needs: the VG carries the name of
the node that may use it, and the agent moves it on failover (uname, not the machine id: the lab's nodes share
one image and so one /etc/machine-id).
"""

from __future__ import annotations

import re

from sanappliance.errors import INVALID, SanError
from sanappliance.model.config import Config

LVM_CONF = "/etc/lvm/lvm.conf"
DRBD_PATTERN = "^/dev/drbd[0-9]+$"
HEADER = "# Written by sanappliance: changes here are overwritten (model: the pools in /etc/sanappliance).\n"
_SPECIAL = re.compile(r"([.+*?()\[\]{}^$\\])")


def literal(path: str, field: str = "disk") -> str:
    """An LVM filter regex that matches exactly `path` (special characters as one-character classes)."""
    if not path.startswith("/") or any(c in path for c in '|"\n\\'):
        raise SanError("not a device path LVM's filter can name", field=field, value=path, kind=INVALID)
    return "^" + _SPECIAL.sub(r"[\1]", path) + "$"


def global_filter(config: Config) -> list[str]:
    """The devices/global_filter entries: reject the backing disks, accept DRBD and the local pools' disks, reject
    everything else."""
    entries: list[str] = []
    for pool in config.pools:
        if pool.replication is not None:
            for node in pool.replication.nodes:
                pattern = f"r|{literal(node.disk, f'pools[{pool.name}].replication.nodes[{node.name}].disk')}|"
                if pattern not in entries:
                    entries.append(pattern)
    entries.append(f"a|{DRBD_PATTERN}|")
    for pool in config.pools:
        for disk in pool.shared.disks if pool.shared is not None else ():
            entries.append(f"a|{literal(disk.device, f'pools[{pool.name}].shared.disks[{disk.wwid}].alias')}|")
    for pool in config.pools:
        if pool.replication is None and pool.shared is None:
            for disk in pool.disks:
                pattern = f"a|{literal(disk, f'pools[{pool.name}].disks')}|"
                if pattern not in entries:
                    entries.append(pattern)
    entries.append("r|.*|")
    return entries


def render_lvm_conf(config: Config) -> str:
    """The whole /etc/lvm/lvm.conf: LVM's built-in defaults for everything but the settings above. The system ID
    is set only when a pool is replicated: a single node's VGs then stay usable after a change of its host name."""
    items = ",\n".join(f'        "{e}"' for e in global_filter(config))
    text = (HEADER
            + "devices {\n"
            + "    # DRBD devices and local pool disks only: backing disks of replicated pools are never scanned\n"
            + f"    global_filter = [\n{items}\n    ]\n"
            + "    use_devicesfile = 0\n"
            + "}\n")
    settings = []
    if any(pool.replication is not None for pool in config.pools):
        settings.append('    system_id_source = "uname"  # LVM-activate vg_access_mode=system_id\n')
    if any(pool.shared is not None for pool in config.pools):
        settings.append("    use_lvmlockd = 1  # shared pools: their VGs are locked through lvmlockd and dlm\n")
    if settings:
        text += "global {\n" + "".join(settings) + "}\n"
    if any(pool.clustered for pool in config.pools):
        text += ("activation {\n"
                 "    # a failover activates every LV of the pool at once: LVM makes the /dev nodes itself, udev\n"
                 "    # catches up in the background instead of being waited for per LV\n"
                 "    udev_sync = 0\n"
                 "    udev_rules = 0\n"
                 "}\n")
    return text


__all__ = ["DRBD_PATTERN", "LVM_CONF", "global_filter", "literal", "render_lvm_conf"]
