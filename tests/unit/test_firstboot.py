"""First boot: when it runs (lab nodes stay unattended), the console dialog with scripted answers (checked at once,
the whole spec validated at the end), the flags, and the seed applied through the network service."""

import pytest

from sanappliance.model.apiconfig import verify_password
from sanappliance.network.model import Role
from sanappliance.network.validate import Facts
from sanappliance.service import network
from sanappliance.service.env import Env
from sanappliance.shell import firstboot
from sanappliance.shell.firstboot import Decision, Dialog, decide

from .fakes import FakeSystem, MemoryStore
from .netfakes import FakeAccount, FakeNetworkHost

LAB = "root=LABEL=sanroot console=ttyS0 sanappliance.console_autologin=1 sanappliance.lab=1"
ISO = "boot=live persistence sanappliance.console_autologin=1 console=ttyS0,115200"


@pytest.mark.parametrize("cmdline, done, seed, expected", [
    (ISO, False, False, Decision.DIALOG),
    (ISO, False, True, Decision.SEED),
    (ISO, True, True, Decision.SKIP),
    (LAB, False, False, Decision.SKIP),  # lab boots stay unattended
    (LAB, False, True, Decision.SEED),
    (LAB + " sanappliance.firstboot=dialog", False, False, Decision.DIALOG),
    (ISO + " sanappliance.firstboot=skip", False, True, Decision.SKIP),
])
def test_when_the_first_boot_runs(cmdline, done, seed, expected):
    assert decide(cmdline, done, seed) is expected


def scripted(answers, secrets=()):
    answers, secrets, out = list(answers), list(secrets), []

    def ask(prompt):
        out.append(prompt)
        return answers.pop(0)

    def secret(prompt):
        out.append(prompt)
        return secrets.pop(0)

    return ask, secret, out


def test_dialog_with_dhcp_takes_the_defaults():
    ask, secret, out = scripted(["san1", "", "", "", "", ""], ["a-long-secret", "a-long-secret"])
    first = Dialog(ask, secret, out.append, ["enp0s3", "enp0s4"]).run()
    spec = first.network
    assert spec.hostname == "san1" and spec.management().name == "enp0s3" and spec.management().dhcp
    assert spec.time.timezone == "UTC" and verify_password("a-long-secret", first.admin_password_hash)
    assert "Management interface (present: enp0s3, enp0s4) [enp0s3]: " in out


def test_dialog_checks_each_answer_and_the_whole_spec():
    ask, secret, out = scripted(
        ["San_1", "san1", "Europe/Berlin", "192.0.2.123", "eth7", "enp0s4", "maybe", "no", "192.0.2.10/24",
         "198.51.100.1", "192.0.2.53", "",  # gateway outside the subnet: asked again with the answers as defaults
         "", "", "", "", "", "", "192.0.2.1", "", ""],
        ["short", "a-long-secret", "another-one", "a-long-secret", "a-long-secret"])
    first = Dialog(ask, secret, out.append, ["enp0s3", "enp0s4"], Facts(timezones=frozenset({"Europe/Berlin"}))).run()
    link = first.network.management()
    assert (link.name, link.addresses, link.gateways, link.dns) == ("enp0s4", ("192.0.2.10/24",), ("192.0.2.1",),
                                                                     ("192.0.2.53",))
    assert first.network.time.ntp_servers == ("192.0.2.123",) and first.network.links[0].roles == (Role.MANAGEMENT,)
    text = "\n".join(out)
    for message in ("a host name is", "a password is 8-1024 characters", "the two passwords differ",
                    "no such port here", "yes or no", "the gateway is outside", "Keep the admin password given?"):
        assert message in text, message


def test_first_boot_applies_the_dialog_result_through_the_service():
    ask, secret, _ = scripted(["san1", "", "", "", "no", "10.0.2.15/24", "10.0.2.2", "10.0.2.3", "y"],
                              ["a-long-secret", "a-long-secret"])
    first = Dialog(ask, secret, lambda s: None, ["enp0s3"]).run()
    host, account = FakeNetworkHost(), FakeAccount()
    network.first_boot(Env(MemoryStore(), FakeSystem()), host, account, first)
    assert host.spec.management().addresses == ("10.0.2.15/24",)
    assert verify_password("a-long-secret", account.password_hash)


def test_flags(monkeypatch, capsys):
    host, account, applied = FakeNetworkHost(), FakeAccount(), []
    monkeypatch.setattr(network, "live_host", lambda: host)
    monkeypatch.setattr(firstboot, "live_env", lambda dry_run=False: Env(MemoryStore(), FakeSystem(), dry_run))
    from sanappliance.apply import firstboot as live

    monkeypatch.setattr(live, "AdminAccount", lambda: account)
    monkeypatch.setattr(live, "mark_done", applied.append)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-secret\n"))
    assert firstboot.main(["apply", "--hostname", "san1", "--password-stdin", "--interface", "eth0",
                           "--address", "192.0.2.10/24", "--gateway", "192.0.2.1", "--timezone", "UTC"]) == 0
    assert host.spec.management().gateways == ("192.0.2.1",) and applied == ["flags"]
    assert verify_password("a-long-secret", account.password_hash)
    assert firstboot.main(["apply", "--hostname", "san1", "--interface", "eth0", "--dhcp"]) == 1
    assert "no default" in capsys.readouterr().err


def test_seed_file(monkeypatch, tmp_path, capsys):
    host, account = FakeNetworkHost(), FakeAccount()
    monkeypatch.setattr(network, "live_host", lambda: host)
    monkeypatch.setattr(firstboot, "live_env", lambda dry_run=False: Env(MemoryStore(), FakeSystem(), dry_run))
    from sanappliance.apply import firstboot as live

    monkeypatch.setattr(live, "AdminAccount", lambda: account)
    monkeypatch.setattr(live, "mark_done", lambda how: None)
    seed = tmp_path / "seed.conf"
    seed.write_text("hostname = san7\nadmin_password = a-long-secret\ninterfaces = eth0\n"
                    "link.eth0.roles = management\nlink.eth0.address = 192.0.2.7/24\n")
    assert firstboot.main(["seed", str(seed), "--dry-run"]) == 0
    assert host.spec is None and "Dry run" in capsys.readouterr().out
    assert firstboot.main(["seed", str(seed)]) == 0
    assert host.spec.hostname == "san7" and verify_password("a-long-secret", account.password_hash)
    seed.write_text("hostname = san7\ninterfaces = eth0\nlink.eth0.roles = management\n")
    assert firstboot.main(["seed", str(seed)]) == 1
    err = capsys.readouterr().err
    assert "admin_password" in err and "no default" in err
