"""From one desired state to the next: validate, plan (LIO and storage), then act, then keep; or only show the plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.render import render
from sanappliance.lio.state import changed
from sanappliance.model.config import Config
from sanappliance.model.validate import check
from sanappliance.storage import plan as S

from .env import Env

LIO_DELETES = (P.DeleteTarget, P.DeleteTpg, P.DeleteAcl, P.DeleteMappedLun, P.DeleteLun, P.DeletePortal,
               P.DeleteStorage)


@dataclass(frozen=True)
class Outcome:
    config: Config  # the saved state after the change (unchanged on a dry run)
    plan: tuple[str, ...]  # what was (or, on a dry run, would be) done, in order
    dry_run: bool = False


@dataclass(frozen=True)
class Plan:
    lio_deletes: tuple[P.Action, ...]
    storage_removals: tuple[S.Action, ...]
    storage_creations: tuple[S.Action, ...]
    lio_creations: tuple[P.Action, ...]

    def describe(self) -> tuple[str, ...]:
        steps: Sequence[P.Action | S.Action] = (*self.lio_deletes, *self.storage_removals,
                                                 *self.storage_creations, *self.lio_creations)
        return tuple(a.describe() for a in steps)


def make_plan(env: Env, before: Config, after: Config, *, everything: bool = False) -> Plan:
    """The plan from `before` to `after`. Only the LIO objects the change touches are read and compared, unless
    `everything` (converging: the whole live state is brought in line)."""
    disks = {d for p in (*before.pools, *after.pools) for d in p.disks}
    desired = render(after)
    scope = None if everything else changed(render(before), desired)
    lio_actions = P.plan(env.system.read_lio(scope), desired.restrict(scope))
    lvm_now, lvm_want = env.system.read_lvm(disks), S.desired(after)
    return Plan(tuple(a for a in lio_actions if isinstance(a, LIO_DELETES)),
                tuple(S.plan_removals(lvm_now, lvm_want, S.desired(before))),
                tuple(S.plan_creations(lvm_now, lvm_want)),
                tuple(a for a in lio_actions if not isinstance(a, LIO_DELETES)))


def execute(env: Env, plan: Plan) -> None:
    env.system.run_lio(plan.lio_deletes)
    env.system.run_lvm(plan.storage_removals + plan.storage_creations)
    env.system.run_lio(plan.lio_creations)


def commit(env: Env, before: Config, after: Config) -> Outcome:
    """Validate `after` completely, then make the node match it and save it. On a failure while acting, the previous
    state is saved and converged back to, and the error is raised."""
    check(after, env.system.facts(after))
    plan = make_plan(env, before, after)
    if env.dry_run:
        return Outcome(before, plan.describe(), dry_run=True)
    if after == before:  # nothing to keep: no new generation, no backup; the node is still brought in line
        execute(env, plan)
        return Outcome(before, plan.describe())
    saved = env.store.save(after, before.generation)  # the intent first: a crash mid-way converges on the next run
    try:
        execute(env, plan)
    except SanError as exc:
        restored = env.store.save(before, saved.generation)
        try:
            execute(env, make_plan(env, after, restored, everything=True))
        except SanError as again:
            raise SanError(f"{exc.message}; rolling back also failed: {again.message}", field=exc.field,
                           value=exc.value) from exc
        raise
    return Outcome(saved, plan.describe())


def change(env: Env, edit: Callable[[Config], Config]) -> Outcome:
    """Under the operation lock: load the saved state, apply `edit` to it, commit the result."""
    with env.store.lock():
        before = env.store.load()
        return commit(env, before, edit(before))


def converge(env: Env) -> Outcome:
    """Make the node match the saved state (at boot, after an interrupted change): only differences are acted on."""
    config = env.store.load()
    plan = make_plan(env, config, config, everything=True)
    if not env.dry_run:
        execute(env, plan)
    return Outcome(config, plan.describe(), env.dry_run)
