"""The node's disks, found with pyudev: stable by-id names, size, model, serial, and whether something uses them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DiskInfo:
    path: str  # /dev/disk/by-id/... (the stable name)
    device: str  # /dev/vdb (changes between boots)
    size: int
    model: str
    serial: str
    in_use: str  # "" when free, else what uses it


def _preferred_id(links: list[str]) -> str | None:
    ids = sorted(link for link in links if link.startswith("/dev/disk/by-id/") and "-part" not in link)
    for prefix in ("/dev/disk/by-id/wwn-", "/dev/disk/by-id/scsi-3", "/dev/disk/by-id/virtio-", "/dev/disk/by-id/"):
        for link in ids:
            if link.startswith(prefix):
                return link
    return None


def _mounted_devices() -> set[str]:
    devices = set()
    for line in Path("/proc/self/mounts").read_text().splitlines():
        dev = line.split()[0]
        if dev.startswith("/dev/"):
            devices.add(os.path.realpath(dev))
    return devices


def discover(pool_vgs: tuple[str, ...] = ()) -> list[DiskInfo]:
    """Whole disks with a by-id name. A disk is in use when it (or a partition) is mounted, has holders (device
    mapper, MD, ...) other than a VG of ours, or holds the root file system."""
    import pyudev

    context = pyudev.Context()
    mounted = _mounted_devices()
    disks = []
    for dev in context.list_devices(subsystem="block", DEVTYPE="disk"):
        name = dev.sys_name
        if name.startswith(("loop", "ram", "zram", "sr", "dm-", "md", "drbd", "nbd")):
            continue
        path = _preferred_id(list(dev.device_links))
        if path is None:
            continue
        size = int(dev.attributes.asstring("size")) * 512 if "size" in dev.attributes.available_attributes else 0
        nodes = {dev.device_node} | {p.device_node for p in context.list_devices(parent=dev, DEVTYPE="partition")}
        holders = [h for n in nodes for h in os.listdir(f"/sys/class/block/{os.path.basename(n)}/holders")]
        in_use = ""
        if nodes & mounted:
            in_use = "mounted"
        elif dev.get("ID_FS_LABEL") == "sanroot":
            in_use = "appliance root"
        elif holders and not all(_holder_is_ours(h, pool_vgs) for h in holders):
            in_use = "held by " + ", ".join(sorted(holders))
        elif dev.get("ID_FS_TYPE") == "LVM2_member" and not holders:
            in_use = "LVM physical volume"
        disks.append(DiskInfo(path, dev.device_node, size, dev.get("ID_MODEL", ""), dev.get("ID_SERIAL_SHORT", ""),
                              in_use))
    return sorted(disks, key=lambda d: d.path)


def _holder_is_ours(holder: str, pool_vgs: tuple[str, ...]) -> bool:
    try:
        dm_name = Path(f"/sys/class/block/{holder}/dm/name").read_text().strip()
    except OSError:
        return False
    return any(dm_name.startswith(vg.replace("-", "--") + "-") for vg in pool_vgs)
