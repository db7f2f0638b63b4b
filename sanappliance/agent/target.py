"""ocf:sanappliance:target: one whole iSCSI target (TPGs, portals, LUNs and their backstores, ACLs, CHAP) up or
down in one rtslib pass, from its parameters alone (the OCF contract; lio/clustered.py has the pure part).

| action       | answer |
|--------------|--------|
| start        | 0 once the target matches its config (made incrementally: what is there and matches stays) |
| stop         | 0 once the target and its backstores are gone (also when they never were; needs only `iqn`) |
| monitor      | 0 there, enabled and matching; 7 nothing there; 1 half there or different (named on stderr) |
| reload-agent | 0 once the difference to the new config is made (other LUNs and initiators' sessions stay) |
| validate-all | 0; 6 bad parameter (the field named); 5 rtslib-fb or configfs/LIO missing |
| meta-data    | the OCF 1.1 meta-data (meta.py) |

Messages go to stderr (Pacemaker keeps them in its log; a failure's reason as `ocf-exit-reason:`), each one
cleared of the config's CHAP secrets first: the agent never prints or logs a secret.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from sanappliance.errors import INVALID, SanError
from sanappliance.lio import clustered as C
from sanappliance.lio import plan as P
from sanappliance.lio.state import LioState, Scope
from sanappliance.model.config import Config, VolumeKind
from sanappliance.model.validate import validate
from sanappliance.model.values import check_iqn, normalize_wwn

from .ocf import (  # noqa: F401 - the codes are part of this module's interface (tests, callers)
    OCF_ERR_ARGS,
    OCF_ERR_CONFIGURED,
    OCF_ERR_GENERIC,
    OCF_ERR_INSTALLED,
    OCF_ERR_PERM,
    OCF_ERR_UNIMPLEMENTED,
    OCF_NOT_RUNNING,
    OCF_SUCCESS,
    Refused,
    answer,
    entry,
)

USAGE = "usage: target {start|stop|monitor|reload-agent|validate-all|meta-data}"


class TargetSystem(Protocol):
    """What the agent needs of the node (LiveTarget on the appliance; a stand-in in unit tests)."""

    def read_lio(self, scope: Scope | None = None) -> LioState: ...

    def run_lio(self, actions: Sequence[P.Action]) -> None: ...

    def prepare(self) -> None: ...  # LIO modules loaded, dbroot ready

    def missing(self) -> str: ...  # what is not installed ("" when rtslib-fb and configfs/LIO are there)


@dataclass(frozen=True)
class Params:
    iqn: str = ""
    pool: str = ""
    config: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Params:
        return cls(env.get("OCF_RESKEY_iqn", "").strip(), env.get("OCF_RESKEY_pool", "").strip(),
                   env.get("OCF_RESKEY_config", ""))


def secrets_in_text(text: str) -> tuple[str, ...]:
    """The values of every *password* key of a JSON text that may not parse as a Config (for redact)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "password" in str(key) and isinstance(value, str) and value:
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(data)
    return tuple(sorted(found, key=len, reverse=True))


def check_params(params: Params) -> Config:
    """The target's config from the parameters, validated; a SanError names the field at fault."""
    if not params.iqn:
        raise SanError("required parameter missing", field="iqn", kind=INVALID)
    iqn = check_iqn(params.iqn, "iqn")
    config = C.parse_param(params.config, iqn)
    problems = validate(config)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more: " + "; ".join(map(str, problems[1:4])) + ")" if problems[1:] else ""
        raise SanError(first.message + more, field=f"config.{first.field}", kind=INVALID)
    for volume in config.volumes:
        if not volume.wwn:  # LIO would make up a serial on each start: multipath would see another device
            raise SanError("a clustered LUN needs its unit serial fixed in the config, the same on every node",
                           field=f"config.volumes[{volume.name}].wwn", kind=INVALID)
    if params.pool:
        lv_pools = sorted({v.pool for v in config.volumes if v.kind is VolumeKind.LV})
        if params.pool not in {p.name for p in config.pools} or any(p != params.pool for p in lv_pools):
            raise SanError(f"the target's volumes are on pool(s) {', '.join(lv_pools) or '(none)'}", field="pool",
                           kind=INVALID)
    return config


class Agent:
    def __init__(self, system: TargetSystem, params: Params, err: TextIO | None = None) -> None:
        self.system = system
        self.params = params
        self.err = err if err is not None else sys.stderr
        self.iqn = normalize_wwn(params.iqn)
        self.secrets = secrets_in_text(params.config)

    # --- output: every line is cleared of secrets --------------------------------------------------------------

    def say(self, text: str) -> None:
        print(C.redact(text, self.secrets), file=self.err, flush=True)

    def fail(self, code: int, reason: str) -> int:
        self.say(f"ocf-exit-reason:{reason}")
        return code

    # --- pieces ------------------------------------------------------------------------------------------------

    def config(self) -> Config:
        try:
            config = check_params(self.params)
        except SanError as exc:
            raise Refused(OCF_ERR_CONFIGURED, str(exc)) from None
        self.secrets = tuple(sorted({*self.secrets, *C.secrets_of(config)}, key=len, reverse=True))
        return config

    def installed(self) -> None:
        missing = self.system.missing()
        if missing:
            raise Refused(OCF_ERR_INSTALLED, missing)

    def converge(self, config: Config, verb: str) -> int:
        """start and reload-agent: make the difference, then check the target matches."""
        started = time.monotonic()
        self.system.prepare()
        want = C.desired(config)
        actions = C.apply_plan(self.system.read_lio(), want, self.iqn)
        self.system.run_lio(actions)
        after = C.status(self.system.read_lio(), want, self.iqn)
        if after.health is not C.Health.RUNNING:
            return self.fail(OCF_ERR_GENERIC, f"target {self.iqn} does not match its config after {verb}: "
                                              + "; ".join(after.reasons))
        luns = sum(len(t.luns) for target in want.targets.values() for t in target.tpgs.values())
        self.say(f"INFO: {verb} target {self.iqn}: {len(actions)} change(s), {luns} LUN(s), "
                 f"{time.monotonic() - started:.2f} s")
        return OCF_SUCCESS

    # --- the actions -------------------------------------------------------------------------------------------

    def start(self) -> int:
        self.installed()
        return self.converge(self.config(), "started")

    def reload_agent(self) -> int:
        self.installed()
        return self.converge(self.config(), "reloaded")

    def stop(self) -> int:
        if not self.iqn:
            return self.fail(OCF_ERR_CONFIGURED, "iqn: required parameter missing")
        try:
            want: LioState | None = C.desired(check_params(self.params))
        except SanError:
            want = None  # stopping needs only the name: the live target's LUNs name its backstores
        actions = C.stop_plan(self.system.read_lio(), self.iqn, want)
        if actions:
            self.installed()
            self.system.run_lio(actions)
        if self.iqn in self.system.read_lio(Scope(targets=frozenset({self.iqn}))).targets:
            return self.fail(OCF_ERR_GENERIC, f"target {self.iqn} is still there after stop")
        self.say(f"INFO: stopped target {self.iqn}: {len(actions)} change(s)")
        return OCF_SUCCESS

    def monitor(self) -> int:
        observed = self.system.read_lio()
        try:
            config = self.config()
        except Refused:
            if self.iqn not in observed.targets:
                return OCF_NOT_RUNNING  # a probe finds nothing, whatever the parameters say
            raise
        found = C.status(observed, C.desired(config), self.iqn)
        if found.health is C.Health.RUNNING:
            return OCF_SUCCESS
        if found.health is C.Health.STOPPED:
            return OCF_NOT_RUNNING
        return self.fail(OCF_ERR_GENERIC, f"target {self.iqn} is half there: " + "; ".join(found.reasons))

    def validate_all(self) -> int:
        self.installed()
        self.config()
        return OCF_SUCCESS

    def run(self, action: str) -> int:
        handlers = {"start": self.start, "stop": self.stop, "monitor": self.monitor,
                    "reload-agent": self.reload_agent, "validate-all": self.validate_all}
        return answer(action, handlers, USAGE, self.say, self.fail)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         system: TargetSystem | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    import os

    def meta_data() -> str:
        from .meta import META_DATA

        return META_DATA

    action = entry(argv, out, err, USAGE, meta_data)
    if isinstance(action, int):
        return action
    params = Params.from_env(os.environ if env is None else env)
    if system is None:
        from sanappliance.apply.target import LiveTarget

        system = LiveTarget()
    return Agent(system, params, err).run(action)
