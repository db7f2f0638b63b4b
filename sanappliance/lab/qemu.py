"""The qemu command line of one lab node (pure: spec and paths in, argv out)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .spec import Boot, Firmware, NodeSpec, SanDisk

OVMF = Path("/usr/share/ovmf/OVMF.fd")
ROOT_LABEL = "sanroot"
# TCG translation cache per node: qemu 7.2 defaults to 1 GiB, which would cost more host memory than the guest has.
TCG_TB_MIB = 256


@dataclass(frozen=True)
class NodePaths:
    workdir: Path

    @property
    def overlay(self) -> Path:
        return self.workdir / "root.qcow2"

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    @property
    def console_sock(self) -> Path:
        return self.workdir / "console.sock"

    @property
    def qemu_log(self) -> Path:
        return self.workdir / "qemu.log"

    @property
    def qmp_sock(self) -> Path:
        return self.workdir / "qmp.sock"

    @property
    def agent_sock(self) -> Path:
        return self.workdir / "agent.sock"

    def disk(self, serial: str) -> Path:
        return self.workdir / f"disk-{serial}.qcow2"


@dataclass(frozen=True)
class Wiring:
    """What the lab decided for one node: its index, vCPUs, taps per network, host ports, shared disk files."""

    index: int  # 1-based
    vcpus: int
    taps: tuple[tuple[str, str], ...]  # (network name, tap device)
    forwards: tuple[tuple[int, int], ...]  # (host port, guest port)
    shared: tuple[tuple[str, Path], ...]  # (serial, raw file)
    accel: str  # "kvm" or "tcg"
    san: tuple[tuple[SanDisk, Path], ...] = ()  # (disk, raw file)


def netdev_id(networks: tuple[str, ...] | list[str], position: int) -> str:
    """qemu's id of the NIC at `position` (0-based) among a node's private NICs: net-<network>, and for a second NIC
    on the same network (a bond's two ports) net-<network>-2, -3, ..."""
    net = networks[position]
    nth = list(networks[:position]).count(net)
    return f"net-{net}" if nth == 0 else f"net-{net}-{nth + 1}"


def mac(index: int, nic: int) -> str:
    """Stable MAC of a node's NIC: 52:54:00:5a:<node>:<nic> (nic 0 is management)."""
    return f"52:54:00:5a:{index:02x}:{nic:02x}"


def san_device(disk: SanDisk, index: int, path: int) -> dict[str, str]:
    """The qemu device of path `path` (0-based) of the node's SAN disk number `index`: as -device and device_add."""
    return {"driver": "scsi-hd", "id": san_path_id(disk, path), "bus": f"scsi{path}.0", "drive": f"san{index}",
            "share-rw": "on", "wwn": f"0x{disk.wwn}", "serial": disk.serial}


def san_path_id(disk: SanDisk, path: int) -> str:
    return f"san-{disk.serial}-p{path}"


def kernel_cmdline(spec: NodeSpec) -> str:
    parts = [f"root=LABEL={ROOT_LABEL}", "rw", "console=ttyS0,115200", "panic=-1", f"systemd.hostname={spec.name}",
             "sanappliance.console_autologin=1", "sanappliance.lab=1"]
    if spec.extra_cmdline:
        parts.append(spec.extra_cmdline)
    return " ".join(parts)


def qemu_argv(qemu: str, spec: NodeSpec, wiring: Wiring, paths: NodePaths, *, kernel: Path, initrd: Path,
              iso: Path) -> list[str]:
    argv = [qemu, "-name", spec.name, "-nodefaults", "-no-user-config", "-display", "none",
            "-m", str(spec.memory_mib), "-smp", str(wiring.vcpus)]
    if wiring.accel == "kvm":
        argv += ["-accel", "kvm", "-cpu", "host"]
    else:
        argv += ["-accel", f"tcg,thread=multi,tb-size={TCG_TB_MIB}"]
    if not spec.reboot:
        argv.append("-no-reboot")
    argv += [
        "-chardev", f"socket,id=con0,path={paths.console_sock},server=on,wait=off,logfile={paths.console_log},"
                    "logappend=on",
        "-serial", "chardev:con0",
        "-qmp", f"unix:{paths.qmp_sock},server=on,wait=off",
        "-chardev", f"socket,id=qga0,path={paths.agent_sock},server=on,wait=off",
        "-device", "virtio-serial-pci,id=vser0",
        "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
        "-device", "virtio-rng-pci",
        "-device", "i6300esb", "-action", "watchdog=reset",
    ]
    if spec.boot is Boot.LAB:
        argv += ["-kernel", str(kernel), "-initrd", str(initrd), "-append", kernel_cmdline(spec),
                 "-drive", f"file={paths.overlay},if=none,id=root,format=qcow2,cache=unsafe,discard=unmap",
                 "-device", f"virtio-blk-pci,drive=root,serial={ROOT_LABEL}"]
    else:
        if spec.firmware is Firmware.UEFI:
            argv += ["-bios", str(OVMF)]
        argv += ["-drive", f"file={iso},if=none,id=cd0,media=cdrom,readonly=on",
                 "-device", "ide-cd,drive=cd0,bootindex=0"]
    for i, disk in enumerate(spec.disks):
        argv += ["-drive", f"file={paths.disk(disk.serial)},if=none,id=d{i},format=qcow2,cache=unsafe,discard=unmap",
                 "-device", f"virtio-blk-pci,drive=d{i},serial={disk.serial}"]
    for i, (serial, path) in enumerate(wiring.shared):
        argv += ["-drive", f"file={path},if=none,id=s{i},format=raw,cache=none,aio=threads",
                 "-device", f"virtio-blk-pci,drive=s{i},share-rw=on,serial={serial}"]
    if wiring.san:
        for p in range(max(disk.paths for disk, _path in wiring.san)):
            argv += ["-device", f"virtio-scsi-pci,id=scsi{p}"]
    for i, (disk, path) in enumerate(wiring.san):
        argv += ["-blockdev", f"driver=file,filename={path},node-name=san{i}-file,cache.direct=on,aio=threads",
                 "-blockdev", f"driver=raw,file=san{i}-file,node-name=san{i}"]
        for p in range(disk.paths):
            argv += ["-device", ",".join(f"{k}={v}" for k, v in san_device(disk, i, p).items())]
    for i, path in enumerate(spec.attach):
        serial = "persist" if i == 0 else f"attach{i}"
        argv += ["-drive", f"file={path},if=none,id=a{i},format=raw,cache=writeback",
                 "-device", f"virtio-blk-pci,drive=a{i},serial={serial}"]
    fwd = "".join(f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for host, guest in wiring.forwards)
    argv += ["-netdev", f"user,id=mgmt,restrict=on{fwd}",
             "-device", f"virtio-net-pci,netdev=mgmt,mac={mac(wiring.index, 0)}"]
    nets = [net for net, _tap in wiring.taps]
    for nic, (_net, tap) in enumerate(wiring.taps, start=1):
        ident = netdev_id(nets, nic - 1)
        argv += ["-netdev", f"tap,id={ident},ifname={tap},script=no,downscript=no",
                 "-device", f"virtio-net-pci,netdev={ident},mac={mac(wiring.index, nic)}"]
    return argv
