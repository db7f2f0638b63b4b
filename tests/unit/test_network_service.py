"""The network service over an in-memory host: validation first (nothing changes on a problem, the error names the
field), changes that may cut the management connection need confirmation and roll back unless confirmed, dry runs
change nothing, first boot keeps only the password's hash."""

from dataclasses import replace

import pytest

from sanappliance.errors import SanError
from sanappliance.model.apiconfig import hash_password, verify_password
from sanappliance.network import render
from sanappliance.network.model import FirstBoot, Interface, Link, Role
from sanappliance.service import network
from sanappliance.service.env import Env

from .fakes import FakeSystem, MemoryStore
from .netfakes import FakeAccount, FakeNetworkHost
from .test_network_samples import active_backup, dhcp, full

M, C, R, S = Role.MANAGEMENT, Role.CLUSTER, Role.REPLICATION, Role.STORAGE


def env(dry_run=False):
    return Env(MemoryStore(), FakeSystem(), dry_run)


@pytest.fixture
def host():
    h = FakeNetworkHost()
    network.apply_spec(env(), h, full())
    h.activations.clear()
    return h


def test_a_first_spec_is_written_applied_and_kept():
    h = FakeNetworkHost()
    out = network.apply_spec(env(), h, full())
    assert h.spec == full() and out.rollback_at is None and not out.impact.cuts
    assert h.files == render.render_files(full())
    assert h.localtime == "/usr/share/zoneinfo/Europe/Berlin"
    assert h.activations == [("", "san1")]
    assert "networkctl reload" in out.plan and f"write {render.NETWORK_DIR}/10-sanappliance-bond0.netdev" in out.plan


@pytest.mark.parametrize("edit, field, text", [
    (lambda s: network.set_link(s, "eth3", addresses=["10.0.1.7/24"]), "links[3].addresses[0]", "overlap"),
    (lambda s: network.set_link(s, "eth3", addresses=["10.0.4.9/24"]), "addresses", "overlap"),
    (lambda s: network.set_link(s, "eth3", addresses=["10.0.4.1/24"]), "links[4].addresses[0]", "used already"),
    (lambda s: network.set_link(s, "eth3", addresses=[]), "links[3].addresses", "storage role needs"),
    (lambda s: network.set_link(s, "eth3", addresses=["10.0.3.1/24", "10.0.3.1/24"]), "links[3].addresses[1]",
     "used already"),
    (lambda s: network.set_link(s, "eth0", addresses=["10.0.1.1/16"]), "links[0].gateways[0]", "and 4 more"),
])
def test_bad_changes_name_the_field_and_change_nothing(host, edit, field, text):
    before = (host.spec, dict(host.files))
    with pytest.raises(SanError) as err:
        network.change(env(), host, edit)
    assert field in (err.value.field or ""), err.value
    assert text in str(err.value), err.value
    assert (host.spec, host.files) == before and host.activations == []


def test_overlapping_subnets_duplicates_and_a_role_without_address_are_each_named(host):
    with pytest.raises(SanError, match="overlap"):
        network.change(env(), host, lambda s: network.set_link(s, "eth3", addresses=["10.0.1.200/25"]))
    with pytest.raises(SanError, match="once|twice|duplicate|used"):
        network.change(env(), host, lambda s: network.set_link(s, "eth3", addresses=["10.0.1.1/24"]))
    with pytest.raises(SanError, match="needs a static address") as err:
        network.change(env(), host, lambda s: network.set_link(s, "lan0", addresses=[]))
    assert err.value.field == "links[4].addresses"


def test_a_port_that_is_not_there_is_refused():
    h = FakeNetworkHost(ports={"eth0": "52:54:00:00:00:01"})
    with pytest.raises(SanError, match="no such port") as err:
        network.apply_spec(env(), h, replace(dhcp(), interfaces=(Interface("eth9"),),
                                             links=(Link("eth9", (M,), dhcp=True),)))
    assert err.value.field == "interfaces[0].name" and h.spec is None and h.files == {}


def test_a_change_that_does_not_cut_is_applied_at_once(host):
    out = network.change(env(), host, lambda s: network.set_system(s, hostname="san9", ntp=["192.0.2.99"]))
    assert not out.impact.cuts and out.rollback_at is None and host.rollback is None
    assert host.spec.hostname == "san9" and host.files[render.HOSTNAME] == "san9\n"
    assert "server 192.0.2.99 iburst" in host.files[render.CHRONY_CONF]
    assert host.activations == [("san1", "san9")]


def test_a_cutting_change_needs_confirmation(host):
    with pytest.raises(SanError, match="may cut the management connection.*confirm=yes") as err:
        network.change(env(), host, lambda s: network.set_link(s, "eth0", addresses=["192.0.2.11/24",
                                                                                     "2001:db8::10/64"]))
    assert "192.0.2.10 removed" in str(err.value)
    assert host.spec == full() and host.activations == []


def test_a_confirmed_cutting_change_rolls_back_unless_confirmed(host):
    old_files = dict(host.files)
    out = network.change(env(), host, lambda s: network.set_device(s, "eth0", mtu=9000), confirm=True,
                         rollback_seconds=30)
    assert out.impact.cuts and out.rollback_at is not None and host.rollback["seconds"] == 30
    assert host.spec.interfaces[0].mtu == 9000 and "MTUBytes=9000" in host.files[
        f"{render.NETWORK_DIR}/10-sanappliance-eth0.network"]
    assert host.rollback["confirm_on"] == ["192.0.2.10", "2001:db8::10"]
    with pytest.raises(SanError, match="waits for confirmation"):
        network.change(env(), host, lambda s: network.set_system(s, hostname="san3"))
    assert host.expire()  # the time ran out
    assert host.spec == full() and host.files == old_files and host.activations[-1] == ("rollback", "")


def test_confirming_keeps_the_change(host):
    network.change(env(), host, lambda s: network.set_device(s, "eth0", mtu=9000), confirm=True)
    with pytest.raises(SanError, match="new management address") as err:
        network.confirm_change(host, session_ip="10.0.3.1")
    assert err.value.field == "session_ip"
    assert network.confirm_change(host, session_ip="192.0.2.10").startswith("Network change confirmed")
    assert host.rollback is None and host.cancelled == 1 and host.spec.interfaces[0].mtu == 9000
    assert not host.expire()
    with pytest.raises(SanError, match="no network change waits"):
        network.confirm_change(host)


def test_the_session_address_going_away_cuts(host):
    with pytest.raises(SanError, match="this session's address 10.0.3.1"):
        network.change(env(), host, lambda s: network.set_link(s, "eth3", addresses=["10.0.5.1/24"]),
                       session_ip="10.0.3.1")
    out = network.change(env(), host, lambda s: network.set_link(s, "eth3", addresses=["10.0.5.1/24"]))
    assert not out.impact.cuts


def test_the_confirmation_time_is_bounded(host):
    with pytest.raises(SanError, match="10-3600") as err:
        network.change(env(), host, lambda s: network.set_device(s, "eth0", mtu=9000), confirm=True,
                       rollback_seconds=2)
    assert err.value.field == "rollback" and host.spec == full()


def test_dry_run_shows_the_plan_and_changes_nothing(host):
    out = network.change(env(dry_run=True), host, lambda s: network.set_device(s, "eth0", mtu=9000))
    assert out.dry_run and out.impact.cuts and out.plan[-1].startswith("roll back by itself after 120 s")
    assert host.spec == full() and host.activations == [] and host.rollback is None


def test_a_failure_while_applying_restores_the_files(host):
    old_files = dict(host.files)
    host.fail_activate = True
    with pytest.raises(SanError, match="networkctl reload failed"):
        network.change(env(), host, lambda s: network.set_system(s, hostname="san4"))
    assert host.spec == full() and host.files == old_files
    assert host.activations == [("san1", "san4"), ("san4", "san1")]


def test_removing_a_bond_member_in_use_is_refused_and_removing_a_device_removes_its_files(host):
    with pytest.raises(SanError, match="no such interface") as err:
        network.change(env(), host, lambda s: network.remove_device(s, "eth1"))
    assert err.value.field == "bonds[0].members[0]"
    network.change(env(), host, lambda s: network.remove_device(s, "eth3"))
    assert f"{render.NETWORK_DIR}/10-sanappliance-eth3.network" not in host.files
    assert host.spec.link("eth3") is None


def test_build_a_bond_with_vlans_step_by_step():
    h = FakeNetworkHost()
    network.apply_spec(env(), h, dhcp())
    for edit in (lambda s: network.add_interface(s, "eth1"), lambda s: network.add_interface(s, "eth2"),
                 lambda s: network.add_bond(s, "bond0", ["eth1", "eth2"], "active-backup", primary="eth1"),
                 lambda s: network.set_device(s, "bond0", mtu=9000),
                 lambda s: network.add_vlan(s, "bond0.100", "bond0", 100, 9000),
                 lambda s: network.set_link(s, "bond0.100", roles=["storage", "replication"],
                                            addresses=["10.0.3.1/24"])):
        assert not network.change(env(), h, edit).impact.cuts
    assert h.spec.link("bond0.100").roles == (S, R)
    assert "Bond=bond0" in h.files[f"{render.NETWORK_DIR}/10-sanappliance-eth1.network"]
    with pytest.raises(SanError, match="taken"):
        network.change(env(), h, lambda s: network.add_interface(s, "bond0"))
    with pytest.raises(SanError, match="expected one of") as err:
        network.change(env(), h, lambda s: network.add_bond(s, "bond1", ["eth1"], "fastest"))
    assert err.value.field == "mode"
    with pytest.raises(SanError, match="a bond has the settings"):
        network.change(env(), h, lambda s: network.set_device(s, "bond0", id=3))


def test_a_link_left_with_nothing_is_dropped(host):
    spec = network.set_link(host.spec, "eth3", roles=[], addresses=[])
    assert spec.link("eth3") is None and [x.name for x in spec.links] == ["eth0", "bond0.100", "bond0.200", "lan0"]
    spec = network.set_link(spec, "eth3", roles=["storage"], addresses=["10.0.3.1/24"])
    assert spec.links[-1].name == "eth3"


def test_first_boot_keeps_the_hash_and_applies_the_spec():
    h, account = FakeNetworkHost(), FakeAccount()
    first = FirstBoot(active_backup(), hash_password("a-long-secret"))
    out = network.first_boot(env(), h, account, first)
    assert h.spec == active_backup() and not out.impact.cuts
    assert verify_password("a-long-secret", account.password_hash)
    with pytest.raises(SanError, match="no default") as err:
        network.first_boot(env(), FakeNetworkHost(), FakeAccount(), FirstBoot(dhcp(), ""))
    assert err.value.field == "admin_password"


def test_first_boot_dry_run_sets_nothing():
    h, account = FakeNetworkHost(), FakeAccount()
    out = network.first_boot(env(dry_run=True), h, account, FirstBoot(dhcp(), hash_password("a-long-secret")))
    assert out.dry_run and h.spec is None and account.password_hash == "" and h.files == {}
    assert out.plan[-1] == "keep the admin password's hash (API and web page)"


def test_simple_spec_of_the_dialog_validates():
    spec = network.simple_spec("san1", "enp0s3", dhcp=False, address="192.0.2.5/24", gateway="192.0.2.1",
                               dns=["192.0.2.53"], timezone="Europe/Berlin", ntp=["pool.ntp.org"])
    network.check(spec, network.Facts())
    assert spec.management().addresses == ("192.0.2.5/24",)


def test_the_banner_takes_live_addresses():
    h = FakeNetworkHost(live={"eth0": ["10.0.2.15/24"]})
    text = network.banner_text(h, "0.1.0", "sanappliance")
    assert "management   10.0.2.15/24 (eth0)" in text and "https://10.0.2.15:18700/targetrpc" in text
    network.apply_spec(env(), h, dhcp())
    text = network.banner_text(h, "0.1.0", "x")
    assert text.startswith("san1 - sanappliance 0.1.0") and "https://10.0.2.15/" in text
    assert network.live_by_role(full(), {"bond0.100": ["10.0.1.1/24"]})[C][0].address == "10.0.1.1/24"


def test_describe(host):
    lines = network.describe(host)
    assert "hostname: san1" in lines and any(x.startswith("link eth0: management;") for x in lines)
    assert network.describe(FakeNetworkHost())[0].startswith("not configured")
