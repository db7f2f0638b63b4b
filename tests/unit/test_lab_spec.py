import pytest

from sanappliance.lab.spec import (
    Boot,
    Disk,
    Forward,
    Images,
    LabError,
    LabSpec,
    Network,
    NodeSpec,
    check,
    default_networks,
    validate,
)


def fields(spec):
    return {p.field for p in validate(spec)}


def test_valid_two_node_lab():
    nets = default_networks("cluster", "repl")
    spec = LabSpec(nodes=(NodeSpec("node1", networks=("cluster", "repl")), NodeSpec("node2", networks=("cluster",))),
                   networks=nets, shared_disks=(Disk("sbd0", "64M"),))
    assert validate(spec) == []
    assert nets[0].address(2) == "10.231.1.12/24" and nets[0].bridge_address() == "10.231.1.1/24"


@pytest.mark.parametrize("node, field", [
    (NodeSpec("Node_1"), "nodes[0].name"),
    (NodeSpec("n", memory_mib=100), "nodes[0].memory_mib"),
    (NodeSpec("n", vcpus=99), "nodes[0].vcpus"),
    (NodeSpec("n", networks=("nope",)), "nodes[0].networks"),
    (NodeSpec("n", forwards=(Forward(0),)), "nodes[0].forwards.guest_port"),
    (NodeSpec("n", forwards=(Forward(22, 80),)), "nodes[0].forwards.host_port"),
    (NodeSpec("n", disks=(Disk("a b"),)), "nodes[0].disks.serial"),
    (NodeSpec("n", disks=(Disk("d", "12T"),)), "nodes[0].disks.size"),
    (NodeSpec("n", disks=(Disk("d"), Disk("d"))), "nodes[0].disks"),
    (NodeSpec("n", attach=("/nonexistent.img",)), "nodes[0].attach"),
])
def test_each_problem_names_its_field(node, field):
    assert field in fields(LabSpec(nodes=(node,)))


def test_lab_level_problems():
    assert "nodes" in fields(LabSpec(nodes=()))
    assert "nodes" in fields(LabSpec(nodes=(NodeSpec("a"), NodeSpec("a"))))
    assert "networks[0].subnet" in fields(LabSpec(nodes=(NodeSpec("a"),), networks=(Network("x", "10.1.2.300/24"),)))
    assert "shared_disks.serial" in fields(LabSpec(nodes=(NodeSpec("a"),), shared_disks=(Disk("sanroot"),)))


def test_check_raises_with_all_problems():
    with pytest.raises(LabError) as err:
        check(LabSpec(nodes=(NodeSpec("BAD", memory_mib=1),)))
    assert "nodes[0].name" in str(err.value) and "nodes[0].memory_mib" in str(err.value)


def test_missing_image_is_a_clear_error(tmp_path):
    images = Images.from_build_dir(tmp_path)
    with pytest.raises(LabError) as err:
        images.require(Boot.LAB)
    assert "make image" in str(err.value) and err.value.field == "image"
    with pytest.raises(LabError) as err:
        images.require(Boot.ISO)
    assert "make iso" in str(err.value)


def test_disk_sizes():
    assert Disk("d", "512M").size_bytes == 512 * 2**20
    assert Disk("d", "2G").size_bytes == 2 * 2**30


def test_san_disk_problems_name_their_field():
    from sanappliance.lab.spec import SanDisk

    good = SanDisk("shelf0", "5000c50015ea71ac")
    assert validate(LabSpec(nodes=(NodeSpec("a"),), san_disks=(good,))) == []
    bad = LabSpec(nodes=(NodeSpec("a"),), san_disks=(SanDisk("shelf 0", "6000c50015ea71ac", "1T", paths=9),
                                                     SanDisk("s2", "6000c50015ea71ac")))
    assert {"san_disks[0].serial", "san_disks[0].wwn", "san_disks[0].size", "san_disks[0].paths",
            "san_disks[1].wwn", "san_disks"} <= fields(bad)
    clash = LabSpec(nodes=(NodeSpec("a", disks=(Disk("shelf0"),)),), san_disks=(good,))
    assert "nodes[0].disks" in fields(clash)
