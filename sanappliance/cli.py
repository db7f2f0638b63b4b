"""sanctl: the appliance's command line.

  sanctl                          the interactive configuration tree (ls, cd, create, delete, set, get, info, help)
  sanctl [--dry-run] PATH CMD ... one command of the tree, e.g. `sanctl /volumes create v1 10G pool=p1`
  sanctl system ACTION            actions run by systemd units (prepare-lio, restore, mark-ready, serve-commands)

One-shot commands run in a child of the command server (sanappliance-sanctl.socket) when it is there: the same
command, without paying for Python's imports each time. SANCTL_NO_SERVER=1 runs them in this process.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sanappliance import __version__
from sanappliance.errors import SanError


def _system(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sanctl system", description="boot-time actions (run by systemd units)")
    parser.add_argument("action", choices=["prepare-lio", "restore", "mark-ready", "serve-commands"])
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
    elif args.action == "mark-ready":
        print(system.mark_ready())
    else:
        _serve_commands()
    return 0


def _serve_commands() -> None:
    """The fork server of one-shot commands (sanappliance-sanctl.service): import everything a command needs once."""
    from sanappliance.apply import forkserver

    forkserver.preload(("configshell_fb", "rtslib_fb", "pyudev", "sanappliance.apply.live",
                        "sanappliance.service.iscsi", "sanappliance.service.system", "sanappliance.shell.quick",
                        "sanappliance.shell.root"))
    forkserver.serve(run_here, forkserver.listening_socket())


def _shell(argv: list[str], dry_run: bool) -> int:
    from sanappliance.service.env import live_env
    from sanappliance.shell.quick import try_ls

    if argv and try_ls(argv, live_env):
        return 0

    from configshell_fb import ExecutionError

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
    command = args[1:] if args[:1] == ["--dry-run"] else args
    if command and command[:1] != ["system"]:  # a one-shot command: the fork server runs it warm when it is there
        from sanappliance.apply.forkserver import run_remote

        code = run_remote(args)
        if code is not None:
            return code
    return run_here(args)


def run_here(args: list[str]) -> int:
    """Run the command in this process."""
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
