"""Side effects stay in the apply layer: only sanappliance.apply (and the host-side lab and image build) may import
process, configfs, D-Bus and udev modules."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIDE_EFFECT_MODULES = {"subprocess", "rtslib", "rtslib_fb", "dbus", "pyudev", "socket", "ctypes"}
# folder -> whether it may import side-effect modules
ALLOWED = ("sanappliance/apply/", "sanappliance/lab/", "images/")
PACKAGE_DIRS = ("sanappliance", "targetd", "drbd", "ui", "images")


def modules():
    for top in PACKAGE_DIRS:
        yield from sorted((ROOT / top).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_side_effect_imports_only_in_apply_layer(path):
    rel = str(path.relative_to(ROOT))
    bad = imported(path) & SIDE_EFFECT_MODULES
    if not rel.startswith(ALLOWED):
        assert not bad, f"{rel} imports {sorted(bad)}: move that code into sanappliance/apply/"


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import subprocess\nfrom dbus import SystemBus\n")
    assert imported(bad) & SIDE_EFFECT_MODULES == {"subprocess", "dbus"}


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 600, "split the module by object"
