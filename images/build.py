"""The appliance build: debootstrap a Debian root, configure it, install sanappliance, then make the outputs.

Steps (each cached by content, see steps.py):
  bootstrap  debootstrap --variant=minbase with images/packages.txt
  configure  system settings, cluster services disabled, initramfs with live-boot, docs trimmed
  app        this checkout's sanappliance (wheel) and images/overlay (systemd units, console login)
  lab        root.img (ext4, label sanroot) + vmlinuz + initrd.img for direct-kernel boots
  iso        hybrid BIOS/UEFI live ISO (squashfs + GRUB)
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sanappliance import __version__
from sanappliance.apply.runner import run, tool
from sanappliance.errors import SanError

from .mirror import parse_deb822, parse_one_line, pick_debian_mirror
from .steps import Step, StepCache, hash_tree

HERE = Path(__file__).resolve().parent
ROOT_LABEL = "sanroot"
PERSIST_LABEL = "sanappliance"
ISO_VOLID = "SANAPPLIANCE"
# Disk space a cold build needs under the build directory (several copies of an ~800 MB root, images, ISO).
NEEDED_BYTES = 8 * 1024**3

# Services that ship with the stack but run only once the admin forms a cluster or configures them.
DISABLED_UNITS = (
    "corosync.service", "pacemaker.service", "sbd.service", "sbd_remote.service", "dlm.service",
    "lvmlockd.service", "lvmlocks.service", "logd.service", "multipathd.service", "multipathd.socket",
    "open-iscsi.service", "iscsid.socket", "rtslib-fb-targetctl.service", "apt-daily.timer",
    "apt-daily-upgrade.timer", "systemd-networkd-wait-online.service",
    # e2scrub snapshots and checks every LV that holds ext4: on a SAN those are the initiators' disks, exported by LIO
    "e2scrub_all.timer", "e2scrub_reap.service",
    "dpkg-db-backup.timer",  # the image's package set never changes on the appliance
)
ENABLED_UNITS = (
    "systemd-networkd.service", "sanappliance-lio-prep.service", "sanappliance-restore.service",
    "sanappliance-ready.service", "sanappliance-sanctl.socket", "sanappliance-sanctl.service",
    "sanappliance-api-setup.service", "sanappliance-targetd.service", "sanappliance-ui.service",
    "sanappliance-firstboot.service",
)


@dataclass(frozen=True)
class BuildConfig:
    source_dir: Path  # the checkout: pyproject.toml and the package folders
    build_dir: Path  # steps cache and outputs
    mirror: str
    deb_cache: Path = Path("/var/cache/sanappliance/debs")
    suite: str = "trixie"
    root_size: str = "3G"

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / "cache"


def host_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror of the host's apt configuration (SANAPPLIANCE_MIRROR overrides it)."""
    if os.environ.get("SANAPPLIANCE_MIRROR"):
        return os.environ["SANAPPLIANCE_MIRROR"].rstrip("/")
    sources = []
    for path in sorted((etc_apt / "sources.list.d").glob("*.sources")):
        sources += parse_deb822(path.read_text())
    for path in [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*.list"))]:
        if path.is_file():
            sources += parse_one_line(path.read_text())
    return pick_debian_mirror(sources)


def read_packages(path: Path = HERE / "packages.txt") -> list[str]:
    return [w for line in path.read_text().splitlines() if (w := line.split("#", 1)[0].strip())]


def preflight(cfg: BuildConfig, *, is_root: bool | None = None, free_bytes: int | None = None) -> None:
    """Fail early and clearly: not root, not enough space, mirror unreachable, host tools missing."""
    if is_root is None:
        is_root = os.geteuid() == 0
    if not is_root:
        raise SanError("the image build needs root (debootstrap, chroot, mkfs): run it as root", field="user")
    cfg.build_dir.mkdir(parents=True, exist_ok=True)
    if free_bytes is None:
        free_bytes = shutil.disk_usage(cfg.build_dir).free
    if free_bytes < NEEDED_BYTES:
        raise SanError(
            f"not enough free space in {cfg.build_dir}: {free_bytes / 1024**3:.1f} GiB free, "
            f"{NEEDED_BYTES / 1024**3:.0f} GiB needed", field="build_dir", value=str(cfg.build_dir))
    for name, package in (("debootstrap", "debootstrap"), ("mkfs.ext4", "e2fsprogs"), ("unshare", "util-linux")):
        tool(name, package)
    check_mirror(cfg.mirror, cfg.suite)


def check_mirror(mirror: str, suite: str, timeout: float = 20.0) -> None:
    url = f"{mirror}/dists/{suite}/Release"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the host's own apt mirror
            if response.status != 200:
                raise SanError(f"mirror answered HTTP {response.status} for {url}", field="mirror", value=mirror)
    except (urllib.error.URLError, OSError) as exc:
        raise SanError(f"mirror not reachable ({url}): {exc}", field="mirror", value=mirror) from exc


def chroot(root: Path, *argv: str, check: bool = True) -> None:
    run([tool("unshare", "util-linux"), "--mount", "--fork", str(HERE / "chroot-run"), str(root), *argv],
        check=check)


def copy_root(src: Path, dst: Path) -> None:
    run([tool("cp"), "-a", "--reflink=auto", str(src), str(dst)])


# --- steps -----------------------------------------------------------------------------------------------------------

def step_bootstrap(out: Path, cfg: BuildConfig, packages: list[str]) -> None:
    cfg.deb_cache.mkdir(parents=True, exist_ok=True)
    run([tool("debootstrap", "debootstrap"), "--variant=minbase", f"--cache-dir={cfg.deb_cache}",
         f"--include={','.join(packages)}", cfg.suite, str(out / "root"), cfg.mirror])


def step_configure(out: Path, parent: Path) -> None:
    root = out / "root"
    copy_root(parent / "root", root)
    (root / "etc/hostname").write_text("sanappliance\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tsanappliance\n::1\tlocalhost ip6-localhost\n")
    # The root comes from the kernel command line (lab: root=LABEL=sanroot; ISO: live-boot); nothing to mount here.
    (root / "etc/fstab").write_text("# sanappliance: the root file system is given on the kernel command line\n")
    # Empty machine-id: every node generates its own at boot.
    (root / "etc/machine-id").write_text("")
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    # Root has no password: the console logs in only where the kernel command line says so (lab, live console).
    chroot(root, "/usr/bin/passwd", "--lock", "root")
    chroot(root, "/usr/bin/systemctl", "disable", *DISABLED_UNITS, check=False)
    conf = root / "etc/initramfs-tools/conf.d/sanappliance.conf"
    conf.write_text("COMPRESS=zstd\nMODULES=most\n")
    chroot(root, "/usr/sbin/update-initramfs", "-u", "-k", "all")
    for junk in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "var/cache/apt",
                 "var/lib/apt/lists"):
        shutil.rmtree(root / junk, ignore_errors=True)
        (root / junk).mkdir(parents=True, exist_ok=True)
    for locale in (root / "usr/share/locale").iterdir():
        if locale.is_dir():
            shutil.rmtree(locale)


SOURCE_PARTS = ("pyproject.toml", "README.md", "sanappliance", "images", "targetd", "drbd", "ui", "docs")


def build_wheel(source_dir: Path, dest: Path) -> Path:
    """Build from a clean copy of the sources: setuptools' own build/ must not meet this project's build/ folder."""
    src = dest / "src"
    for part in SOURCE_PARTS:
        path = source_dir / part
        if path.is_dir():
            shutil.copytree(path, src / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        elif path.is_file():
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / part)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(dest), str(src)])
    (wheel,) = dest.glob("sanappliance-*.whl")
    return wheel


def install_wheel(wheel: Path, root: Path) -> None:
    """Install the wheel into the image's system Python (Debian dist-packages), with /usr/bin/python3 scripts."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    site = root / "usr/lib/python3/dist-packages"
    scheme = {"purelib": site, "platlib": site, "scripts": root / "usr/bin", "data": root / "usr",
              "headers": root / "usr/include/sanappliance"}
    destination = SchemeDictionaryDestination({k: str(v) for k, v in scheme.items()},
                                              interpreter="/usr/bin/python3", script_kind="posix",
                                              bytecode_optimization_levels=())
    with WheelFile.open(wheel) as source:
        install(source=source, destination=destination, additional_metadata={"INSTALLER": b"sanappliance-images\n"})


STONITHD_COMPAT = "libstonithd.so.26"


def link_stonithd_compat(root: Path) -> None:
    """dlm_stonith (dlm-controld 4.3, dlm's fence proxy to Pacemaker) dlopens libstonithd.so.26, the name of the
    Pacemaker it was built against; trixie's Pacemaker 3.0 ships libstonithd.so.56 with the same stonith_api_kick
    and stonith_api_time. Without the old name dlm never learns that Pacemaker fenced a lost node ("kick_helper
    error -79", ELIBACC, once a second): its lockspaces stay blocked and no shared pool fails over."""
    libdir = root / "usr/lib/x86_64-linux-gnu"
    found = sorted(p.name for p in libdir.glob("libstonithd.so.*") if re.fullmatch(r"libstonithd\.so\.\d+", p.name)
                   and p.name != STONITHD_COMPAT)
    if not found:
        raise SanError("the root has no libstonithd.so.N (pacemaker's fencing library)", field="image")
    link = libdir / STONITHD_COMPAT
    link.unlink(missing_ok=True)
    link.symlink_to(found[-1])


def step_app(out: Path, parent: Path, cfg: BuildConfig) -> None:
    root = out / "root"
    copy_root(parent / "root", root)
    run([tool("cp"), "-a", f"{HERE / 'overlay'}/.", str(root)])
    with tempfile.TemporaryDirectory() as tmp:
        install_wheel(build_wheel(cfg.source_dir, Path(tmp)), root)
    for private in ("etc/sanappliance", "var/lib/sanappliance"):
        (root / private).mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(root / private, 0o700)
    (root / "etc/sanappliance-release").write_text(f"NAME=sanappliance\nVERSION={__version__}\n")
    docs = root / "usr/share/doc/sanappliance"
    docs.mkdir(parents=True, exist_ok=True)
    for doc in sorted((cfg.source_dir / "docs").glob("*.md")):
        shutil.copy2(doc, docs / doc.name)
    chroot(root, "/usr/bin/systemctl", "enable", *ENABLED_UNITS)
    link_stonithd_compat(root)
    # Stamps for ConditionNeedsUpdate: without them ldconfig and the journal catalog rebuild at every live boot.
    chroot(root, "/usr/sbin/ldconfig")
    chroot(root, "/usr/bin/journalctl", "--update-catalog")
    for stamp in ("etc/.updated", "var/.updated"):
        (root / stamp).write_text("# sanappliance image build\n")


def kernel_files(root: Path) -> tuple[Path, Path]:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    initrds = sorted((root / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise SanError("the image root has no kernel or initrd in /boot", field="root", value=str(root))
    return kernels[-1], initrds[-1]


def step_lab(out: Path, parent: Path, cfg: BuildConfig) -> None:
    root = parent / "root"
    vmlinuz, initrd = kernel_files(root)
    shutil.copy2(vmlinuz, out / "vmlinuz")
    shutil.copy2(initrd, out / "initrd.img")
    run([tool("mkfs.ext4", "e2fsprogs"), "-q", "-L", ROOT_LABEL, "-d", str(root), str(out / "root.img"),
         cfg.root_size])


def step_iso(out: Path, parent: Path) -> None:
    root = parent / "root"
    isodir = out / "isodir"
    (isodir / "live").mkdir(parents=True)
    (isodir / "boot/grub").mkdir(parents=True)
    vmlinuz, initrd = kernel_files(root)
    shutil.copy2(vmlinuz, isodir / "live/vmlinuz")
    shutil.copy2(initrd, isodir / "live/initrd.img")
    run([tool("mksquashfs", "squashfs-tools"), str(root), str(isodir / "live/filesystem.squashfs"),
         "-comp", "zstd", "-noappend", "-quiet", "-no-progress"])
    grub_cfg = (HERE / "grub.cfg.in").read_text()
    grub_cfg = grub_cfg.replace("@VERSION@", __version__).replace("@PERSIST_LABEL@", PERSIST_LABEL)
    (isodir / "boot/grub/grub.cfg").write_text(grub_cfg)
    for name, package in (("xorriso", "xorriso"), ("mformat", "mtools")):
        tool(name, package)
    run([tool("grub-mkrescue", "grub-pc-bin and grub-efi-amd64-bin"), "-o", str(out / "sanappliance.iso"),
         str(isodir), "--", "-volid", ISO_VOLID])
    shutil.rmtree(isodir)


# --- the build -------------------------------------------------------------------------------------------------------

def source_hash(source_dir: Path) -> str:
    parts = [source_dir / name for name in SOURCE_PARTS]
    return hash_tree([p for p in parts if p.exists()])


def publish(build_dir: Path, name: str, target: Path) -> Path:
    """Point build/<name> at a finished step's output (atomic symlink swap)."""
    link = build_dir / name
    tmp = build_dir / f".{name}.new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(build_dir))
    tmp.replace(link)
    return link


def build(cfg: BuildConfig, *, iso: bool, lab: bool = True, out: object = sys.stdout) -> dict[str, object]:
    """Run the steps needed for the lab image and/or the ISO; returns the output paths and step timings."""
    preflight(cfg)
    cache = StepCache(cfg.cache_dir, out=out)
    packages = read_packages()
    boot_dir, key = cache.run(Step("bootstrap", step_bootstrap, (cfg, packages),
                                   (cfg.suite, cfg.mirror, *packages)))
    conf_dir, key = cache.run(Step("configure", step_configure, (boot_dir,), DISABLED_UNITS), key)
    app_dir, key = cache.run(Step("app", step_app, (conf_dir, cfg), (source_hash(cfg.source_dir),)), key)
    result: dict[str, object] = {"timings": cache.timings}
    if lab:
        lab_dir, _ = cache.run(Step("lab", step_lab, (app_dir, cfg), (cfg.root_size, ROOT_LABEL)), key)
        result["lab"] = str(publish(cfg.build_dir, "lab", lab_dir))
    if iso:
        iso_dir, _ = cache.run(Step("iso", step_iso, (app_dir,),
                                             (PERSIST_LABEL, ISO_VOLID, hash_tree([HERE / "grub.cfg.in"]))), key)
        result["iso"] = str(publish(cfg.build_dir, "iso", iso_dir) / "sanappliance.iso")
    return result
