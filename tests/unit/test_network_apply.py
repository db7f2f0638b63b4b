"""The network apply layer's file handling on a temporary root: only the appliance's own networkd files are
replaced or removed, a snapshot restores exactly what was there, /etc/localtime and /etc/hosts follow; and which
netdevs must be created again."""

import json

from sanappliance.apply.network import NetworkHost
from sanappliance.network import render
from sanappliance.network.change import netdevs_to_delete
from sanappliance.network.model import BondMode

from .test_network_samples import active_backup, dhcp, full


def host(tmp_path):
    net = tmp_path / "etc/systemd/network"
    net.mkdir(parents=True)
    (net / "80-sanappliance-dhcp.network").write_text("[Match]\nType=ether\n")
    (net / "50-admin.network").write_text("# someone else's\n")
    (tmp_path / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tsanappliance\n::1\tlocalhost\n")
    (tmp_path / "etc/hostname").write_text("sanappliance\n")
    (tmp_path / "etc/localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    return NetworkHost(tmp_path)


def names(tmp_path):
    return sorted(p.name for p in (tmp_path / "etc/systemd/network").iterdir())


def test_write_replace_and_restore(tmp_path):
    h = host(tmp_path)
    first = render.render_files(full())
    snap0 = h.snapshot(first)
    h.write_files(first, "Europe/Berlin")
    h.save_spec(full())
    assert "10-sanappliance-bond0.netdev" in names(tmp_path) and "50-admin.network" in names(tmp_path)
    assert (tmp_path / "etc/hostname").read_text() == "san1\n"
    assert "127.0.1.1\tsan1" in (tmp_path / "etc/hosts").read_text()
    assert (tmp_path / "etc/localtime").readlink().as_posix() == "/usr/share/zoneinfo/Europe/Berlin"
    assert (tmp_path / "etc/timezone").read_text() == "Europe/Berlin\n"
    assert (tmp_path / "etc/sanappliance/network.json").stat().st_mode & 0o777 == 0o600
    assert h.read_spec() == full()

    snap1 = h.snapshot(render.render_files(dhcp()))
    h.write_files(render.render_files(dhcp()), "UTC")
    h.save_spec(dhcp())
    assert [n for n in names(tmp_path) if n.startswith(("10-", "70-"))] == [
        "10-sanappliance-eth0.network", "70-sanappliance-unused.network"]
    assert "50-admin.network" in names(tmp_path) and "80-sanappliance-dhcp.network" in names(tmp_path)

    h.restore(snap1)
    assert h.read_spec() == full() and (tmp_path / "etc/hostname").read_text() == "san1\n"
    assert "10-sanappliance-bond0.netdev" in names(tmp_path)
    assert (tmp_path / "etc/localtime").readlink().as_posix() == "/usr/share/zoneinfo/Europe/Berlin"

    h.restore(snap0)
    assert h.read_spec() is None
    assert names(tmp_path) == ["50-admin.network", "80-sanappliance-dhcp.network"]
    assert (tmp_path / "etc/hostname").read_text() == "sanappliance\n"
    assert (tmp_path / "etc/localtime").readlink().as_posix() == "/usr/share/zoneinfo/Etc/UTC"


def test_a_snapshot_survives_json(tmp_path):
    h = host(tmp_path)
    h.write_files(render.render_files(full()), "UTC")
    snap = h.snapshot(render.render_files(dhcp()))
    again = type(snap).from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap and f"{render.NETWORK_DIR}/10-sanappliance-eth3.network" in again.files


def test_pending_without_a_file(tmp_path):
    h = host(tmp_path)
    assert h.pending() is None and not h.roll_back()


def test_time_zones_from_a_zoneinfo_tree(tmp_path):
    zi = tmp_path / "usr/share/zoneinfo"
    for name in ("Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/UTC", "right/Europe/Berlin", "zone.tab"):
        (zi / name).parent.mkdir(parents=True, exist_ok=True)
        (zi / name).write_text("TZif")
    found = NetworkHost(tmp_path).timezones()
    assert {"Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Etc/UTC"} <= found
    assert "zone.tab" not in found and "right/Europe/Berlin" not in found


def test_which_netdevs_are_created_again():
    assert netdevs_to_delete(None, full()) == []
    assert netdevs_to_delete(full(), full()) == []
    assert netdevs_to_delete(full(), dhcp()) == ["bond0", "bond0.100", "bond0.200"]
    spec = full()
    other = spec.__class__(**{**spec.__dict__, "bonds": (spec.bonds[0].__class__(
        **{**spec.bonds[0].__dict__, "mode": BondMode.BALANCE_ALB, "lacp_rate": None,
           "xmit_hash_policy": None}),)})
    assert netdevs_to_delete(spec, other) == ["bond0"]
    assert netdevs_to_delete(active_backup(), active_backup()) == []
