"""Reading the live LIO state straight from configfs: plain directory walks and file reads.

rtslib-fb builds an object (with its own checks) for every storage object, LUN and mapped LUN it lists; with a
thousand LUNs under TCG that costs tens of seconds per command. Reading the same files directly costs a fraction.
Changes still go through rtslib (Executor in lio.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sanappliance.lio.state import NO_CHAP, Acl, LioState, MappedLun, Scope, StorageObject, Target, Tpg
from sanappliance.model import settings

from .lio import MANAGED_PLUGINS

CONFIGFS = Path("/sys/kernel/config/target")
HBA_PLUGINS = {"iblock": "block", "fileio": "fileio", "rd_mcp": "rd_mcp"}


def _read(path: str) -> str:
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


def _auth(directory: str, suffix: str = "") -> tuple[str, str, str, str]:
    values = tuple("" if (v := _read(f"{directory}/{name}{suffix}")) == "NULL" else v
                   for name in ("userid", "password", "userid_mutual", "password_mutual"))
    return values  # type: ignore[return-value]


def _settings(directory: str, names: Iterable[str]) -> dict[str, str]:
    """The named files of a settings directory that exist (one open each, no separate stat)."""
    found = {}
    for name in names:
        try:
            with open(f"{directory}/{name}") as handle:
                found[name] = handle.read().strip()
        except OSError:
            continue
    return found


def _info_fields(text: str) -> dict[str, str]:
    words = text.replace(":", " : ").split()
    return {words[i - 1]: words[i + 1] for i, word in enumerate(words[1:-1], start=1) if word == ":"}


def _storage_object(path: str, name: str, plugin: str) -> StorageObject:
    info = _info_fields(_read(f"{path}/info"))
    dev = _read(f"{path}/udev_path") if plugin == "block" else info.get("File", "") if plugin == "fileio" else ""
    size = int(info.get("Size", "0")) if plugin == "fileio" else 0
    if plugin == "rd_mcp":
        pages, _, page_size = info.get("PAGES/PAGE_SIZE", "0*0").partition("*")
        size = int(pages or 0) * int(page_size or 0)
    serial = _read(f"{path}/wwn/vpd_unit_serial").rsplit(":", 1)[-1].strip()
    attributes = {k: _value(v) for k, v in _settings(f"{path}/attrib", settings.DEVICE_ATTRIBUTES).items()}
    return StorageObject(name, plugin, dev, size, serial, attributes)  # type: ignore[arg-type]


def _storage(root: str, keys: frozenset[str] | None) -> dict[str, StorageObject]:
    found: dict[str, StorageObject] = {}
    core = f"{root}/core"
    if not os.path.isdir(core):
        return found
    for hba in os.scandir(core):
        plugin = HBA_PLUGINS.get(hba.name.rsplit("_", 1)[0])
        if not hba.is_dir() or plugin not in MANAGED_PLUGINS:
            continue
        if keys is None:
            names = [so.name for so in os.scandir(hba.path) if so.is_dir()]
        else:
            names = [k.split("/", 1)[1] for k in keys if k.startswith(f"{plugin}/")
                     and os.path.isdir(f"{hba.path}/{k.split('/', 1)[1]}")]
        for name in names:
            state = _storage_object(f"{hba.path}/{name}", name, plugin)
            found[state.key] = state
    return found


def _so_key(link: str) -> str:
    """`../../../../../../target/core/fileio_0/v1` -> `fileio/v1`."""
    hba, name = link.rstrip("/").split("/")[-2:]
    return f"{HBA_PLUGINS.get(hba.rsplit('_', 1)[0], hba)}/{name}"


def _tpg(path: str, tag: int) -> Tpg:
    luns: dict[int, str] = {}
    for lun in os.scandir(f"{path}/lun"):
        links = [e for e in os.scandir(lun.path) if e.is_symlink()]
        if links:
            luns[int(lun.name.split("_")[1])] = _so_key(os.readlink(links[0].path))
    acls: dict[str, Acl] = {}
    for acl in os.scandir(f"{path}/acls"):
        mapped = []
        for entry in os.scandir(acl.path):
            if not entry.name.startswith("lun_"):
                continue
            link = next((e for e in os.scandir(entry.path) if e.is_symlink()), None)
            if link is None:
                continue
            tpg_lun = int(os.readlink(link.path).rstrip("/").rsplit("_", 1)[1])
            write_protect = _read(f"{entry.path}/write_protect") == "1"
            mapped.append(MappedLun(int(entry.name.split("_")[1]), tpg_lun, write_protect))
        tag_text = _read(f"{acl.path}/tag")
        acls[acl.name] = Acl(acl.name, "" if tag_text in ("", "NULL") else tag_text,
                             tuple(sorted(mapped, key=lambda m: m.mapped_lun)), _auth(f"{acl.path}/auth"))
    portals = []
    for np in os.scandir(f"{path}/np"):
        address, _, port = np.name.rpartition(":")
        portals.append((address.strip("[]"), int(port)))
    attributes = {k: _value(v) for k, v in _settings(f"{path}/attrib", settings.TPG_ATTRIBUTES).items()}
    parameters = _settings(f"{path}/param", (*settings.TPG_PARAMETERS, "AuthMethod"))
    return Tpg(tag, _read(f"{path}/enable") == "1", tuple(sorted(portals)), luns, acls,
               attributes, parameters, _auth(f"{path}/auth"))  # type: ignore[arg-type]


def read_state(root: Path = CONFIGFS, scope: Scope | None = None) -> LioState:
    """The live state; with a scope, only its storage objects and targets (and the discovery settings)."""
    base = str(root)
    targets: dict[str, Target] = {}
    iscsi = f"{base}/iscsi"
    discovery = NO_CHAP
    if os.path.isdir(iscsi):
        for entry in os.scandir(iscsi):
            if not entry.name.startswith(("iqn.", "eui.", "naa.")) or not entry.is_dir():
                continue
            if scope is not None and entry.name not in scope.targets:
                continue
            tpgs = {int(t.name.split("_")[1]): _tpg(t.path, int(t.name.split("_")[1]))
                    for t in os.scandir(entry.path) if t.name.startswith("tpgt_")}
            targets[entry.name] = Target(entry.name, tpgs)
        if _read(f"{iscsi}/discovery_auth/enforce_discovery_auth") == "1":
            discovery = _auth(f"{iscsi}/discovery_auth")
    return LioState(_storage(base, scope.storage if scope is not None else None), targets, discovery)
