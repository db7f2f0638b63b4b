"""First-boot setup: the console dialog, its flags and the unattended seed file (docs/NETWORK.md, "First boot").

  python3 -m sanappliance.shell.firstboot auto            at boot (sanappliance-firstboot.service): a seed is applied;
                                                          a network change left unconfirmed by a reboot rolls back
  python3 -m sanappliance.shell.firstboot dialog          the console dialog (sanappliance-setup runs it again)
  python3 -m sanappliance.shell.firstboot apply --hostname NAME --password-stdin --interface IF (--dhcp |
        --address A/P [--gateway G] [--dns D,...]) [--timezone TZ] [--ntp S,...] [--dry-run]
  python3 -m sanappliance.shell.firstboot seed FILE [--dry-run]
  python3 -m sanappliance.shell.firstboot banner          the console banner (agetty's issue file)
  python3 -m sanappliance.shell.firstboot wants-dialog    exit 0 when the console should show the dialog
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from enum import Enum

from sanappliance import __version__
from sanappliance.errors import SanError
from sanappliance.model.apiconfig import check_password, hash_password
from sanappliance.network.model import FirstBoot
from sanappliance.network.seed import read_seed
from sanappliance.network.validate import Facts, validate
from sanappliance.service import network
from sanappliance.service.env import Env, live_env


class Decision(Enum):
    SEED = "seed"  # apply the seed unattended
    DIALOG = "dialog"  # ask on the console
    SKIP = "skip"  # nothing: done already, asked not to, or a lab node without a seed


def decide(cmdline: str, done: bool, seed_found: bool) -> Decision:
    """What the first boot does (pure). `sanappliance.firstboot=skip` on the kernel command line skips it; once
    done it never runs by itself again; a seed is applied unattended; lab nodes (`sanappliance.lab=1`) stay
    unattended without a seed unless `sanappliance.firstboot=dialog` asks for the dialog; otherwise the console
    shows the dialog."""
    words = cmdline.split()
    if "sanappliance.firstboot=skip" in words or done:
        return Decision.SKIP
    if seed_found:
        return Decision.SEED
    if "sanappliance.firstboot=dialog" in words:
        return Decision.DIALOG
    if "sanappliance.lab=1" in words:
        return Decision.SKIP
    return Decision.DIALOG


class Dialog:
    """The plain text dialog: one question a line, defaults in brackets, each answer checked at once where it can
    be; the whole spec validated at the end (a problem sends the admin through the questions again, with the
    answers given as defaults)."""

    def __init__(self, ask: Callable[[str], str], secret: Callable[[str], str], write: Callable[[str], None],
                 ports: list[str], facts: Facts | None = None, hostname: str = "sanappliance") -> None:
        self.ask, self.secret, self.write = ask, secret, write
        self.ports, self.facts = ports, facts or Facts()
        self.answers: dict[str, str] = {"hostname": hostname, "timezone": "UTC", "ntp": "",
                                        "interface": ports[0] if ports else "eth0", "dhcp": "yes",
                                        "address": "", "gateway": "", "dns": ""}
        self.password_hash = ""

    def question(self, key: str, text: str, check: Callable[[str], None] | None = None) -> str:
        while True:
            default = self.answers.get(key, "")
            answer = self.ask(f"{text} [{default}]: " if default else f"{text}: ").strip() or default
            try:
                if check is not None:
                    check(answer)
            except SanError as exc:
                self.write(f"  {exc.message}")
                continue
            self.answers[key] = answer
            return answer

    def password(self) -> None:
        if self.password_hash and self.ask("Keep the admin password given? [Y/n]: ").strip().lower() in ("", "y",
                                                                                                      "yes"):
            return
        while True:
            first = self.secret("Admin password (web page and API, user admin; 8 characters or more): ")
            try:
                check_password(first)
            except SanError as exc:
                self.write(f"  {exc.message}")
                continue
            if self.secret("Again: ") != first:
                self.write("  the two passwords differ")
                continue
            self.password_hash = hash_password(first)
            return

    def _hostname(self, value: str) -> None:
        from sanappliance.model.validate import Problems
        from sanappliance.network.validate import check_hostname

        p = Problems()
        check_hostname(value, "hostname", p)
        if p.items:
            raise p.items[0]

    def _yes_no(self, value: str) -> None:
        if value.lower() not in ("y", "yes", "n", "no"):
            raise SanError("yes or no", field="answer")

    def _port(self, value: str) -> None:
        if self.ports and value not in self.ports:
            raise SanError("no such port here (present: " + ", ".join(self.ports) + ")", field="interface")

    def run(self) -> FirstBoot:
        self.write(f"sanappliance {__version__}: first-boot setup. Enter keeps the value in brackets.")
        while True:
            a = self.answers
            self.question("hostname", "Host name", self._hostname)
            self.password()
            self.question("timezone", "Time zone (tz database name, e.g. Europe/Berlin)")
            self.question("ntp", "NTP servers, comma-separated (empty: Debian's pool)")
            shown = f" (present: {', '.join(self.ports)})" if self.ports else ""
            self.question("interface", f"Management interface{shown}", self._port)
            self.question("dhcp", "DHCP on it (yes/no)", self._yes_no)
            static = a["dhcp"].lower() in ("n", "no")
            if static:
                self.question("address", "Address with prefix (e.g. 192.0.2.10/24)")
                self.question("gateway", "Default gateway (empty: none)")
                self.question("dns", "Name servers, comma-separated (empty: none)")
            spec = network.simple_spec(
                a["hostname"], a["interface"], dhcp=not static, address=a["address"] if static else None,
                gateway=(a["gateway"] or None) if static else None,
                dns=_list(a["dns"]) if static else [], timezone=a["timezone"], ntp=_list(a["ntp"]))
            problems = validate(spec, self.facts)
            if problems:
                for problem in problems:
                    self.write(f"  {problem}")
                self.write("Please correct that (the answers given are the defaults now).")
                continue
            where = "DHCP" if not static else " ".join(x for x in (a["address"], a["gateway"] and
                                                                 f"via {a['gateway']}") if x)
            self.write(f"\n{a['hostname']}: management on {a['interface']} ({where}), time zone {a['timezone']}, "
                       f"NTP {a['ntp'] or 'Debian pool'}")
            if self.ask("Apply? [Y/n]: ").strip().lower() in ("", "y", "yes"):
                return FirstBoot(spec, self.password_hash)


def _list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _apply(first: FirstBoot, dry_run: bool, how: str) -> int:
    from sanappliance.apply import firstboot as live

    env: Env = live_env(dry_run=dry_run)
    outcome = network.first_boot(env, network.live_host(), live.AdminAccount(), first)
    if outcome.dry_run:
        print("Dry run, nothing changed. Plan:")
        for step in outcome.plan:
            print(f"  {step}")
        return 0
    live.mark_done(how)
    print(f"{first.network.hostname}: configured ({how}).")
    if outcome.rollback_at is not None:
        print("The management connection may have changed: `sanctl /network confirm` within "
              f"{outcome.impact.confirm_within} s keeps it, otherwise it is rolled back.")
    return 0


def cmd_auto() -> int:
    from sanappliance.apply import firstboot as live

    host = network.live_host()
    if host.pending() is not None:  # rebooted while a change waited for confirmation: the previous one is back
        with host.lock():
            host.roll_back()
        print("an unconfirmed network change was rolled back")
    line = live.cmdline()
    if "sanappliance.firstboot=skip" in line.split() or live.done():
        print("first boot: done already (or skipped on the kernel command line)")
        return 0
    found = live.find_seed()
    decision = decide(line, live.done(), found is not None)
    if decision is not Decision.SEED or found is None:
        print(f"first boot: {decision.value} (no seed)")
        return 0
    text, where = found
    first = read_seed(text, where)
    code = _apply(first, False, f"seed {where}")
    live.retire_seed()
    return code


def cmd_dialog(force: bool) -> int:
    from sanappliance.apply import firstboot as live

    if not force and live.done():
        print("This appliance is set up already; `sanappliance-setup` runs the setup again.")
        return 0
    host = network.live_host()
    try:
        facts = host.facts()
    except SanError:
        facts = Facts()
    dialog = Dialog(input, getpass.getpass, print, live.ports(), facts, live.hostname())
    while True:
        try:
            first = dialog.run()
            if not force and live.done():
                print("The appliance was set up on another console meanwhile: nothing changed here.")
                return 0
            return _apply(first, False, "console dialog")
        except SanError as exc:
            print(f"sanappliance-setup: {exc}")
            print("The setup starts again (Ctrl-C leaves it).")


def cmd_apply(args: argparse.Namespace) -> int:
    if args.password_hash:
        password_hash = args.password_hash
    elif args.password_stdin:
        password_hash = hash_password(check_password(sys.stdin.readline().rstrip("\r\n"), "admin_password"))
    else:
        raise SanError("the admin password has no default: --password-stdin or --password-hash",
                       field="admin_password")
    if not args.dhcp and not args.address:
        raise SanError("give --dhcp or --address ADDR/PREFIX", field="address")
    spec = network.simple_spec(args.hostname, args.interface, dhcp=args.dhcp, address=args.address,
                               gateway=args.gateway, dns=_list(args.dns), timezone=args.timezone,
                               ntp=_list(args.ntp))
    return _apply(FirstBoot(spec, password_hash), args.dry_run, "flags")


def cmd_banner() -> int:
    from sanappliance.apply import firstboot as live

    text = network.banner_text(network.live_host(), __version__, live.hostname())
    live.write_issue(text)
    sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="sanappliance-setup", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command")
    sub.add_parser("auto", help="at boot: apply a seed (sanappliance-firstboot.service)")
    dialog = sub.add_parser("dialog", help="the console dialog")
    dialog.add_argument("--force", action="store_true", help="even when the appliance is set up already")
    apply = sub.add_parser("apply", help="the dialog's settings as flags")
    apply.add_argument("--hostname", required=True)
    apply.add_argument("--password-stdin", action="store_true", help="read the admin password from stdin")
    apply.add_argument("--password-hash", help="an scrypt$... hash instead of a password")
    apply.add_argument("--interface", required=True, help="the management port")
    apply.add_argument("--dhcp", action="store_true")
    apply.add_argument("--address", help="ADDR/PREFIX")
    apply.add_argument("--gateway")
    apply.add_argument("--dns", help="comma-separated")
    apply.add_argument("--timezone", default="UTC")
    apply.add_argument("--ntp", help="comma-separated")
    apply.add_argument("--dry-run", action="store_true")
    seed = sub.add_parser("seed", help="apply a seed file (docs/NETWORK.md)")
    seed.add_argument("file")
    seed.add_argument("--dry-run", action="store_true")
    sub.add_parser("banner", help="write and print the console banner")
    sub.add_parser("wants-dialog", help="exit 0 when the console should show the dialog")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "auto":
            return cmd_auto()
        if args.command in (None, "dialog"):
            return cmd_dialog(bool(getattr(args, "force", False) or args.command is None))
        if args.command == "apply":
            return cmd_apply(args)
        if args.command == "seed":
            with open(args.file) as handle:
                first = read_seed(handle.read(), args.file)
            return _apply(first, args.dry_run, f"seed {args.file}")
        if args.command == "banner":
            return cmd_banner()
        from sanappliance.apply import firstboot as live

        return 0 if decide(live.cmdline(), live.done(), False) is Decision.DIALOG else 1
    except SanError as exc:
        print(f"sanappliance-setup: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nsetup left; run `sanappliance-setup` to set up the appliance later", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"sanappliance-setup: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
