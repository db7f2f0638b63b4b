"""Which initiators are logged in now: LIO's iSCSI sessions as configfs shows them (each ACL's `info`, and each
TPG's `dynamic_sessions` for initiators let in without an ACL)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .configfs import CONFIGFS

ADDRESS = re.compile(r"Address (\S+) ")
STATE = re.compile(r"Session State: (\S+)")


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def _entries(path: str) -> list[os.DirEntry[str]]:
    try:
        return [e for e in os.scandir(path) if e.is_dir()]
    except OSError:
        return []


def read(root: str | Path = CONFIGFS) -> list[dict[str, object]]:
    sessions: list[dict[str, object]] = []
    for target in _entries(f"{root}/iscsi"):
        for tpg in (t for t in _entries(target.path) if t.name.startswith("tpgt_")):
            number = int(tpg.name[5:])
            for acl in _entries(f"{tpg.path}/acls"):
                info = _read(f"{acl.path}/info")
                if not info or "No active" in info:
                    continue
                state = STATE.search(info)
                sessions.append({"target": target.name, "tpg": number, "initiator": acl.name,
                                 "addresses": tuple(ADDRESS.findall(info)),
                                 "state": state.group(1).replace("TARG_SESS_STATE_", "").lower() if state else ""})
            for name in re.split(r"[\n\0]", _read(f"{tpg.path}/dynamic_sessions")):
                if name.strip():
                    sessions.append({"target": target.name, "tpg": number, "initiator": name.strip(),
                                     "state": "logged_in (no ACL)"})
    return sessions


def lun_commands(iqns: tuple[str, ...] | list[str], root: str | Path = CONFIGFS) -> int:
    """The SCSI commands the LUNs of these targets have received (LIO's per-LUN in_cmds, summed over their TPGs)."""
    total = 0
    for iqn in iqns:
        for tpg in (t for t in _entries(f"{root}/iscsi/{iqn}") if t.name.startswith("tpgt_")):
            for lun in _entries(f"{tpg.path}/lun"):
                text = _read(f"{lun.path}/statistics/scsi_tgt_port/in_cmds").strip()
                total += int(text) if text.isdigit() else 0
    return total
