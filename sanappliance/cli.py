"""sanctl: the appliance command line. The configuration shell grows here; today it reports and prepares the system."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sanappliance import __version__
from sanappliance.errors import SanError


def _system(args: argparse.Namespace) -> str:
    from sanappliance.apply import system

    if args.action == "prepare-lio":
        return f"LIO ready, dbroot {system.prepare_lio()}"
    if args.action == "restore":
        from sanappliance.service.commit import converge
        from sanappliance.service.env import live_env

        outcome = converge(live_env(dry_run=args.dry_run))
        verb = "would do" if outcome.dry_run else "did"
        return "\n".join([f"restore: generation {outcome.config.generation}, {len(outcome.plan)} change(s) {verb}",
                          *(f"  {step}" for step in outcome.plan)])
    return system.mark_ready()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sanctl", description="sanappliance administration")
    parser.add_argument("--version", action="version", version=f"sanctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sysp = sub.add_parser("system", help="boot-time preparation (run by systemd units)")
    sysp.add_argument("action", choices=["prepare-lio", "restore", "mark-ready"])
    sysp.add_argument("--dry-run", action="store_true", help="restore: print the plan, change nothing")
    sysp.set_defaults(handler=_system)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(args.handler(args))
    except SanError as exc:
        print(f"sanctl: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
