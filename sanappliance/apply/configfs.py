"""Reading the live LIO state straight from configfs: plain directory walks and file reads.

rtslib-fb builds an object (with its own checks) for every storage object, LUN and mapped LUN it lists; with a
thousand LUNs under TCG that costs tens of seconds per command. Reading the same files directly costs a fraction.
Changes still go through rtslib (Executor in lio.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from sanappliance.lio.state import NO_CHAP, Acl, LioState, MappedLun, StorageObject, Target, Tpg
from sanappliance.model import settings

from .lio import MANAGED_PLUGINS

CONFIGFS = Path("/sys/kernel/config/target")
HBA_PLUGINS = {"iblock": "block", "fileio": "fileio", "rd_mcp": "rd_mcp"}


def _read(path: Path) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _value(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _auth(directory: Path, suffix: str = "") -> tuple[str, str, str, str]:
    values = tuple("" if (v := _read(directory / name)) == "NULL" else v
                   for name in (f"userid{suffix}", f"password{suffix}", f"userid_mutual{suffix}",
                                f"password_mutual{suffix}"))
    return values  # type: ignore[return-value]


def _info_fields(text: str) -> dict[str, str]:
    words = text.replace(":", " : ").split()
    return {words[i - 1]: words[i + 1] for i, word in enumerate(words[1:-1], start=1) if word == ":"}


def _storage(root: Path) -> dict[str, StorageObject]:
    found: dict[str, StorageObject] = {}
    core = root / "core"
    if not core.is_dir():
        return found
    for hba in os.scandir(core):
        plugin = HBA_PLUGINS.get(hba.name.rsplit("_", 1)[0])
        if not hba.is_dir() or plugin not in MANAGED_PLUGINS:
            continue
        for so in os.scandir(hba.path):
            if not so.is_dir():
                continue
            path = Path(so.path)
            info = _info_fields(_read(path / "info"))
            dev = _read(path / "udev_path") if plugin == "block" else info.get("File", "") if plugin == "fileio" else ""
            size = int(info.get("Size", "0")) if plugin == "fileio" else 0
            if plugin == "rd_mcp":
                pages, _, page_size = info.get("PAGES/PAGE_SIZE", "0*0").partition("*")
                size = int(pages or 0) * int(page_size or 0)
            serial = _read(path / "wwn" / "vpd_unit_serial").rsplit(":", 1)[-1].strip()
            attributes = {name: _value(_read(path / "attrib" / name)) for name in settings.DEVICE_ATTRIBUTES
                          if (path / "attrib" / name).exists()}
            state = StorageObject(so.name, plugin, dev, size, serial, attributes)  # type: ignore[arg-type]
            found[state.key] = state
    return found


def _so_key(link: str) -> str:
    """`../../../../../../target/core/fileio_0/v1` -> `fileio/v1`."""
    hba, name = link.rstrip("/").split("/")[-2:]
    return f"{HBA_PLUGINS.get(hba.rsplit('_', 1)[0], hba)}/{name}"


def _tpg(path: Path, tag: int) -> Tpg:
    luns: dict[int, str] = {}
    for lun in os.scandir(path / "lun"):
        links = [e for e in os.scandir(lun.path) if e.is_symlink()]
        if links:
            luns[int(lun.name.split("_")[1])] = _so_key(os.readlink(links[0].path))
    acls: dict[str, Acl] = {}
    for acl in os.scandir(path / "acls"):
        mapped = []
        for entry in os.scandir(acl.path):
            if not entry.name.startswith("lun_"):
                continue
            link = next((e for e in os.scandir(entry.path) if e.is_symlink()), None)
            if link is None:
                continue
            tpg_lun = int(os.readlink(link.path).rstrip("/").rsplit("_", 1)[1])
            write_protect = _read(Path(entry.path) / "write_protect") == "1"
            mapped.append(MappedLun(int(entry.name.split("_")[1]), tpg_lun, write_protect))
        tag_text = _read(Path(acl.path) / "tag")
        acls[acl.name] = Acl(acl.name, "" if tag_text in ("", "NULL") else tag_text,
                             tuple(sorted(mapped, key=lambda m: m.mapped_lun)), _auth(Path(acl.path) / "auth"))
    portals = []
    for np in os.scandir(path / "np"):
        address, _, port = np.name.rpartition(":")
        portals.append((address.strip("[]"), int(port)))
    attributes = {n: _value(_read(path / "attrib" / n)) for n in settings.TPG_ATTRIBUTES
                  if (path / "attrib" / n).exists()}
    parameters = {n: _read(path / "param" / n) for n in (*settings.TPG_PARAMETERS, "AuthMethod")
                  if (path / "param" / n).exists()}
    return Tpg(tag, _read(path / "enable") == "1", tuple(sorted(portals)), luns, acls,
               attributes, parameters, _auth(path / "auth"))  # type: ignore[arg-type]


def read_state(root: Path = CONFIGFS) -> LioState:
    targets: dict[str, Target] = {}
    iscsi = root / "iscsi"
    discovery = NO_CHAP
    if iscsi.is_dir():
        for entry in os.scandir(iscsi):
            if entry.name.startswith(("iqn.", "eui.", "naa.")) and entry.is_dir():
                tpgs = {int(t.name.split("_")[1]): _tpg(Path(t.path), int(t.name.split("_")[1]))
                        for t in os.scandir(entry.path) if t.name.startswith("tpgt_")}
                targets[entry.name] = Target(entry.name, tpgs)
        if _read(iscsi / "discovery_auth" / "enforce_discovery_auth") == "1":
            discovery = _auth(iscsi / "discovery_auth")
    return LioState(_storage(root), targets, discovery)
