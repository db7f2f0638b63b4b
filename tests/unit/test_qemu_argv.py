from pathlib import Path

from sanappliance.lab.qemu import NodePaths, Wiring, kernel_cmdline, mac, qemu_argv
from sanappliance.lab.spec import Boot, Disk, Firmware, NodeSpec


def build(spec, **wiring):
    w = dict(index=1, vcpus=2, taps=(), forwards=(), shared=(), accel="tcg")
    w.update(wiring)
    argv = qemu_argv("/usr/bin/qemu-system-x86_64", spec, Wiring(**w), NodePaths(Path("/w/n1")),
                     kernel=Path("/img/vmlinuz"), initrd=Path("/img/initrd.img"), iso=Path("/img/a.iso"))
    return argv, " ".join(argv)


def opt(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_lab_boot_is_direct_kernel_on_an_overlay():
    argv, line = build(NodeSpec("node1"))
    assert opt(argv, "-kernel") == ["/img/vmlinuz"]
    assert "root=LABEL=sanroot" in opt(argv, "-append")[0]
    assert "systemd.hostname=node1" in opt(argv, "-append")[0]
    assert "file=/w/n1/root.qcow2,if=none,id=root,format=qcow2" in line
    assert "-no-reboot" in argv


def test_tcg_and_kvm():
    argv, _ = build(NodeSpec("n"))
    assert opt(argv, "-accel")[0].startswith("tcg,thread=multi,tb-size=")
    argv, _ = build(NodeSpec("n"), accel="kvm")
    assert opt(argv, "-accel") == ["kvm"] and opt(argv, "-cpu") == ["host"]


def test_channels_watchdog_and_console_log():
    argv, line = build(NodeSpec("n"))
    assert "name=org.qemu.guest_agent.0" in line
    assert "i6300esb" in opt(argv, "-device")
    assert "logfile=/w/n1/console.log" in line
    assert opt(argv, "-qmp") == ["unix:/w/n1/qmp.sock,server=on,wait=off"]


def test_disks_shared_disks_and_networks():
    spec = NodeSpec("n", disks=(Disk("data1", "1G"),), networks=("cluster",))
    argv, line = build(spec, index=2, taps=(("cluster", "tap0"),), forwards=((40000, 3260),),
                       shared=(("sbd0", Path("/w/shared-sbd0.img")),))
    assert "virtio-blk-pci,drive=d0,serial=data1" in opt(argv, "-device")
    assert "virtio-blk-pci,drive=s0,share-rw=on,serial=sbd0" in opt(argv, "-device")
    assert "file=/w/shared-sbd0.img,if=none,id=s0,format=raw,cache=none,aio=threads" in opt(argv, "-drive")
    assert "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:40000-:3260" in opt(argv, "-netdev")
    assert "tap,id=net-cluster,ifname=tap0,script=no,downscript=no" in opt(argv, "-netdev")
    assert f"virtio-net-pci,netdev=net-cluster,mac={mac(2, 1)}" in opt(argv, "-device")


def test_iso_boot_bios_and_uefi():
    argv, line = build(NodeSpec("n", boot=Boot.ISO))
    assert "-kernel" not in argv and "-bios" not in argv
    assert "file=/img/a.iso,if=none,id=cd0,media=cdrom,readonly=on" in opt(argv, "-drive")
    argv, _ = build(NodeSpec("n", boot=Boot.ISO, firmware=Firmware.UEFI))
    assert opt(argv, "-bios") == ["/usr/share/ovmf/OVMF.fd"]


def test_reboot_allowed_when_asked():
    argv, _ = build(NodeSpec("n", reboot=True))
    assert "-no-reboot" not in argv


def test_extra_cmdline():
    assert kernel_cmdline(NodeSpec("n", extra_cmdline="break=premount")).endswith("break=premount")


def test_two_nics_on_one_network_get_their_own_ids():
    spec = NodeSpec("n", networks=("san", "san", "cluster"))
    argv, _ = build(spec, taps=(("san", "t1"), ("san", "t2"), ("cluster", "t3")))
    assert [x.split(",")[1] for x in opt(argv, "-netdev")][1:] == ["id=net-san", "id=net-san-2", "id=net-cluster"]
    assert f"virtio-net-pci,netdev=net-san-2,mac={mac(1, 2)}" in opt(argv, "-device")


def test_san_disk_is_one_file_over_a_scsi_controller_per_path():
    from sanappliance.lab.spec import SanDisk

    shelf = SanDisk("shelf0", "5000c50015ea71ac", "256M", paths=2)
    argv, _ = build(NodeSpec("n"), san=((shelf, Path("/w/san-shelf0.img")),))
    devices = opt(argv, "-device")
    assert [d for d in devices if d.startswith("virtio-scsi-pci")] == ["virtio-scsi-pci,id=scsi0",
                                                                        "virtio-scsi-pci,id=scsi1"]
    assert opt(argv, "-blockdev") == [
        "driver=file,filename=/w/san-shelf0.img,node-name=san0-file,cache.direct=on,aio=threads",
        "driver=raw,file=san0-file,node-name=san0"]
    paths = [d for d in devices if d.startswith("driver=scsi-hd")]
    assert paths == [f"driver=scsi-hd,id=san-shelf0-p{p},bus=scsi{p}.0,drive=san0,share-rw=on,"
                     "wwn=0x5000c50015ea71ac,serial=shelf0" for p in (0, 1)]
    assert shelf.wwid == "35000c50015ea71ac"


def test_no_scsi_controller_without_san_disks():
    argv, line = build(NodeSpec("n"))
    assert "virtio-scsi-pci" not in line and "-blockdev" not in argv
