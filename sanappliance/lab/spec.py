"""What a lab is made of: nodes, their disks and networks (frozen dataclasses, validated before anything starts)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sanappliance.errors import SanError

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")  # virtio-blk serials: at most 20 bytes
SIZE_RE = re.compile(r"^(\d+)([MG])$")


class LabError(SanError):
    """A lab that cannot be set up, a node that does not come up or dies, a command that cannot reach a node."""


class Boot(Enum):
    LAB = "lab"  # direct kernel boot of the lab image (root image + kernel + initrd)
    ISO = "iso"  # the live ISO as a CD-ROM


class Firmware(Enum):
    BIOS = "bios"
    UEFI = "uefi"


@dataclass(frozen=True)
class Disk:
    serial: str  # the guest sees /dev/disk/by-id/virtio-<serial>
    size: str = "1G"  # <n>M or <n>G

    @property
    def size_bytes(self) -> int:
        match = SIZE_RE.match(self.size)
        if not match:
            raise LabError("size must look like 512M or 4G", field="disk.size", value=self.size)
        return int(match.group(1)) * (1024**2 if match.group(2) == "M" else 1024**3)


WWN_RE = re.compile(r"^5[0-9a-f]{15}$")  # an NAA-5 WWN, 16 hex digits


@dataclass(frozen=True)
class SanDisk:
    """A shelf's disk: one raw file that every node sees as a SCSI disk with this WWN over `paths` SCSI controllers
    (one scsi-hd per controller, all on the same file), so the guest has `paths` sd devices of one WWID for
    multipath; a path is cut and restored with Node.set_path (QMP device_del / device_add)."""

    serial: str
    wwn: str  # 16 hex digits, NAA 5: the guest's WWID is "3" + wwn
    size: str = "1G"
    paths: int = 2

    @property
    def size_bytes(self) -> int:
        return Disk(self.serial, self.size).size_bytes

    @property
    def wwid(self) -> str:
        """The WWID udev (ID_SERIAL) and multipath report for it."""
        return "3" + self.wwn


@dataclass(frozen=True)
class Forward:
    guest_port: int
    host_port: int = 0  # 0: pick a free loopback port


@dataclass(frozen=True)
class Network:
    """A private L2 segment between nodes (a bridge in the lab's network namespace)."""

    name: str
    subnet: str  # IPv4 CIDR; node i (1-based) gets host address i+10, the namespace's bridge gets .1

    def address(self, index: int) -> str:
        net = ipaddress.ip_network(self.subnet)
        return f"{net.network_address + 10 + index}/{net.prefixlen}"

    def bridge_address(self) -> str:
        net = ipaddress.ip_network(self.subnet)
        return f"{net.network_address + 1}/{net.prefixlen}"


@dataclass(frozen=True)
class NodeSpec:
    name: str
    memory_mib: int = 1024
    vcpus: int = 0  # 0: auto (1: a guest with 2 vCPUs under multi-threaded TCG can oops while patching its code)
    disks: tuple[Disk, ...] = ()
    networks: tuple[str, ...] = ()
    forwards: tuple[Forward, ...] = ()
    boot: Boot = Boot.LAB
    firmware: Firmware = Firmware.BIOS
    reboot: bool = False  # False: a guest reboot (or watchdog reset) ends qemu, as for a fenced node
    extra_cmdline: str = ""
    attach: tuple[Path, ...] = ()  # existing raw image files added as disks (e.g. a persistence disk)
    lab_addresses: bool = True  # False: the lab gives the private NICs no addresses (the appliance's own network does)


@dataclass(frozen=True)
class LabSpec:
    nodes: tuple[NodeSpec, ...]
    networks: tuple[Network, ...] = ()
    shared_disks: tuple[Disk, ...] = ()  # the same raw file on every node
    san_disks: tuple[SanDisk, ...] = ()  # the same raw file on every node, over several SCSI paths each
    ready_timeout: float = 300.0

    def node(self, name: str) -> NodeSpec:
        for spec in self.nodes:
            if spec.name == name:
                return spec
        raise LabError("no such node", field="node", value=name)


def default_networks(*names: str) -> tuple[Network, ...]:
    return tuple(Network(name, f"10.231.{i}.0/24") for i, name in enumerate(names, start=1))


def validate(spec: LabSpec) -> list[LabError]:
    """Every problem of the spec, each naming its field; an empty list means the lab can be started."""
    problems: list[LabError] = []
    if not spec.nodes:
        problems.append(LabError("a lab needs at least one node", field="nodes"))
    if len(spec.nodes) > 9:
        problems.append(LabError("at most 9 nodes", field="nodes", value=len(spec.nodes)))
    net_names = [n.name for n in spec.networks]
    for i, net in enumerate(spec.networks):
        if not NAME_RE.match(net.name):
            problems.append(LabError("network names are lowercase letters, digits and -", field=f"networks[{i}].name",
                                     value=net.name))
        try:
            ipaddress.ip_network(net.subnet)
        except ValueError:
            problems.append(LabError("not an IPv4 CIDR subnet", field=f"networks[{i}].subnet", value=net.subnet))
    if len(set(net_names)) != len(net_names):
        problems.append(LabError("network names must be unique", field="networks", value=net_names))
    if len(spec.networks) > 9:
        problems.append(LabError("at most 9 networks", field="networks", value=len(spec.networks)))
    names = [n.name for n in spec.nodes]
    if len(set(names)) != len(names):
        problems.append(LabError("node names must be unique", field="nodes", value=names))
    serials = [d.serial for d in spec.shared_disks] + [d.serial for d in spec.san_disks]
    for i, node in enumerate(spec.nodes):
        where = f"nodes[{i}]"
        if not NAME_RE.match(node.name):
            problems.append(LabError("node names are a lowercase letter, then letters, digits or -, 15 at most",
                                     field=f"{where}.name", value=node.name))
        if not 384 <= node.memory_mib <= 16384:
            problems.append(LabError("memory must be 384 to 16384 MiB", field=f"{where}.memory_mib",
                                     value=node.memory_mib))
        if not 0 <= node.vcpus <= 8:
            problems.append(LabError("vcpus must be 0 (auto) to 8", field=f"{where}.vcpus", value=node.vcpus))
        for net in node.networks:
            if net not in net_names:
                problems.append(LabError("unknown network", field=f"{where}.networks", value=net))
        for fwd in node.forwards:
            if not 1 <= fwd.guest_port <= 65535:
                problems.append(LabError("port out of range", field=f"{where}.forwards.guest_port",
                                         value=fwd.guest_port))
            if not (fwd.host_port == 0 or 1024 <= fwd.host_port <= 65535):
                problems.append(LabError("host port must be 0 (auto) or 1024-65535",
                                         field=f"{where}.forwards.host_port", value=fwd.host_port))
        node_serials = serials + [d.serial for d in node.disks]
        for disk in node.disks:
            problems += _disk_problems(disk, f"{where}.disks")
        if len(set(node_serials)) != len(node_serials):
            problems.append(LabError("disk serials must be unique on a node", field=f"{where}.disks",
                                     value=node_serials))
        for path in node.attach:
            if not Path(path).is_file():
                problems.append(LabError("attached disk image not found", field=f"{where}.attach", value=str(path)))
    for disk in spec.shared_disks:
        problems += _disk_problems(disk, "shared_disks")
    wwns = [d.wwn for d in spec.san_disks]
    for i, san in enumerate(spec.san_disks):
        problems += _disk_problems(Disk(san.serial, san.size), f"san_disks[{i}]")
        if not WWN_RE.match(san.wwn):
            problems.append(LabError("a WWN is 16 lowercase hex digits starting with 5 (NAA 5)",
                                     field=f"san_disks[{i}].wwn", value=san.wwn))
        if not 1 <= san.paths <= 4:
            problems.append(LabError("1 to 4 paths", field=f"san_disks[{i}].paths", value=san.paths))
    if len(set(wwns)) != len(wwns):
        problems.append(LabError("WWNs must be unique", field="san_disks", value=wwns))
    return problems


def _disk_problems(disk: Disk, where: str) -> list[LabError]:
    problems = []
    if not SERIAL_RE.match(disk.serial) or disk.serial in ("sanroot", "persist"):
        problems.append(LabError("serials are 1-20 of A-Z a-z 0-9 _ - (not sanroot or persist)",
                                 field=f"{where}.serial", value=disk.serial))
    try:
        _ = disk.size_bytes
    except LabError as exc:
        problems.append(LabError(exc.message, field=f"{where}.size", value=disk.size))
    return problems


def check(spec: LabSpec) -> None:
    problems = validate(spec)
    if problems:
        raise LabError("invalid lab: " + "; ".join(str(p) for p in problems), field=problems[0].field,
                       value=problems[0].value)


@dataclass(frozen=True)
class Images:
    """The build outputs a lab boots from."""

    kernel: Path
    initrd: Path
    root: Path
    iso: Path

    @classmethod
    def from_build_dir(cls, build_dir: Path) -> Images:
        build_dir = Path(build_dir).resolve()
        return cls(kernel=build_dir / "lab/vmlinuz", initrd=build_dir / "lab/initrd.img",
                   root=build_dir / "lab/root.img", iso=build_dir / "iso/sanappliance.iso")

    def require(self, boot: Boot) -> None:
        paths = (self.iso,) if boot is Boot.ISO else (self.kernel, self.initrd, self.root)
        for path in paths:
            if not path.is_file():
                target = "make iso" if boot is Boot.ISO else "make image"
                raise LabError(f"appliance image missing: {path} (build it with `{target}`)",
                               field="image", value=str(path))
