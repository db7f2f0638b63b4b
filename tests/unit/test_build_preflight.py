import socket
import zipfile
from pathlib import Path

import pytest

from sanappliance.errors import SanError
from sanappliance.images.build import BuildConfig, build_wheel, check_mirror, preflight, read_packages

ROOT = Path(__file__).resolve().parents[2]


def cfg(tmp_path, mirror="http://127.0.0.1:9/debian"):
    return BuildConfig(source_dir=ROOT, build_dir=tmp_path / "build", mirror=mirror)


def test_not_root(tmp_path):
    with pytest.raises(SanError) as err:
        preflight(cfg(tmp_path), is_root=False)
    assert err.value.field == "user" and "root" in str(err.value)


def test_not_enough_space(tmp_path):
    with pytest.raises(SanError) as err:
        preflight(cfg(tmp_path), is_root=True, free_bytes=10 * 2**20)
    assert err.value.field == "build_dir" and "GiB" in str(err.value)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_mirror(tmp_path):
    mirror = f"http://127.0.0.1:{closed_port()}/debian"
    with pytest.raises(SanError) as err:
        check_mirror(mirror, "trixie", timeout=3)
    assert err.value.field == "mirror" and "not reachable" in str(err.value)


def test_package_list_has_the_stack():
    packages = read_packages()
    for name in ("corosync", "pacemaker", "sbd", "drbd-utils", "targetcli-fb", "python3-rtslib-fb",
                 "qemu-guest-agent", "live-boot", "python3-cffi-backend"):
        assert name in packages
    assert "fence-agents" not in packages and "pcs" not in packages  # they pull every cloud agent / Ruby
    assert len(packages) == len(set(packages))


def test_wheel_keeps_folders_under_the_namespace(tmp_path):
    wheel = build_wheel(ROOT, tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"sanappliance", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for sub in ("targetd", "drbd", "images", "ui"):
        assert f"sanappliance/{sub}/__init__.py" in names
    for init in (ROOT / "sanappliance").rglob("__init__.py"):  # every subpackage is listed in pyproject.toml
        assert str(init.relative_to(ROOT)) in names
    assert "sanappliance/images/overlay/usr/lib/systemd/system/sanappliance-ready.service" in names
    assert "sanappliance/images/chroot-run" in names
