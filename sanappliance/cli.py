"""sanctl: the appliance's command line.

  sanctl                          the interactive configuration tree (ls, cd, create, delete, set, get, info, help)
  sanctl [--dry-run] PATH CMD ... one command of the tree, e.g. `sanctl /volumes create v1 10G pool=p1`
  sanctl system ACTION            boot-time actions run by systemd units (prepare-lio, restore, mark-ready)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sanappliance import __version__
from sanappliance.errors import SanError


def _system(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sanctl system", description="boot-time actions (run by systemd units)")
    parser.add_argument("action", choices=["prepare-lio", "restore", "mark-ready"])
    parser.add_argument("--dry-run", action="store_true", help="restore: print the plan, change nothing")
    args = parser.parse_args(argv)
    from sanappliance.apply import system

    if args.action == "prepare-lio":
        print(f"LIO ready, dbroot {system.prepare_lio()}")
    elif args.action == "restore":
        from sanappliance.service.env import live_env
        from sanappliance.service.system import restore

        outcome = restore(live_env(dry_run=args.dry_run))
        verb = "would do" if outcome.dry_run else "did"
        print(f"restore: generation {outcome.config.generation}, {len(outcome.plan)} change(s) {verb}")
        for step in outcome.plan:
            print(f"  {step}")
    else:
        print(system.mark_ready())
    return 0


def _shell(argv: list[str], dry_run: bool) -> int:
    from configshell_fb import ExecutionError

    from sanappliance.service.env import live_env
    from sanappliance.shell.root import make_shell

    shell = make_shell(live_env, dry_run=dry_run)
    if not argv:
        # configshell lets a command's error end its loop: report it and go on, as targetcli does
        while not shell._exit:
            try:
                shell.run_interactive()
            except ExecutionError as exc:
                shell.log.error(str(exc))
        return 0
    try:
        shell.run_cmdline(" ".join(argv))
    except ExecutionError as exc:
        print(f"sanctl: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        print(f"sanctl {__version__}")
        return 0
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    dry_run = False
    if args[:1] == ["--dry-run"]:
        dry_run, args = True, args[1:]
    try:
        if args[:1] == ["system"]:
            return _system(args[1:])
        return _shell(args, dry_run)
    except SanError as exc:
        print(f"sanctl: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
