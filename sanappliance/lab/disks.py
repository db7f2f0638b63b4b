"""Disk images the lab prepares on the host for a test (e.g. the live ISO's persistence disk)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sanappliance.apply.runner import run, tool

PERSIST_LABEL = "sanappliance"
# What the live appliance keeps across reboots: its configuration and its state.
PERSISTENCE_CONF = "/etc union\n/var/lib union\n/var/log union\n"


def make_persistence_disk(path: Path, size: str = "256M") -> Path:
    """An ext4 file system labelled for live-boot persistence, as an admin would prepare a small disk."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "persistence.conf").write_text(PERSISTENCE_CONF)
        run([tool("mkfs.ext4", "e2fsprogs"), "-q", "-F", "-L", PERSIST_LABEL, "-d", tmp, str(path), size])
    return path


SEED_LABEL = "SANSEED"


def make_seed_disk(path: Path, seed_text: str, size: str = "8M") -> Path:
    """A small file system labelled SANSEED with seed.conf at its root: the unattended first boot reads it."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "seed.conf").write_text(seed_text)
        run([tool("mkfs.ext4", "e2fsprogs"), "-q", "-F", "-L", SEED_LABEL, "-d", tmp, str(path), size])
    return path
