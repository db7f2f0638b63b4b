"""Appliance networking in a VM: a lab node configured unattended from a seed disk (name, static addresses, admin
password), an active-backup bond over two NICs on one lab network that keeps answering while either NIC's link is
cut, an iSCSI portal on a storage VLAN on that bond reached by the host-side initiator in the lab's namespace, and a
change that cuts management rolled back by itself unless confirmed."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time

import pytest

from sanappliance.lab import Forward, LabSpec, NodeSpec, default_networks
from sanappliance.lab.disks import make_seed_disk
from sanappliance.lab.qemu import mac
from sanappliance.lab.secret_file import secret_object
from sanappliance.lab.vlan import VlanEndpoint

from ..unit.targetd_client import Client
from .conftest import RUNS, start_lab, stop_lab

PASSWORD = "seed-admin-password-1"
TARGET = "iqn.2026-11.org.sanappliance:vlan"
INITIATOR = "iqn.1994-05.com.example:vlanhost"
USER, SECRET = "vlanhost", "vlanhost-secret-1"
BOND_IP, VLAN_IP, MGMT_IP = "10.231.1.50", "10.231.100.50", "10.0.2.15"
NETNS_VLAN_IP = "10.231.100.1/24"

SEED = f"""# seed.conf of the VM test: management static on the lab's user-mode NIC, a bond of the two NICs on
# the lab network san, replication on the bond, storage on VLAN 100 over it
hostname = netnode1
admin_password = {PASSWORD}
timezone = UTC
ntp = 10.0.2.2
interface.mgmt0.mac = {mac(1, 0)}
interface.san0.mac = {mac(1, 1)}
interface.san1.mac = {mac(1, 2)}
bond.bond0.members = san0, san1
bond.bond0.mode = active-backup
bond.bond0.miimon = 100
bond.bond0.primary = san0
vlan.bond0.100.parent = bond0
vlan.bond0.100.id = 100
link.mgmt0.roles = management
link.mgmt0.address = {MGMT_IP}/24
link.mgmt0.gateway = 10.0.2.2
link.mgmt0.dns = 10.0.2.3
link.bond0.roles = replication
link.bond0.address = {BOND_IP}/24
link.bond0.100.roles = storage
link.bond0.100.address = {VLAN_IP}/24
"""


@pytest.fixture(scope="module")
def lab(request, images):
    seed = make_seed_disk(RUNS / "network-seed.img", SEED)
    spec = LabSpec(nodes=(NodeSpec("node1", networks=("san", "san"), lab_addresses=False, attach=(seed,),
                                   forwards=(Forward(18700),)),), networks=default_networks("san"))
    lab = start_lab(request, images, spec)
    print(f"\nnode with seed ready in {lab.boot_seconds:.1f} s")
    yield lab
    stop_lab(request, lab)
    seed.unlink(missing_ok=True)


def addresses(node) -> dict[str, list[dict]]:
    """MAC -> the kernel's address entries (ip -j addr)."""
    out: dict[str, list[dict]] = {}
    for entry in json.loads(node.sh("ip -j addr show").stdout):
        out.setdefault(entry.get("address", ""), []).extend(entry.get("addr_info", []))
    return out


def has_ip(node, ip: str) -> bool:
    return any(a.get("local") == ip for found in addresses(node).values() for a in found)


def netns_ping(lab, ip: str, count: int = 1) -> bool:
    return lab.netns.exec(["/usr/bin/ping", "-c", str(count), "-W", "2", ip], check=False, timeout=60).returncode == 0


def api_client(lab, password: str = PASSWORD) -> Client:
    node = lab.node("node1")
    cert = RUNS / "network-targetd.crt"
    cert.write_text(node.run(["/bin/cat", "/etc/sanappliance/tls/targetd.crt"], check=True).stdout)
    tls = ssl.create_default_context(cafile=str(cert))
    tls.check_hostname = False  # the certificate names the node; the forward is 127.0.0.1. The chain is verified.
    return Client(lab.forward("node1", 18700), tls, ("admin", password))


def api_answers(lab, timeout: float = 5.0) -> bool:
    """The API answers through the loopback forward (slirp reaches the guest only on its management address)."""
    try:
        with socket.create_connection(("127.0.0.1", lab.forward("node1", 18700)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with context.wrap_socket(sock) as tls:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return bool(tls.recv(16))
    except OSError:
        return False


def sanctl(node, *args: str, check: bool = True):
    return node.run(["/usr/bin/sanctl", *args], check=check, timeout=300)


def test_seeded_node_has_its_name_addresses_and_password(lab):
    node = lab.node("node1")
    assert node.sh("hostname").stdout.strip() == "netnode1"
    assert node.sh("cat /etc/hostname").stdout.strip() == "netnode1"
    assert node.sh("cat /etc/sanappliance/firstboot.done").stdout.startswith("seed SANSEED:/seed.conf")
    lab.wait_until(lambda: has_ip(node, BOND_IP) and has_ip(node, VLAN_IP), 60, "the seed's static addresses")
    mgmt = [a for a in addresses(node)[mac(1, 0)] if a.get("family") == "inet"]
    assert [(a["local"], a["prefixlen"], bool(a.get("dynamic"))) for a in mgmt] == [(MGMT_IP, 24, False)]
    assert "default via 10.0.2.2" in node.sh("ip route show default").stdout
    assert json.loads(node.sh("cat /etc/sanappliance/network.json").stdout)["hostname"] == "netnode1"
    assert lab.wait_until(lambda: netns_ping(lab, BOND_IP), 60, "ping of the bond's address") >= 0
    # the seed's password, hashed; no API password was generated at first boot
    stored = json.loads(node.sh("cat /etc/sanappliance/targetd.json").stdout)["password_hash"]
    assert stored.startswith("scrypt$") and PASSWORD not in node.sh("cat /etc/sanappliance/targetd.json").stdout
    assert "generated" not in node.sh("journalctl -b -u sanappliance-api-setup --no-pager").stdout
    node.wait_for("systemctl is-active sanappliance-targetd.service", timeout=120)
    client = api_client(lab)
    lab.wait_until(lambda: _ok(client), 90, "the API answering the seed's password")
    assert not _ok(api_client(lab, "not-the-password"))
    # the banner agetty shows: name, addresses by role, URLs
    node.wait_for("test -s /run/sanappliance/issue", timeout=60)
    issue = node.sh("cat /run/sanappliance/issue").stdout
    for text in ("netnode1 - sanappliance", f"management   {MGMT_IP}/24 (mgmt0)", f"storage      {VLAN_IP}/24",
                 f"https://{MGMT_IP}:18700/targetrpc"):
        assert text in issue, (text, issue)
    assert PASSWORD not in node.sh("cat /etc/sanappliance/seed.conf* 2>/dev/null; true").stdout
    out = sanctl(node, "/network", "ls").stdout
    assert "netnode1, management on mgmt0" in out and "active-backup of san0,san1" in out, out


def _ok(client: Client) -> bool:
    try:
        client.ok("pool_list")
        return True
    except (OSError, AssertionError, ValueError):
        return False


def active_slave(node) -> str:
    for line in node.sh("cat /proc/net/bonding/bond0").stdout.splitlines():
        if line.startswith("Currently Active Slave:"):
            return line.split(":", 1)[1].strip()
    return ""


def test_the_bond_keeps_connectivity_when_either_link_is_cut(lab):
    node = lab.node("node1")
    lab.wait_until(lambda: netns_ping(lab, BOND_IP), 60, "ping of the bond")
    first = active_slave(node)
    for nth in (1, 2):
        result: dict[str, object] = {}

        def ping(result: dict[str, object] = result) -> None:
            result["r"] = lab.netns.exec(["/usr/bin/ping", "-c", "30", "-i", "0.2", "-W", "1", BOND_IP],
                                         check=False, timeout=60)

        pinger = threading.Thread(target=ping)
        pinger.start()
        time.sleep(1.5)
        started = time.monotonic()
        lab.cut("node1", "san", nth)
        try:
            pinger.join()
            lost = result["r"].stdout  # type: ignore[attr-defined]
            received = int(lost.split(" received")[0].rsplit(" ", 1)[-1])
            print(f"\nlink {nth} cut: {received}/30 pings answered, active member {active_slave(node)} "
                  f"({time.monotonic() - started:.1f} s)")
            assert received >= 24, lost
            assert netns_ping(lab, BOND_IP, 3)
        finally:
            lab.restore("node1", "san", nth)
        lab.wait_until(lambda: node.sh("cat /proc/net/bonding/bond0").stdout.count("MII Status: up") == 3, 30,
                       "both members up again")
    assert first  # the primary was active before the cuts
    lab.wait_until(lambda: active_slave(node) == first, 30, "the primary active again")


def qemu_io(lab, portal: str, command: str):
    opts = f"driver=iscsi,transport=tcp,portal={portal}:3260,target={TARGET},lun=0,initiator-name={INITIATOR}"
    argv = ["/usr/bin/qemu-io", "--image-opts", "--object", secret_object(SECRET),
            f"{opts},user={USER},password-secret=sec0", "-c", command]
    return lab.netns.exec(argv, check=False, timeout=120)


def test_an_iscsi_portal_on_the_storage_vlan_is_reached_from_the_host(lab):
    node = lab.node("node1")
    with VlanEndpoint(lab, "san", 100, NETNS_VLAN_IP):  # the host kernel has no 8021q: a relay tags for it
        _portal_on_the_vlan(lab, node)


def _portal_on_the_vlan(lab, node):
    lab.wait_until(lambda: netns_ping(lab, VLAN_IP), 60, "ping over VLAN 100")
    tpg = f"/iscsi/{TARGET}/tpg1"
    for command in (("/volumes", "create", "v1", "16M", "kind=fileio"), ("/iscsi", "create", TARGET),
                    (f"{tpg}/luns", "create", "v1"), (f"{tpg}/portals", "delete", "0.0.0.0"),
                    (f"{tpg}/portals", "create", VLAN_IP),
                    (f"{tpg}/acls", "create", INITIATOR, f"userid={USER}", f"password={SECRET}")):
        sanctl(node, *command)
    wrote = qemu_io(lab, VLAN_IP, "write -P 0x6b 0 1M")
    assert wrote.returncode == 0 and "wrote 1048576/1048576" in wrote.stdout, wrote.stdout + wrote.stderr
    read = qemu_io(lab, VLAN_IP, "read -P 0x6b 0 1M")
    assert read.returncode == 0 and "read 1048576/1048576" in read.stdout, read.stdout + read.stderr
    assert qemu_io(lab, BOND_IP, "read 0 4k").returncode != 0  # the portal is on the VLAN only


def test_a_change_that_cuts_management_is_refused_unless_confirmed(lab):
    node = lab.node("node1")
    refused = sanctl(node, "/network/interfaces/mgmt0", "set", "link", "addresses=10.0.9.15/24",
                     "gateways=10.0.9.2", check=False)
    assert refused.returncode == 1 and "may cut the management connection" in refused.stderr, refused.stderr
    assert has_ip(node, MGMT_IP) and api_answers(lab)


def test_an_unconfirmed_cutting_change_rolls_back_by_itself(lab):
    node = lab.node("node1")
    assert api_answers(lab)
    out = sanctl(node, "/network/interfaces/mgmt0", "set", "link", "addresses=10.0.9.15/24", "gateways=10.0.9.2",
                 "confirm=yes", "rollback=30")
    started = time.monotonic()
    assert "Rolled back in" in out.stdout and "10.0.9.15" in out.stdout, out.stdout
    lab.wait_until(lambda: has_ip(node, "10.0.9.15") and not has_ip(node, MGMT_IP), 30, "the new address")
    assert not api_answers(lab, 3)  # management is cut: the forward reaches nothing
    assert node.sh("test -f /etc/sanappliance/network-rollback.json", check=False).ok
    seconds = lab.wait_until(lambda: has_ip(node, MGMT_IP) and not has_ip(node, "10.0.9.15"), 120,
                             "the rollback", interval=2)
    print(f"\nrolled back {time.monotonic() - started:.1f} s after the change (asked: 30 s)")
    assert seconds > 10
    lab.wait_until(lambda: api_answers(lab), 60, "the API through the management address again")
    spec = json.loads(node.sh("cat /etc/sanappliance/network.json").stdout)
    assert next(x for x in spec["links"] if x["name"] == "mgmt0")["addresses"] == [f"{MGMT_IP}/24"]
    node.wait_for("! test -f /etc/sanappliance/network-rollback.json", timeout=60)  # after chrony's restart
    assert "not confirmed in time" in node.sh("journalctl -b -u sanappliance-network-rollback --no-pager").stdout


def test_a_confirmed_cutting_change_stays(lab):
    node = lab.node("node1")
    sanctl(node, "/network/interfaces/mgmt0", "set", "device", "mtu=1400", "confirm=yes", "rollback=15")
    lab.wait_until(lambda: node.sh("cat /sys/class/net/*/mtu | grep -qx 1400", check=False).ok, 30, "MTU 1400")
    assert "confirmed" in sanctl(node, "/network", "confirm").stdout
    time.sleep(20)
    assert node.sh("cat /sys/class/net/*/mtu | grep -qx 1400", check=False).ok
    assert json.loads(node.sh("cat /etc/sanappliance/network.json").stdout)["interfaces"][0]["mtu"] == 1400
    assert api_answers(lab)
