"""The targetd-compatible API as the appliance serves it (sanappliance-targetd.service, HTTPS on 18700), reached
from the host through a loopback port forward, against the real LVM and LIO; an iSCSI initiator on the host (libiscsi
through qemu-io, in the lab's network namespace) logs in with what the API set up."""

import json
import ssl
import time

import pytest

from sanappliance.lab import Disk, Forward, LabSpec, NodeSpec, default_networks
from sanappliance.lab.secret_file import secret_object

from ..unit.targetd_client import Client
from .conftest import start_lab, stop_lab

PASSWORD = "vm-test-api-password-1"
HOST = "iqn.1994-05.com.example:apihost"
IN_USER, IN_PASS = "apihost", "apihost-secret-1"
MiB = 2**20


@pytest.fixture(scope="module")
def lab(request, images):
    nets = default_networks("storage")
    spec = LabSpec(nodes=(NodeSpec("node1", disks=(Disk("data1", "2G"),), networks=("storage",),
                                   forwards=(Forward(18700),)),), networks=nets)
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


@pytest.fixture(scope="module")
def api(lab, tmp_path_factory):
    node = lab.node("node1")
    node.wait_for("systemctl is-active sanappliance-targetd.service", timeout=120)
    node.run(["/usr/bin/python3", "-m", "sanappliance.targetd", "set-password"], input=PASSWORD + "\n", check=True)
    node.run(["/usr/bin/systemctl", "restart", "sanappliance-targetd.service"], check=True)
    cert = tmp_path_factory.mktemp("tls") / "targetd.crt"
    cert.write_text(node.run(["/bin/cat", "/etc/sanappliance/tls/targetd.crt"], check=True).stdout)
    tls = ssl.create_default_context(cafile=str(cert))
    tls.check_hostname = False  # the certificate names the node; the forward is 127.0.0.1. The chain is verified.
    client = Client(lab.forward("node1", 18700), tls, ("admin", PASSWORD))
    deadline = time.monotonic() + 60
    while True:
        try:
            client.ok("pool_list")
            break
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    node.run(["/usr/bin/sanctl", "/pools", "create", "p1", "/dev/disk/by-id/virtio-data1"], check=True, timeout=300)
    return client


def qemu_io(lab, target: str, command: str, lun: int = 0, user=IN_USER, secret=IN_PASS):
    portal = lab.address("node1", "storage")
    opts = f"driver=iscsi,transport=tcp,portal={portal}:3260,target={target},lun={lun},initiator-name={HOST}"
    argv = ["/usr/bin/qemu-io", "--image-opts", "--object", secret_object(secret),
            f"{opts},user={user},password-secret=sec0", "-c", command]
    return lab.netns.exec(argv, check=False, timeout=120)


def lv_sum(node, name: str) -> str:
    script = f"md5sum $(lvs --noheadings -o lv_path -S lv_name={name} | tr -d ' ')"
    return node.sh(script).stdout.split()[0]


def test_first_password_was_shown_once_on_the_console_and_is_kept_hashed(lab, api):
    node = lab.node("node1")
    console = node.paths.console_log.read_text(errors="replace")
    shown = [line for line in console.splitlines() if "sanappliance API" in line and "password:" in line]
    assert len(shown) == 1, shown
    generated = shown[0].rsplit("password:", 1)[1].strip()
    journal = node.sh("journalctl -b --no-pager -o cat").stdout
    assert generated not in journal and PASSWORD not in journal
    saved = node.sh("stat -c %a /etc/sanappliance/targetd.json; cat /etc/sanappliance/targetd.json").stdout
    assert saved.startswith("600\n") and PASSWORD not in saved and "scrypt$" in saved


def test_bad_credentials_wait_and_get_401(api):
    started = time.monotonic()
    status, _, _ = Client(api.port, api.tls, ("admin", "wrong-password")).raw(b"{}")
    assert status == 401 and time.monotonic() - started >= 1.0
    assert api.raw(b"{}", path="/elsewhere")[0] == 404


def test_volume_export_chap_io_and_unexport(lab, api):
    pools = {p["name"]: p for p in api.ok("pool_list")}
    assert pools["p1"]["size"] >= 1900 * MiB and pools["p1"]["free_size"] <= pools["p1"]["size"]
    api.ok("vol_create", pool="p1", name="apivol", size=64 * MiB)
    api.ok("export_create", pool="p1", vol="apivol", initiator_wwn=HOST, lun=0)
    api.ok("initiator_set_auth", initiator_wwn=HOST, in_user=IN_USER, in_pass=IN_PASS, out_user=None, out_pass=None)
    (export,) = [e for e in api.ok("export_list") if e["vol_name"] == "apivol"]
    assert export["initiator_wwn"] == HOST and export["lun"] == 0 and export["pool"] == "p1"
    target = api.ok("san_status")["target_name"]
    wrote = qemu_io(lab, target, "write -P 0x5a 0 1M")
    assert wrote.returncode == 0 and "wrote 1048576/1048576" in wrote.stdout, wrote.stderr
    read = qemu_io(lab, target, "read -P 0x5a 0 1M")
    assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, read.stdout + read.stderr
    assert qemu_io(lab, target, "read 0 4k", secret="not-the-secret").returncode != 0
    api.ok("export_destroy", pool="p1", vol="apivol", initiator_wwn=HOST)
    assert not [e for e in api.ok("export_list") if e["vol_name"] == "apivol"]
    assert qemu_io(lab, target, "read 0 4k").returncode != 0
    error = api.err("vol_destroy", pool="p1", name="no-such-volume")
    assert error["code"] == -103


def test_vol_copy_gives_identical_data(lab, api):
    api.ok("vol_copy", pool="p1", vol_orig="apivol", vol_new="apicopy")
    sizes = {v["name"]: v["size"] for v in api.ok("vol_list", pool="p1")}
    assert sizes["apicopy"] == sizes["apivol"] == 64 * MiB
    node = lab.node("node1")
    assert lv_sum(node, "apivol") == lv_sum(node, "apicopy")


def test_the_api_and_sanctl_see_the_same_state(lab, api):
    node = lab.node("node1")
    listing = node.run(["/usr/bin/sanctl", "ls"], check=True).stdout
    assert "apicopy" in listing and "apivol" in listing
    node.run(["/usr/bin/sanctl", "/volumes", "create", "shellvol", "8M", "pool=p1"], check=True, timeout=300)
    assert "shellvol" in {v["name"] for v in api.ok("vol_list", pool="p1")}
    api.ok("vol_destroy", pool="p1", name="shellvol")
    config = json.loads(node.run(["/bin/cat", "/etc/sanappliance/config.json"], check=True).stdout)
    assert "shellvol" not in {v["name"] for v in config["volumes"]}
    assert "shellvol" not in node.run(["/usr/bin/sanctl", "/volumes", "ls"], check=True).stdout
