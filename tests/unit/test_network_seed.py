"""The unattended first-boot seed file (pure): key = value lines or JSON -> FirstBoot; every problem names the key
and its line."""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sanappliance.errors import SanError
from sanappliance.model.apiconfig import hash_password, verify_password
from sanappliance.network.model import FirstBoot
from sanappliance.network.seed import SEED_KEYS, parse_seed, read_seed

from .test_network_samples import active_backup, dhcp, full

FULL_SEED = """\
# sanappliance first boot: the full sample
hostname = san1
admin_password = a-long-secret
timezone = Europe/Berlin
ntp = 0.debian.pool.ntp.org, 192.0.2.123

interfaces = eth0, eth1, eth2, eth3
interface.lan0.mac = 52:54:00:aa:bb:01
interface.eth3.mtu = 9000
bond.bond0.members = eth1, eth2
bond.bond0.mode = 802.3ad
bond.bond0.lacp_rate = fast
bond.bond0.xmit_hash_policy = layer3+4
bond.bond0.mtu = 9000
vlan.bond0.100.parent = bond0
vlan.bond0.100.id = 100
vlan.bond0.100.mtu = 9000
vlan.bond0.200.parent = bond0
vlan.bond0.200.id = 200

link.eth0.roles = management
link.eth0.address = 192.0.2.10/24, 2001:db8::10/64
link.eth0.gateway = 192.0.2.1
link.eth0.dns = 192.0.2.53, 2001:db8::53
link.bond0.100.roles = replication, cluster
link.bond0.100.address = 10.0.1.1/24
link.bond0.200.roles = cluster
link.bond0.200.address = 10.0.2.1/24
link.eth3.roles = storage
link.eth3.address = 10.0.3.1/24
link.lan0.roles = storage
link.lan0.address = 10.0.4.1/24
"""

DHCP_SEED = """\
hostname=san1
admin_password=a-long-secret
interfaces=eth0
link.eth0.roles=management
link.eth0.dhcp=yes
"""


def errors(text: str) -> dict[str, str]:
    first, problems = parse_seed(text, "seed.conf")
    assert first is None and problems
    return {p.field: p.message for p in problems}


def test_the_full_seed_is_the_full_sample():
    first = read_seed(FULL_SEED)
    assert first.network == full()
    assert verify_password("a-long-secret", first.admin_password_hash)
    assert "a-long-secret" not in first.to_json()


def test_the_smallest_seed():
    first = read_seed(DHCP_SEED)
    assert first.network == dhcp()


def test_spaces_comments_and_blank_lines():
    text = "\n".join(f"  {line.replace('=', '  =  ')}  " for line in DHCP_SEED.splitlines())
    assert read_seed("# comment\n\n   # indented comment\n" + text).network == dhcp()


def test_a_ready_hash():
    stored = hash_password("another-secret")
    first = read_seed(DHCP_SEED.replace("admin_password=a-long-secret", f"admin_password_hash={stored}"))
    assert first.admin_password_hash == stored


def test_the_bond_with_a_primary():
    text = """hostname = san2
admin_password = a-long-secret
interfaces = eth0, eth1, eth2
bond.mgmt0.members = eth0, eth1
bond.mgmt0.primary = eth0
bond.mgmt0.miimon = 200
link.mgmt0.roles = management, cluster
link.mgmt0.address = 192.0.2.20/24
link.mgmt0.gateway = 192.0.2.1
link.eth2.roles = storage, replication
link.eth2.address = 10.0.3.2/24
"""
    assert read_seed(text).network == active_backup()


def test_link_order_is_file_order():
    """The first cluster link in the file is knet link 0."""
    text = FULL_SEED.replace("link.bond0.100.roles = replication, cluster\nlink.bond0.100.address = 10.0.1.1/24\n",
                             "").replace("link.lan0.address = 10.0.4.1/24\n", "link.lan0.address = 10.0.4.1/24\n"
                                         "link.bond0.100.roles = replication, cluster\n"
                                         "link.bond0.100.address = 10.0.1.1/24\n")
    links = [link.name for link in read_seed(text).network.links]
    assert links == ["eth0", "bond0.200", "eth3", "lan0", "bond0.100"]


@pytest.mark.parametrize("line, field, message", [
    ("bond.bond0.mode = lacp", "bond.bond0.mode (seed.conf line 3)", "expected one of balance-rr, active-backup"),
    ("vlan.v1.id = ten", "vlan.v1.id (seed.conf line 3)", "expected a whole number"),
    ("link.eth0.ipv6_ra = maybe", "link.eth0.ipv6_ra (seed.conf line 3)", "expected yes or no"),
    ("link.eth0.roles = management, admin", "link.eth0.roles (seed.conf line 3)", "expected one of management"),
    ("colour = red", "colour (seed.conf line 3)", "unknown key (known: admin_password"),
    ("link.eth0.colour = red", "link.eth0.colour (seed.conf line 3)", "unknown key (known here: roles, dhcp"),
    ("route.eth0.via = x", "route.eth0.via (seed.conf line 3)", "known here: interface, bond, vlan, link"),
    ("just words", "seed.conf line 3", "expected key = value"),
    ("Hostname = san1", "seed.conf line 3", "not a seed key"),
    ("hostname = san2", "hostname (seed.conf line 3)", "set twice (first on line 1)"),
])
def test_syntax_problems_name_key_and_line(line, field, message):
    lines = DHCP_SEED.splitlines()
    found = errors("\n".join([*lines[:2], line, *lines[2:]]))
    assert field in found and message in found[field], found


def test_every_syntax_problem_at_once():
    found = errors("hostname = san1\nntp\nbond.b.miimon = fast\nlink.eth0.dhcp = perhaps\n")
    assert set(found) == {"seed.conf line 2", "bond.b.miimon (seed.conf line 3)", "link.eth0.dhcp (seed.conf line 4)",
                          "admin_password (seed.conf)"}


@pytest.mark.parametrize("old, new, field, message", [
    ("vlan.bond0.100.id = 100", "vlan.bond0.100.id = 5000", "vlan.bond0.100.id (seed.conf line 16)",
     "a VLAN id is 1-4094"),
    ("link.eth0.gateway = 192.0.2.1", "link.eth0.gateway = 198.51.100.1", "link.eth0.gateway (seed.conf line 23)",
     "outside the link's subnets"),
    ("link.eth3.address = 10.0.3.1/24", "link.eth3.address = 10.0.1.9/24", "link.eth3.address (seed.conf line 30)",
     "the subnet overlaps 10.0.1.0/24 of bond0.100"),
    ("bond.bond0.members = eth1, eth2", "bond.bond0.members = eth1, eth7", "bond.bond0.members (seed.conf line 10)",
     "no such interface"),
    ("timezone = Europe/Berlin", "timezone = Europe/Berlin!", "timezone (seed.conf line 4)", "a tz database name"),
    ("ntp = 0.debian.pool.ntp.org, 192.0.2.123", "ntp = ntp..example", "ntp (seed.conf line 5)", "an NTP server"),
    ("hostname = san1", "hostname = SAN1", "hostname (seed.conf line 2)", "a host name is 1-63"),
    ("interfaces = eth0, eth1, eth2, eth3", "interfaces = eth0, eth1, eth2, eth3, lo",
     "interfaces (seed.conf line 7)", "an interface name is 1-15"),
    ("link.eth0.roles = management", "link.eth0.roles = storage", "link.* (seed.conf)",
     "exactly one link has the management role"),
])
def test_spec_problems_name_the_seed_key(old, new, field, message):
    assert old in FULL_SEED
    found = errors(FULL_SEED.replace(old, new))
    assert field in found and message in found[field], found


def test_the_admin_password_has_no_default():
    found = errors(DHCP_SEED.replace("admin_password=a-long-secret\n", ""))
    assert found == {"admin_password (seed.conf)": "the admin password has no default: set admin_password (or "
                                                   "admin_password_hash)"}


@pytest.mark.parametrize("lines, field, message", [
    ("admin_password=short", "admin_password (seed.conf line 2)", "a password is 8-1024 characters"),
    ("admin_password_hash=md5$abc", "admin_password_hash (seed.conf line 2)", "not a password hash"),
    ("admin_password=a-long-secret\nadmin_password_hash=scrypt$1$1$1$YQ==$YQ==",
     "admin_password_hash (seed.conf line 3)", "not both"),
])
def test_password_problems_never_show_the_password(lines, field, message):
    found = errors(DHCP_SEED.replace("admin_password=a-long-secret", lines))
    assert message in found[field], found
    _, problems = parse_seed(DHCP_SEED.replace("admin_password=a-long-secret", lines), "seed.conf")
    assert all(p.value in (None, "(hidden)") for p in problems if "password" in p.field)


def test_hostname_is_required():
    assert "hostname (seed.conf)" in errors(DHCP_SEED.replace("hostname=san1\n", ""))


def test_read_seed_raises_the_first_and_counts_the_rest():
    with pytest.raises(SanError) as err:
        read_seed("hostname = San1\ninterfaces = eth0\nlink.eth0.roles = management\n", "seed.conf")
    assert err.value.field == "admin_password (seed.conf)"
    assert "(and 2 more: hostname (seed.conf line 1): a host name" in err.value.message
    assert "link.eth0.roles (seed.conf line 3): the management link needs a static address or DHCP" in str(err.value)


# --- JSON ----------------------------------------------------------------------------------------------------------

def test_json_seed_with_a_clear_password():
    data = {"network": full().to_dict(), "admin_password": "a-long-secret"}
    first = read_seed(json.dumps(data))
    assert first.network == full() and verify_password("a-long-secret", first.admin_password_hash)


def test_json_seed_is_the_first_boot_json():
    first = FirstBoot(dhcp(), hash_password("a-long-secret"))
    assert read_seed(first.to_json()) == first


@pytest.mark.parametrize("data, field, message", [
    ({"network": dhcp().to_dict()}, "seed.admin_password", "no default"),
    ({"network": replace(dhcp(), hostname="SAN").to_dict(), "admin_password": "a-long-secret"}, "seed.network.hostname",
     "a host name"),
    ({"network": {**dhcp().to_dict(), "bonds": [{"name": "b"}]}, "admin_password": "a-long-secret"},
     "seed.network.bonds[0].members", "required field missing"),
    ({"network": dhcp().to_dict(), "admin_password": "a-long-secret", "admin_password_hash": "x"},
     "seed.admin_password", "not both"),
    ([1, 2], "seed", "expected a JSON object"),
])
def test_json_seed_problems(data, field, message):
    first, problems = parse_seed(json.dumps(data))
    assert first is None
    assert any(p.field == field and message in p.message for p in problems), [str(p) for p in problems]


def test_not_json():
    _, problems = parse_seed("{hostname: san1")
    assert problems[0].field == "seed" and "not valid JSON" in problems[0].message


def test_the_documented_keys():
    assert "link.NAME.address" in SEED_KEYS and "admin_password_hash" in SEED_KEYS and len(SEED_KEYS) == 24


def test_the_examples_in_the_docs_are_valid_seeds():
    text = (Path(__file__).resolve().parents[2] / "docs" / "NETWORK.md").read_text()
    section = text[text.index("The seed file\n"):text.index("Decisions\n")]
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    for block in blocks:
        read_seed(block, "NETWORK.md")
    for key in SEED_KEYS:
        attr = key.rsplit(".", 1)[-1]
        assert f"`{key}" in section or f".{attr}`" in section, key  # `bond.NAME.mtu`, `vlan.NAME.mtu` / `.mtu`


def test_a_bond_or_vlan_needs_its_required_keys():
    found = errors(DHCP_SEED + "bond.b.mode = 802.3ad\nvlan.v.id = 3\n")
    assert found == {"bond.b.mode (seed.conf line 6)": "required: a bond needs bond.b.members",
                     "vlan.v.id (seed.conf line 7)": "required: a vlan needs vlan.v.parent"}
