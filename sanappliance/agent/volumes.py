"""ocf:sanappliance:volumes: the LVs of one replicated pool made on the node where the pool is Promoted (after
LVM-activate, before the pool's targets), from the primitive's parameters `vg` and `volumes` (reloadable).

| action       | answer |
|--------------|--------|
| start        | 0 once every wanted LV is there, as large as wanted and active; the state file written |
| stop         | 0 once the state file is gone (LVM-activate deactivates the VG after this agent); also without VG |
| monitor      | 7 no state file (not started here); 0 every wanted LV there and active; 1 otherwise, LVs named |
| reload-agent | the same pass as start with the new volumes |
| validate-all | 0; 6 bad parameter (the field named: `volumes[1].size`); 5 no /usr/sbin/lvm |
| meta-data    | the OCF 1.1 meta-data (volumes_meta.py) |

start: a missing LV is created, a smaller one extended, a larger one left with a warning (never shrunk); the LVs
the appliance tagged that are no longer wanted are removed unless open (left with a warning: a removal that fails
never fails the start, the pool keeps serving); every wanted LV is activated.

The decisions (`parse_volumes`, `plan`, `problems`, `parse_lvs`) are pure; `VolumesSystem` is the node (the apply
layer's LiveVolumes; a fake in unit tests). Messages go to stderr: a failure's reason as `ocf-exit-reason:`, a
warning as `WARNING:`, information as `INFO:`. The keeper LV (`san.keep`, made with the VG by apply/drbd.py so
that LVM-activate's monitor finds an LV) is never touched: no user volume can have its name (no '.').
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from sanappliance.errors import INVALID, SanError

from .ocf import (
    OCF_ERR_CONFIGURED,
    OCF_ERR_GENERIC,
    OCF_ERR_INSTALLED,
    OCF_NOT_RUNNING,
    OCF_SUCCESS,
    Refused,
    answer,
    entry,
)

LVM = "/usr/sbin/lvm"
LV_TAG = "sanappliance"  # on every LV the appliance makes (the local storage plan's tag too)
KEEPER_LV = "san.keep"  # one extent, made with the VG (apply/drbd.py); '.' is in no user volume's name
KEEPER_TAG = "sanappliance-keep"
EXTENT = 4 * 2**20  # sizes are whole extents of LVM's default size
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")  # model.values' rule for volume names
VG_RE = re.compile(r"^san-[A-Za-z0-9_-]{1,63}$")  # san-POOL (model.config.Pool.vg)
MAX_PARAM = 128 * 1024 - 1  # Linux's limit on one environment variable (Pacemaker passes parameters so)
USAGE = "usage: volumes {start|stop|monitor|reload-agent|validate-all|meta-data}"


@dataclass(frozen=True)
class Wanted:
    name: str
    size: int  # bytes


@dataclass(frozen=True)
class Lv:
    """One LV as `lvs` reports it."""

    name: str
    size: int
    tags: frozenset[str] = frozenset()
    active: bool = True
    open: bool = False

    @property
    def ours(self) -> bool:
        return LV_TAG in self.tags and self.name != KEEPER_LV and KEEPER_TAG not in self.tags


@dataclass(frozen=True)
class Action:
    verb: str  # create, extend, activate, remove
    name: str
    size: int = 0

    def argv(self, vg: str) -> list[str]:
        if self.verb == "create":
            return [LVM, "lvcreate", "-y", "--wipesignatures", "y", "--activate", "y", "-n", self.name,
                    "-L", f"{self.size}b", "--addtag", LV_TAG, vg]
        if self.verb == "extend":
            return [LVM, "lvextend", "-L", f"{self.size}b", f"{vg}/{self.name}"]
        if self.verb == "activate":
            return [LVM, "lvchange", "-ay", f"{vg}/{self.name}"]
        if self.verb == "remove":
            return [LVM, "lvremove", "-y", f"{vg}/{self.name}"]
        raise ValueError(self.verb)


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Params:
    vg: str = ""
    volumes: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Params:
        return cls(env.get("OCF_RESKEY_vg", "").strip(), env.get("OCF_RESKEY_volumes", ""))


# --- pure decisions --------------------------------------------------------------------------------------------------

def encode_volumes(volumes: Iterable[tuple[str, int]]) -> str:
    """The `volumes` parameter: compact JSON, sorted by name (so it changes only when a volume does)."""
    text = json.dumps([{"name": n, "size": s} for n, s in sorted(volumes)], separators=(",", ":"))
    if len(text) > MAX_PARAM:
        raise SanError(f"the pool's volume list is {len(text)} bytes, more than a Pacemaker parameter can carry",
                       field="volumes", kind=INVALID)
    return text


def check_vg(vg: str) -> str:
    if not vg:
        raise SanError("required parameter missing", field="vg", kind=INVALID)
    if not VG_RE.match(vg):
        raise SanError("not a pool's volume group (san-POOL)", field="vg", value=vg, kind=INVALID)
    return vg


def parse_volumes(text: str) -> tuple[Wanted, ...]:
    """The `volumes` parameter checked; a SanError names the field at fault (`volumes[1].size`)."""
    if not text.strip():
        raise SanError("required parameter missing", field="volumes", kind=INVALID)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SanError(f"not valid JSON ({exc})", field="volumes", kind=INVALID) from None
    if not isinstance(data, list):
        raise SanError("not a JSON list", field="volumes", kind=INVALID)
    found: list[Wanted] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        at = f"volumes[{index}]"
        if not isinstance(item, dict):
            raise SanError('not an object {"name": ..., "size": ...}', field=at, kind=INVALID)
        name, size = item.get("name"), item.get("size")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise SanError("names are 1-63 characters of A-Z a-z 0-9 _ -", field=f"{at}.name", value=name,
                           kind=INVALID)
        if name in seen:
            raise SanError("named twice", field=f"{at}.name", value=name, kind=INVALID)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % EXTENT:
            raise SanError("a size in bytes, a positive multiple of 4 MiB", field=f"{at}.size", value=size,
                           kind=INVALID)
        seen.add(name)
        found.append(Wanted(name, size))
    return tuple(found)


def check_params(params: Params) -> tuple[Wanted, ...]:
    check_vg(params.vg)
    return parse_volumes(params.volumes)


def plan(wanted: Sequence[Wanted], live: Sequence[Lv]) -> Plan:
    """What makes the VG hold the wanted volumes: removals first (they free space), then creations and extensions,
    then activations. Never a shrink; never an LV the appliance did not tag, the keeper or an open one removed."""
    have = {lv.name: lv for lv in live}
    names = {w.name for w in wanted}
    removes: list[Action] = []
    changes: list[Action] = []
    activates: list[Action] = []
    warnings: list[str] = []
    for lv in sorted(live, key=lambda lv: lv.name):
        if lv.name in names or not lv.ours:
            continue
        if lv.open:
            warnings.append(f"LV {lv.name} is no longer wanted but open (still exported?): left")
        else:
            removes.append(Action("remove", lv.name))
    for want in wanted:
        lv = have.get(want.name)
        if lv is None:
            changes.append(Action("create", want.name, want.size))
            continue
        if lv.size < want.size:
            changes.append(Action("extend", want.name, want.size))
        elif lv.size > want.size:
            warnings.append(f"LV {want.name} is {lv.size} bytes, more than the wanted {want.size}: left (LVs are "
                            "never shrunk)")
        if not lv.active:
            activates.append(Action("activate", want.name))
    return Plan(tuple(removes + changes + activates), tuple(warnings))


def problems(wanted: Sequence[Wanted], live: Sequence[Lv] | None, vg: str, *, sizes: bool = False) -> list[str]:
    """Why the wanted volumes are not all there and active (with `sizes`: also at least as large); [] when fine."""
    if live is None:
        return [f"volume group {vg} not found: LV {', '.join(w.name for w in wanted) or '(none)'} missing"]
    have = {lv.name: lv for lv in live}
    found = []
    for want in wanted:
        lv = have.get(want.name)
        if lv is None:
            found.append(f"LV {vg}/{want.name} missing")
        elif not lv.active:
            found.append(f"LV {vg}/{want.name} not active")
        elif sizes and lv.size < want.size:
            found.append(f"LV {vg}/{want.name} is {lv.size} bytes, not {want.size}")
    return found


def parse_lvs(report: str) -> tuple[Lv, ...]:
    """From `lvm lvs --reportformat json --units b --nosuffix -o lv_name,lv_size,lv_attr,lv_tags VG`: lv_attr's
    5th character 'a' is active, its 6th 'o' open; lv_tags is comma-separated."""
    found = []
    for row in json.loads(report)["report"][0]["lv"]:
        attr = row["lv_attr"]
        tags = frozenset(t for t in row.get("lv_tags", "").split(",") if t)
        found.append(Lv(row["lv_name"], int(row["lv_size"]), tags, attr[4:5] == "a", attr[5:6] == "o"))
    return tuple(found)


# --- the node ------------------------------------------------------------------------------------------------------

class VolumesSystem(Protocol):
    """What the agent needs of the node (apply.volumes.LiveVolumes; a fake in unit tests)."""

    def read_lvs(self, vg: str) -> tuple[Lv, ...] | None: ...  # None: no such VG here

    def run_lvm(self, argv: Sequence[str]) -> None: ...  # raises SanError when it fails

    def started(self, vg: str) -> bool: ...  # the state file is there

    def set_started(self, vg: str, started: bool) -> None: ...

    def missing(self) -> str: ...  # what is not installed ("" when lvm is there)


class Agent:
    def __init__(self, system: VolumesSystem, params: Params, err: TextIO | None = None) -> None:
        self.system = system
        self.params = params
        self.err = err if err is not None else sys.stderr

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def fail(self, code: int, reason: str) -> int:
        self.say(f"ocf-exit-reason:{reason}")
        return code

    def wanted(self) -> tuple[Wanted, ...]:
        try:
            return check_params(self.params)
        except SanError as exc:
            raise Refused(OCF_ERR_CONFIGURED, str(exc)) from None

    def installed(self) -> None:
        missing = self.system.missing()
        if missing:
            raise Refused(OCF_ERR_INSTALLED, missing)

    def converge(self, verb: str) -> int:
        """start and reload-agent: make the difference, check the result, mark the resource started."""
        started = time.monotonic()
        self.installed()
        wanted, vg = self.wanted(), self.params.vg
        live = self.system.read_lvs(vg)
        if live is None:
            return self.fail(OCF_ERR_GENERIC, f"volume group {vg} not found (LVM-activate starts before this agent)")
        todo = plan(wanted, live)
        for warning in todo.warnings:
            self.say(f"WARNING: {vg}: {warning}")
        for action in todo.actions:
            try:
                self.system.run_lvm(action.argv(vg))
            except SanError as exc:
                if action.verb != "remove":
                    raise
                self.say(f"WARNING: {vg}: LV {action.name} could not be removed: left ({exc.message})")
        left = problems(wanted, self.system.read_lvs(vg), vg, sizes=True)
        if left:
            return self.fail(OCF_ERR_GENERIC, f"after {verb}: " + "; ".join(left))
        self.system.set_started(vg, True)
        done = ", ".join(f"{a.verb} {a.name}" for a in todo.actions) or "no change"
        self.say(f"INFO: {verb} {vg}: {len(wanted)} volume(s), {done}, {time.monotonic() - started:.2f} s")
        return OCF_SUCCESS

    def start(self) -> int:
        return self.converge("started")

    def reload_agent(self) -> int:
        return self.converge("reloaded")

    def stop(self) -> int:
        try:
            vg = check_vg(self.params.vg)
        except SanError as exc:  # start refuses such a vg: nothing of it can run, and a failed stop means fencing
            self.say(f"WARNING: stop with a bad parameter ({exc}): nothing to stop")
            return OCF_SUCCESS
        self.system.set_started(vg, False)
        self.say(f"INFO: stopped {vg} (LVM-activate deactivates the VG)")
        return OCF_SUCCESS

    def monitor(self) -> int:
        try:
            vg = check_vg(self.params.vg)
        except SanError:
            return OCF_NOT_RUNNING  # start refuses such a vg: nothing of it can run
        if not self.system.started(vg):
            return OCF_NOT_RUNNING
        left = problems(self.wanted(), self.system.read_lvs(vg), vg)
        if left:
            return self.fail(OCF_ERR_GENERIC, "; ".join(left))
        return OCF_SUCCESS

    def validate_all(self) -> int:
        self.installed()
        self.wanted()
        return OCF_SUCCESS

    def run(self, action: str) -> int:
        handlers = {"start": self.start, "stop": self.stop, "monitor": self.monitor,
                    "reload-agent": self.reload_agent, "validate-all": self.validate_all}
        return answer(action, handlers, USAGE, self.say, self.fail)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         system: VolumesSystem | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    import os

    def meta_data() -> str:
        from .volumes_meta import META_DATA

        return META_DATA

    action = entry(argv, out, err, USAGE, meta_data)
    if isinstance(action, int):
        return action
    params = Params.from_env(os.environ if env is None else env)
    if system is None:
        from sanappliance.apply.volumes import LiveVolumes

        system = LiveVolumes()
    return Agent(system, params, err).run(action)
