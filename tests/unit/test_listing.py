"""The one-shot `ls` (shell/quick.py, no configshell) prints exactly what the configshell tree prints, for every
path, in plain and colour output and with the tree preferences an admin can set."""

import io
import pickle

import pytest

from sanappliance.service import iscsi, storage
from sanappliance.service.env import Env
from sanappliance.shell import listing, quick
from sanappliance.shell.root import make_shell

from .fakes import FakeSystem, MemoryStore
from .test_shell import (
    DISK,
    FakeDisk,
    T,
    build,
    sanctl,  # noqa: F401 - the fixture
)

T2 = "iqn.2026-11.org.sanappliance:t2"


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def built(sanctl):  # noqa: F811
    build(sanctl)
    env = Env(sanctl.store, sanctl.system)
    iscsi.create_group(env, T, "g1", ["iqn.1994-05.com.example:h2"], userid="gu", password="group-secret-1")
    iscsi.create_portal(env, T, "192.0.2.1")
    iscsi.create_tpg(env, T, 2)
    iscsi.set_tpg_enabled(env, T, False, 2)
    iscsi.create_target(env, T2)
    for n in range(11):  # numbers sort as numbers: lun2 before lun10
        storage.create_volume(env, f"f{n}", "1M", kind="fileio")
        iscsi.create_lun(env, T2, f"f{n}")
    return sanctl


def configshell_ls(sanctl, path, out):  # noqa: F811
    shell = make_shell(lambda dry: Env(sanctl.store, sanctl.system, dry), stdout=out)
    shell.run_cmdline(f"{path} ls")
    return out.getvalue()


def quick_ls(sanctl, path, out):  # noqa: F811
    argv = ["ls"] if path == "/" else [path, "ls"]
    assert quick.try_ls(argv, lambda dry: Env(sanctl.store, sanctl.system, dry), out)
    return out.getvalue()


PATHS = ["/", "/iscsi", f"/iscsi/{T}/tpg1", f"/iscsi/{T}/tpg1/acls", "/volumes", "/pools", "/cluster",
         f"/iscsi/{T2}/tpg1/luns"]


@pytest.mark.parametrize("path", PATHS)
def test_same_text_as_the_shell(built, path):
    assert quick_ls(built, path, io.StringIO()) == configshell_ls(built, path, io.StringIO())


@pytest.mark.parametrize("path", ["/", f"/iscsi/{T}"])
def test_same_colours_as_the_shell(built, path):
    colour = quick_ls(built, path, Tty())
    assert "\033[" in colour
    assert colour == configshell_ls(built, path, Tty())


@pytest.mark.parametrize("prefs", [{"tree_round_nodes": False}, {"tree_status_mode": False},
                                   {"tree_show_root": False}, {"tree_max_depth": 2}])
def test_tree_preferences(built, prefs):
    shell = make_shell(lambda dry: Env(built.store, built.system, dry), stdout=io.StringIO())
    before = {key: shell.prefs[key] for key in prefs}
    try:
        for key, value in prefs.items():
            shell.prefs[key] = value  # saved to the prefs file, as `set global` does
        assert quick_ls(built, "/", io.StringIO()) == configshell_ls(built, "/", io.StringIO())
    finally:  # configshell keeps its preferences in shared state: later tests need the defaults
        for key, value in before.items():
            shell.prefs[key] = value


def test_what_it_leaves_to_the_shell(built):
    env = lambda dry: Env(built.store, built.system, dry)  # noqa: E731
    for argv in (["/disks", "ls"], ["iscsi", "ls"], ["/iscsi/..", "ls"], ["/nowhere", "ls"], ["ls", "/iscsi"],
                 ["/iscsi", "ls", "depth=1"], ["/volumes", "create", "x", "1M"]):
        assert not quick.try_ls(argv, env, io.StringIO()), argv


def test_a_default_colour_in_the_prefs_goes_through_the_shell(built):
    (quick.prefs_dir()).mkdir(parents=True, exist_ok=True)
    (quick.prefs_dir() / "prefs.bin").write_bytes(pickle.dumps({"color_default": "red"}))
    assert not quick.try_ls(["ls"], lambda dry: Env(built.store, built.system, dry), io.StringIO())


def test_disks_are_looked_at_only_when_shown():
    store, system = MemoryStore(), FakeSystem()
    asked = []
    system.disks = lambda config: asked.append(1) or [FakeDisk(DISK)]
    top = listing.tree(store.load(), lambda: system.disks(store.load()))
    listing.render(listing.find(top, "/iscsi"), "/iscsi", listing.Style())
    assert asked == []
    assert "Disks: 1, free: 1" in listing.render(top, "/", listing.Style())
    assert asked == [1]
