"""One-shot `sanctl ls` and `sanctl /PATH ls` without configshell: the same text, from the saved state, in a fraction
of the time (no parser import, no node per LUN). Anything it does not cover goes through the shell as before."""

from __future__ import annotations

import fcntl
import os
import pickle
import struct
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from sanappliance.service import cluster, network, pool_state, shared, storage
from sanappliance.service.env import Env

from . import listing

MAX_WIDTH = 132  # configshell's


def prefs_dir() -> Path:
    return Path(os.environ.get("SANCTL_PREFS", "~/.sanctl")).expanduser()


def _prefs() -> dict[str, Any] | None:
    """The shell's saved preferences (configshell keeps them pickled), or None when they ask for something the quick
    path does not do (a default text colour)."""
    try:
        with open(prefs_dir() / "prefs.bin", "rb") as handle:
            prefs = pickle.load(handle)  # noqa: S301 - the shell's own file in the admin's home, as configshell reads it
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return {}
    if not isinstance(prefs, dict) or prefs.get("color_default"):
        return None
    return prefs


def _width(out: TextIO) -> int:
    try:
        packed = fcntl.ioctl(out.fileno(), termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    except (OSError, ValueError, AttributeError):
        return MAX_WIDTH
    return min(struct.unpack("HHHH", packed)[1], MAX_WIDTH)


def style_for(out: TextIO, prefs: dict[str, Any]) -> listing.Style:
    tty = hasattr(out, "isatty") and out.isatty()
    return listing.Style(width=_width(out), color=bool(prefs.get("color_mode", True)) and tty,
                         round_nodes=bool(prefs.get("tree_round_nodes", True)),
                         status=bool(prefs.get("tree_status_mode", True)),
                         show_root=bool(prefs.get("tree_show_root", True)),
                         max_depth=int(prefs.get("tree_max_depth", 0) or 0))


def path_of(argv: list[str]) -> str | None:
    """The absolute path an `ls` command line lists, or None when the command is something else."""
    if argv == ["ls"]:
        return "/"
    if len(argv) == 2 and argv[1] == "ls" and argv[0].startswith("/"):
        parts = [p for p in argv[0].split("/") if p]
        if any(p in (".", "..") for p in parts) or parts[:1] in (["disks"], ["multipath"]):  # their own tables
            return None
        return "/" + "/".join(parts)
    return None


def try_ls(argv: list[str], make_env: Callable[[bool], Env], out: TextIO = sys.stdout) -> bool:
    """Print the listing and return True, or return False for the shell to handle the command."""
    path = path_of(argv)
    prefs = _prefs() if path is not None else None
    if path is None or prefs is None:
        return False
    env = make_env(False)
    config = env.store.load()
    top = listing.tree(config, lambda: storage.list_disks(env),
                       lambda: cluster.summary(cluster.live_host()), lambda: network.current(network.live_host()),
                       lambda: pool_state.pool_states(env, config), lambda: shared.list_disks(env))
    entry = listing.find(top, path)
    if entry is None:  # the shell says what is wrong with the path
        return False
    out.write(listing.render(entry, path, style_for(out, prefs)) + "\n")
    out.flush()
    return True
