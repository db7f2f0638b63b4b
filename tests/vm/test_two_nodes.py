"""Two nodes with a shared disk and private links, as every cluster test will use them."""

import pytest

from sanappliance.lab import Disk, LabSpec, NodeSpec, default_networks
from sanappliance.lab.qemu import mac

from .conftest import start_lab, stop_lab


@pytest.fixture(scope="module")
def lab(request, images):
    nets = default_networks("cluster", "repl")
    names = tuple(n.name for n in nets)
    spec = LabSpec(nodes=(NodeSpec("node1", networks=names), NodeSpec("node2", networks=names)), networks=nets,
                   shared_disks=(Disk("shared0", "64M"),))
    lab = start_lab(request, images, spec)
    print(f"\ntwo nodes ready in {lab.boot_seconds:.1f} s")
    yield lab
    stop_lab(request, lab)


def pings(lab, src, dst, network, count=1):
    return lab.node(src).run(["/usr/bin/ping", "-c", str(count), "-W", "2", lab.address(dst, network)]).ok


def operstate(lab, node, network):
    wiring = lab.node(node).wiring
    nic = [net for net, _tap in wiring.taps].index(network) + 1
    script = f"for i in /sys/class/net/*; do [ $(cat $i/address) = {mac(wiring.index, nic)} ] && cat $i/operstate; done"
    return lab.node(node).sh(script, check=False).stdout.strip()


def test_both_see_the_shared_disk_by_the_same_name(lab):
    disk = "/dev/disk/by-id/virtio-shared0"
    lab.node("node1").sh(f"printf 'written-by-node1' | dd of={disk} bs=512 conv=sync oflag=direct status=none")
    read = lab.node("node2").sh(f"dd if={disk} bs=512 count=1 iflag=direct status=none | tr -d '\\0'")
    assert read.stdout == "written-by-node1"


def test_nodes_reach_each_other_on_every_network(lab):
    for network in ("cluster", "repl"):
        lab.wait_until(lambda n=network: pings(lab, "node1", "node2", n), 30, f"node1 reaching node2 on {network}")
        assert pings(lab, "node2", "node1", network), network


def test_host_side_traffic_stays_in_the_lab_namespace(lab):
    result = lab.netns.exec(["/usr/bin/ping", "-c", "1", "-W", "2", lab.address("node1", "cluster")], check=False)
    assert result.returncode == 0, result.stderr


def test_cut_and_restore_a_link(lab):
    lab.cut("node1", "cluster")
    try:
        assert operstate(lab, "node1", "cluster") == "down"  # the guest sees the cable pulled
        assert not pings(lab, "node2", "node1", "cluster")
        assert pings(lab, "node2", "node1", "repl")  # only that link is cut
    finally:
        lab.restore("node1", "cluster")
    lab.wait_until(lambda: pings(lab, "node2", "node1", "cluster"), 30, "the cluster link back")
    assert operstate(lab, "node1", "cluster") == "up"


def test_hard_power_off_and_boot_again(lab):
    node2 = lab.node("node2")
    node2.kill()
    assert not node2.alive()
    assert lab.node("node1").alive()
    assert not pings(lab, "node1", "node2", "cluster")
    seconds = lab.restart("node2")
    print(f"\nnode2 booted again in {seconds:.1f} s")
    lab.node("node2").wait_for(f"ping -c1 -W2 {lab.address('node1', 'cluster')}", timeout=30)
