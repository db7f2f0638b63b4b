"""The network renders checked by the appliance image's own tools, by chroot into the built root (conftest.py):
no VM, the cached root is never written.

No systemd tool validates .network/.netdev files offline (`systemd-analyze verify` takes units only, `networkctl`
talks to a running daemon). So the image's systemd-networkd itself runs, for a few seconds, in a private network
namespace with veth pairs named as the spec's ports: it parses the rendered files (an unknown key or a value it
cannot parse is logged with the file and line) and configures the ports, whose addresses, MTUs and routes are then
read back with `ip`. /sys is mounted read-only, which tells networkd there is no udev (links count as initialized).
udev's .link files are parsed by `udevadm test-builtin net_setup_link`; chrony.conf by `chronyd -p`.
Each check also shows it can fail: broken variants of the files must be reported."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sanappliance.network import render
from sanappliance.network.model import Interface, Link, NetworkSpec, Role, Vlan
from sanappliance.network.validate import validate
from tests.unit.test_network_samples import active_backup, dhcp, full

pytestmark = pytest.mark.image

TOOLS = ("usr/lib/systemd/systemd-networkd", "usr/bin/udevadm", "usr/sbin/chronyd", "usr/bin/ip", "usr/bin/unshare")
PARSE_PROBLEM = re.compile(r"^(/etc/systemd/network/\S+):(\d+:)? (.*(Unknown|Invalid|Failed to parse|ignoring).*)$",
                           re.M)

# The script run by the image's sh in the chroot: $1 the seconds to wait at most for the addresses in $2 (a space
# separated list of "dev address"); the ports are created from /tmp/ports (one per line).
NETWORKD = r"""
set -eu
mount -t proc proc /proc
mount -t sysfs -o ro sysfs /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp
chown -R systemd-network:systemd-network /run/systemd/netif
echo 0123456789abcdef0123456789abcdef > /etc/machine-id
rm -f /etc/systemd/network/*
for f in /tmp/*.network /tmp/*.netdev /tmp/*.link; do
    [ ! -e "$f" ] || cp "$f" /etc/systemd/network/
done
printf '[Match]\nName=peer*\n\n[Link]\nUnmanaged=yes\n' > /etc/systemd/network/00-test-peers.network
n=0
while read -r port; do
    n=$((n + 1))
    ip link add "$port" type veth peer name "peer$n"
    ip link set "peer$n" up
done < /tmp/ports
SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=debug /usr/lib/systemd/systemd-networkd 2>/tmp/networkd.log &
pid=$!
end=$(( $(date +%s) + $1 ))
while [ "$(date +%s)" -lt "$end" ]; do
    missing=0
    for want in $2; do
        dev=${want%%=*} address=${want#*=}
        ip -o addr show dev "$dev" 2>/dev/null | grep -qF " $address " || missing=1
    done
    [ $missing = 0 ] && grep -q '^Started' /tmp/networkd.log && break
    sleep 0.2
done
sleep 0.5
kill $pid
wait $pid || true
ip -j addr > /tmp/addr.json
ip -j -d link > /tmp/link.json
ip -j route > /tmp/route4.json
ip -j -6 route > /tmp/route6.json
"""


def bonding_refused() -> str | None:
    """Why networkd must not create bonds here, or None. Creating a bond makes the kernel load its bonding module if
    needed, and the module adds an idle bond0 to the host's own namespace: never done to the host behind its back.
    Bonding built in, loaded already, or not available at all (creation then fails harmlessly): None."""
    if Path("/sys/module/bonding").exists():
        return None
    deps = Path(f"/lib/modules/{os.uname().release}/modules.dep")
    if deps.exists() and "/bonding.ko" in deps.read_text():
        return ("loading the host's bonding module would add bond0 to the host: `modprobe bonding max_bonds=0` "
                "first to run this")
    return None


def run_networkd(image_root, files: dict[str, str], ports: list[str], expect: dict[str, list[str]],
                 wait: int = 10):
    """Run networkd on `files` with veth `ports`, until every address of `expect` (device -> addresses) is on its
    device or `wait` seconds passed: the log, and what `ip` shows afterwards (JSON in result.files)."""
    if any(name.endswith(".netdev") and "Kind=bond" in text for name, text in files.items()) and bonding_refused():
        pytest.skip(bonding_refused())
    content: dict[str, str | bytes] = dict(files)
    content["ports"] = "".join(f"{p}\n" for p in ports)
    content["networkd.sh"] = NETWORKD
    wanted = " ".join(f"{dev}={address}" for dev, addresses in expect.items() for address in addresses)
    result = image_root.run(["/usr/bin/unshare", "--net", "/bin/sh", "/tmp/networkd.sh", str(wait), wanted],
                            files=content, keep=("networkd.log", "addr.json", "link.json", "route4.json",
                                                 "route6.json"), timeout=wait + 20)
    assert result.returncode == 0 and "networkd.log" in result.files, result.output
    return result


def parse_problems(log: str) -> list[str]:
    return [m.group(0) for m in PARSE_PROBLEM.finditer(log) if "00-test-peers" not in m.group(1)]


def ports(spec: NetworkSpec) -> list[str]:
    """veth ports for the spec's interfaces matched by name (a veth has no permanent MAC to match), and eth9, which
    the spec does not know."""
    return [i.name for i in spec.interfaces if not i.mac] + ["eth9"]


def links(result) -> dict[str, dict]:
    return {item["ifname"]: item for item in json.loads(result.files["link.json"])}


def addresses(result) -> dict[str, set[str]]:
    return {item["ifname"]: {f"{a['local']}/{a['prefixlen']}" for a in item["addr_info"]}
            for item in json.loads(result.files["addr.json"])}


def test_the_tools_are_in_the_root(image_root):
    missing = [tool for tool in TOOLS if not (image_root.root / tool).exists()]
    assert not missing, f"{image_root.root} lacks {missing}: the image's package list changed?"


SAMPLES = {"full": full, "dhcp": dhcp, "active-backup": active_backup}


@pytest.fixture(scope="module")
def sample_run(image_root):
    """One networkd run per sample spec, shared by the tests of this module: sample_run(name) -> the result."""
    done = {}

    def run(name: str):
        if name not in done:
            spec = SAMPLES[name]()
            expect = {link.name: list(link.addresses) for link in spec.links
                      if link.addresses and link.name in ports(spec)}
            done[name] = run_networkd(image_root, render.networkd_files(spec), ports(spec), expect)
        return done[name]
    return run


@pytest.mark.parametrize("name", SAMPLES)
def test_networkd_loads_every_rendered_file_without_a_complaint(sample_run, name):
    files = render.networkd_files(SAMPLES[name]())
    log = sample_run(name).files["networkd.log"]
    assert parse_problems(log) == [], log
    for file in files:
        if not file.endswith(".link"):
            assert f"/etc/systemd/network/{file}: Successfully loaded." in log, log


def test_networkd_configures_the_ports(sample_run):
    """The full sample on veth ports: static IPv4 and IPv6 with the default route on the management port, jumbo
    frames and no link-local address on the storage port, the port the spec does not know kept down."""
    result = sample_run("full")
    found, state = addresses(result), links(result)
    assert {"192.0.2.10/24", "2001:db8::10/64"} <= found["eth0"], result.files["addr.json"]
    assert found["eth3"] == {"10.0.3.1/24"}, result.files["addr.json"]
    assert state["eth3"]["mtu"] == 9000 and state["eth0"]["mtu"] == 1500
    assert "UP" in state["eth0"]["flags"] and "UP" not in state["eth9"]["flags"]
    assert not found["eth9"]
    routes = json.loads(result.files["route4.json"])
    assert {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"}.items() <= next(
        r for r in routes if r["dst"] == "default").items(), routes
    log = result.files["networkd.log"]
    assert "eth9: Configuring with /etc/systemd/network/70-sanappliance-unused.network." in log


def test_networkd_builds_the_bond_and_its_vlans(sample_run):
    """Where the host kernel has bonding and 802.1Q (a VM or a stock kernel), the bond and the VLANs are made as
    the spec says; elsewhere only their files' parsing is checked (above)."""
    result = sample_run("full")
    log = result.files["networkd.log"]
    if "bond0: Failed to create netdev: Operation not supported" in log:
        pytest.skip("the host kernel has no bonding: creating bond0 is not supported here")
    state = links(result)
    bond = state["bond0"]["linkinfo"]
    assert bond["info_kind"] == "bond" and bond["info_data"]["mode"] == "802.3ad", bond
    assert bond["info_data"]["miimon"] == 100, bond
    assert state["eth1"].get("master") == "bond0" and state["eth2"].get("master") == "bond0"
    if "bond0.100: Failed to create netdev: Operation not supported" in log:
        pytest.skip("the host kernel has no 802.1Q VLANs")
    vlan = state["bond0.100"]
    assert vlan["linkinfo"]["info_data"]["id"] == 100 and vlan["link"] == "bond0" and vlan["mtu"] == 9000


def plain() -> NetworkSpec:
    """No bond (nothing to load into the host's kernel): two ports, a VLAN on the second."""
    spec = NetworkSpec("san1", interfaces=(Interface("eth0"), Interface("eth3", mtu=9000)),
                       vlans=(Vlan("eth3.100", "eth3", 100),),
                       links=(Link("eth0", (Role.MANAGEMENT,), addresses=("192.0.2.10/24",),
                                   gateways=("192.0.2.1",)),
                              Link("eth3.100", (Role.STORAGE,), addresses=("10.0.3.1/24",))))
    assert validate(spec) == []
    return spec


BREAKAGES = {  # file -> (what the rendering has, what the broken file has instead)
    "10-sanappliance-eth0.network": ("Address=192.0.2.10/24", "Address=192.0.2.300/24"),
    "10-sanappliance-eth3.network": ("MTUBytes=9000", "MTUBytes=jumbo"),
    "10-sanappliance-eth3.100.netdev": ("[VLAN]\nId=100", "[VLAN]\nId=5000"),
    "70-sanappliance-unused.network": ("IPv6AcceptRA=no", "IPv6AcceptRouterAdverts=no"),
}


def test_networkd_reports_broken_files(image_root):
    """The check can fail: each broken file is reported with its name (a bad address, a bad MTU, a VLAN id out of
    range, an unknown key), and only those."""
    files = render.networkd_files(plain())
    assert parse_problems(run_networkd(image_root, files, ports(plain()),
                                       {"eth0": ["192.0.2.10/24"]}).files["networkd.log"]) == []
    for name, (good, bad) in BREAKAGES.items():
        assert good in files[name], name
        files[name] = files[name].replace(good, bad)
    log = run_networkd(image_root, files, ports(plain()), {}, wait=2).files["networkd.log"]
    reported = {Path(line.split(":", 1)[0]).name for line in parse_problems(log)}
    assert reported == set(BREAKAGES), log


# --- udev .link files ----------------------------------------------------------------------------------------------

LINK_TEST = r"""
set -eu
mount -t proc proc /proc
mount -t sysfs -o ro sysfs /sys
mount -t tmpfs tmpfs /run
for f in /tmp/*.link; do cp "$f" /etc/systemd/network/; done
ip link add eth0 type veth peer name peer0
SYSTEMD_LOG_LEVEL=debug /usr/bin/udevadm test-builtin net_setup_link /sys/class/net/eth0
"""


def udev_links(image_root, files: dict[str, str]):
    result = image_root.run(["/usr/bin/unshare", "--net", "/bin/sh", "-c", LINK_TEST], files)
    assert result.returncode == 0, result.output
    return result


def test_udev_parses_the_link_file_and_applies_it_only_to_its_mac(image_root):
    files = {n: t for n, t in render.networkd_files(full()).items() if n.endswith(".link")}
    assert list(files) == ["10-sanappliance-lan0.link"]
    result = udev_links(image_root, files)
    assert 'Parsed configuration file "/etc/systemd/network/10-sanappliance-lan0.link"' in result.stderr
    assert not re.search(r"10-sanappliance-lan0\.link:\d+: ", result.stderr), result.output
    assert "ID_NET_LINK_FILE=/usr/lib/systemd/network/99-default.link" in result.stdout, result.output


def test_udev_reports_a_broken_link_file(image_root):
    text = render.render_link_file(Interface("lan0", mac="52:54:00:aa:bb:01")).replace("Name=", "Nmae=")
    result = udev_links(image_root, {"10-sanappliance-lan0.link": text})
    assert "10-sanappliance-lan0.link:6: Unknown key 'Nmae'" in result.stderr, result.output


# --- chrony.conf ---------------------------------------------------------------------------------------------------

def chrony_check(image_root, text: str):
    return image_root.run(["/usr/sbin/chronyd", "-p", "-f", "/tmp/chrony.conf"], {"chrony.conf": text})


@pytest.mark.parametrize("name", SAMPLES)
def test_chronyd_reads_the_rendered_conf(image_root, name):
    result = chrony_check(image_root, render.render_chrony(SAMPLES[name]()))
    assert result.returncode == 0 and result.stderr == "", result.output
    servers = [line for line in result.stdout.splitlines() if line.startswith(("server ", "pool "))]
    expected = [f"server {s} iburst" for s in SAMPLES[name]().time.ntp_servers] or [render.DEBIAN_POOL]
    assert servers == expected


@pytest.mark.parametrize("good, bad, reason", [
    ("server 192.0.2.123 iburst", "server 192.0.2.123 iburts", "Could not parse server directive"),
    ("makestep 1 3", "makestep", "Missing arguments for makestep directive"),
    ("rtcsync", "rtcsynch", "Invalid directive"),
])
def test_chronyd_refuses_a_broken_conf(image_root, good, bad, reason):
    text = render.render_chrony(full())
    assert good in text
    result = chrony_check(image_root, text.replace(good, bad))
    assert result.returncode != 0 and reason in result.stderr, result.output
