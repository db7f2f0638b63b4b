"""Forming the HA cluster on one appliance node with `sanctl /cluster init`: the real corosync (knet, encrypted),
sbd on a shared disk with the i6300esb watchdog, Pacemaker with the appliance's properties and fence_sbd.
Joining a second node is the next step of the cluster issue."""

import time

import pytest

from sanappliance.lab import Disk, LabSpec, NodeSpec, default_networks

from .conftest import start_lab, stop_lab

SBD = "/dev/disk/by-id/virtio-sbd0"


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", networks=("cluster",)),), networks=default_networks("cluster"),
                   shared_disks=(Disk("sbd0", "64M"),))
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


def sanctl(node, *args, check=False, timeout=900):
    return node.run(["/usr/bin/sanctl", *args], check=check, timeout=timeout)


def untouched(node) -> str:
    return node.sh("ls /etc/corosync/corosync.conf /etc/corosync/authkey /etc/sanappliance/cluster.json 2>&1; "
                   "systemctl is-active corosync pacemaker sbd", check=False).stdout


def test_bad_input_changes_nothing(lab):
    node = lab.node("node1")
    before = untouched(node)
    address = lab.address("node1", "cluster")
    for args, expected in (
        (("c1", "sbd=/dev/disk/by-id/virtio-nope", f"address={address}"), "sbd.devices[0]"),
        (("c1", "sbd=/dev/disk/by-id/virtio-sanroot", f"address={address}"), "in use"),
        (("Bad_Name!", f"sbd={SBD}", f"address={address}"), "name"),
        (("c1", f"sbd={SBD}", "address=300.1.2.3"), "addresses"),
        (("c1", f"sbd={SBD}", f"address={address}", "profile=fast"), "profile"),
    ):
        result = sanctl(node, "/cluster", "init", *args)
        assert result.returncode != 0 and expected in result.stderr, (args, result.stderr)
    assert untouched(node) == before
    assert "No such file" in before


def test_init_forms_a_quorate_cluster_with_sbd_fencing(lab):
    node = lab.node("node1")
    address = lab.address("node1", "cluster")
    started = time.monotonic()
    result = sanctl(node, "/cluster", "init", "lab1", f"sbd={SBD}", f"address={address}", "profile=lab")
    assert result.returncode == 0, result.stderr
    assert "Cluster lab1 formed." in result.stdout
    node.wait_for("crm_mon -1 --output-as=xml | grep -q 'resource id=\"fence-sbd\".*role=\"Started\"'", timeout=300)
    seconds = time.monotonic() - started
    print(f"init to fence_sbd started: {seconds:.0f} s")
    status = sanctl(node, "/cluster", "status", check=True).stdout
    assert "1/1 nodes online, quorate, DC node1" in status, status
    assert "resource fence-sbd (stonith:fence_sbd): Started on node1" in status, status
    assert "cluster lab1: 1/1 nodes online" in sanctl(node, "ls", check=True).stdout


def test_what_init_set_up(lab):
    node = lab.node("node1")
    conf = node.sh("cat /etc/corosync/corosync.conf").stdout
    assert "transport: knet" in conf and "crypto_cipher: aes256" in conf and "cluster_name: lab1" in conf
    assert node.sh("stat -c %a /etc/corosync/authkey").stdout.strip() == "400"
    dump = node.sh(f"sbd -d {SBD} dump").stdout
    assert "Timeout (watchdog) : 15" in dump and "Timeout (msgwait)  : 30" in dump, dump
    assert "node1" in node.sh(f"sbd -d {SBD} list").stdout
    props = node.sh("crm_attribute --type crm_config --name stonith-enabled --query").stdout
    assert "value=true" in props
    assert node.sh("crm_verify --live-check --verbose", check=False).returncode == 0
    assert node.sh("systemctl is-active sbd corosync pacemaker").stdout.split() == ["active"] * 3
    again = sanctl(node, "/cluster", "init", "lab2", f"sbd={SBD}", f"address={lab.address('node1', 'cluster')}")
    assert again.returncode != 0 and "in a cluster already" in again.stderr
