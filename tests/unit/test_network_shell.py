"""The /network node of sanctl over an in-memory host: commands reach the network service, a cutting change needs
confirm=yes, `confirm` keeps it; the one-shot `ls` prints exactly what configshell prints under /network."""

import io

import pytest
from configshell_fb import ExecutionError

from sanappliance.service import network
from sanappliance.service.env import Env
from sanappliance.shell import quick
from sanappliance.shell.root import make_shell

from .fakes import FakeSystem, MemoryStore
from .netfakes import FakeNetworkHost
from .test_network_samples import full
from .test_shell import runner


@pytest.fixture
def net(tmp_path, monkeypatch):
    monkeypatch.setenv("SANCTL_PREFS", str(tmp_path / "prefs"))
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    host = FakeNetworkHost()
    monkeypatch.setattr(network, "live_host", lambda: host)
    store, system = MemoryStore(), FakeSystem()
    system.disks = lambda config: []
    run = runner(store, system)
    run.host = host
    return run


def test_init_then_build_a_bond_and_a_storage_vlan(net):
    net("/network init san1 eth0 dhcp=yes timezone=Europe/Berlin")
    assert net.host.spec.hostname == "san1" and net.host.spec.management().dhcp
    net("/network/interfaces create eth1")
    net("/network/interfaces create eth2")
    net("/network/bonds create bond0 members=eth1,eth2 mode=active-backup primary=eth1 mtu=9000")
    net("/network/vlans create bond0.100 parent=bond0 id=100")
    net("/network/vlans/bond0.100 set link roles=storage,replication addresses=10.0.3.1/24")
    spec = net.host.spec
    assert spec.bonds[0].primary == "eth1" and spec.bonds[0].mtu == 9000
    assert [r.value for r in spec.link("bond0.100").roles] == ["storage", "replication"]
    assert "Created bond bond0." in net.lines and "Changed bond0.100." in net.lines
    net("/network set system hostname=san2 ntp=192.0.2.1,192.0.2.2")
    assert net.host.spec.hostname == "san2" and net.host.spec.time.ntp_servers == ("192.0.2.1", "192.0.2.2")
    net("/network ls")
    text = net.out.getvalue()
    for item in ("san2, management on eth0, Europe/Berlin", "active-backup of eth1,eth2, MTU 9000, no address",
                 "VLAN 100 on bond0, storage,replication: 10.0.3.1/24", "member of bond0", "management: DHCP"):
        assert item in text, item


def test_errors_name_the_field_and_change_nothing(net):
    net("/network init san1 eth0 dhcp=yes")
    before = net.host.spec
    net("/network/interfaces create eth1")
    with pytest.raises(ExecutionError, match=r"links\[1\].addresses: the storage role needs a static address"):
        net("/network/interfaces/eth1 set link roles=storage")
    with pytest.raises(ExecutionError, match="mtu: a whole number"):
        net("/network/interfaces/eth1 set device mtu=big")
    with pytest.raises(ExecutionError, match="no such interface"):
        net("/network/bonds create bond0 members=eth1,eth7")
    assert net.host.spec.interfaces[:1] == before.interfaces and net.host.spec.bonds == ()


def test_a_cutting_change_needs_confirm_and_then_confirm(net):
    network.apply_spec(Env(net.store, net.system), net.host, full())
    with pytest.raises(ExecutionError, match="may cut the management connection"):
        net("/network/interfaces/eth0 set device mtu=9000")
    assert net.host.spec.interfaces[0].mtu is None
    net("/network/interfaces/eth0 set device mtu=9000 confirm=yes rollback=60")
    assert net.host.rollback["seconds"] == 60
    assert any(line.startswith("Rolled back in") and "192.0.2.10" in line for line in net.lines)
    net("/network info")
    assert any("waits for confirmation" in line for line in net.lines)
    net("/network confirm")
    assert "Network change confirmed: it stays." in net.lines and net.host.rollback is None
    with pytest.raises(ExecutionError, match="no network change waits"):
        net("/network confirm")


def test_rollback_now(net):
    network.apply_spec(Env(net.store, net.system), net.host, full())
    net("/network/interfaces/eth0 set device mtu=9000 confirm=yes")
    net("/network rollback")
    assert net.host.spec == full() and "The previous network configuration is back." in net.lines


def test_dry_run_prints_the_plan(net):
    network.apply_spec(Env(net.store, net.system), net.host, full())
    net("/network/interfaces/eth0 set device mtu=9000", dry_run=True)
    assert "Dry run, nothing changed. Plan:" in net.lines
    assert any("roll back by itself after 120 s" in line for line in net.lines)
    assert net.host.spec == full()


def test_get_shows_the_settings(net):
    network.apply_spec(Env(net.store, net.system), net.host, full())
    net("/network get system hostname")
    net("/network/bonds/bond0 get device mode")
    net("/network/vlans/bond0.100 get link roles")
    text = net.out.getvalue()
    assert "hostname=san1" in text and "mode=802.3ad" in text and "roles=replication,cluster" in text


@pytest.mark.parametrize("path", ["/", "/network", "/network/bonds", "/network/interfaces", "/network/vlans"])
@pytest.mark.parametrize("configured", [True, False])
def test_one_shot_ls_is_the_shells(net, path, configured):
    if configured:
        network.apply_spec(Env(net.store, net.system), net.host, full())
    env = lambda dry: Env(net.store, net.system, dry)  # noqa: E731
    quick_out = io.StringIO()
    assert quick.try_ls(["ls"] if path == "/" else [path, "ls"], env, quick_out)
    shell_out = io.StringIO()
    make_shell(env, stdout=shell_out).run_cmdline(f"{path} ls")
    assert quick_out.getvalue() == shell_out.getvalue()
    assert ("802.3ad of eth1,eth2" in quick_out.getvalue()) == (configured and path in ("/", "/network",
                                                                                        "/network/bonds"))
