"""service.initiators: the settings sanctl and the API print for a clustered pool's initiators."""

import pytest

from sanappliance.errors import SanError
from sanappliance.initiator import settings
from sanappliance.lab.guest_stream import GuestStream, parse_log
from sanappliance.model.config import Config, FloatingIp, Pool, SharedDisk, SharedStorage
from sanappliance.service import initiators
from sanappliance.service.env import Env

from .cluster_samples import two_nodes
from .fakes import FakeSystem, MemoryStore

WWID = "35000c50015ea71ac"
SHARED = Pool("s1", (), shared=SharedStorage((SharedDisk(WWID, "san-mp-c50015ea71ac"),)),
              floating_ips=(FloatingIp("10.231.1.101/24"), FloatingIp("10.231.2.101/24")))


class Host:
    def __init__(self, spec):
        self.spec = spec

    def read_spec(self):
        return self.spec


def env(*pools):
    store = MemoryStore()
    store.save(Config(pools=pools), store.load().generation)
    return Env(store, FakeSystem(), False)


def test_linux_settings_are_the_clusters_own_numbers_with_one_binding_per_portal():
    spec = two_nodes(profile="lab")
    text = initiators.for_pool(env(SHARED), Host(spec), "s1", "linux", ["eth1", "eth2"])
    derived = settings.derive(spec.timing())
    assert f"node.session.timeo.replacement_timeout = {derived.replacement_timeout}" in text
    assert f"no_path_retry {derived.no_path_retry}" in text
    assert "-p 10.231.1.101:3260 -I san0" in text and "-p 10.231.2.101:3260 -I san1" in text
    assert "iface.net_ifacename -v eth2" in text
    assert "# the binding" not in initiators.for_pool(env(SHARED), Host(spec), "s1")


def test_esxi_and_windows_and_refusals():
    spec = two_nodes()
    assert "esxcli" in initiators.for_pool(env(SHARED), Host(spec), "s1", "esxi")
    assert "Set-MPIOSetting" in initiators.for_pool(env(SHARED), Host(spec), "s1", "windows")
    for args, field in ((("s1", "solaris"), "os"), (("nope",), "pool"), (("local",), "pool")):
        with pytest.raises(SanError) as err:
            initiators.for_pool(env(SHARED, Pool("local", ("/dev/disk/by-id/virtio-a",))), Host(spec), *args)
        assert field in str(err.value.field), (args, err.value.field)
    with pytest.raises(SanError) as err:
        initiators.for_pool(env(SHARED), Host(None), "s1")
    assert err.value.field == "cluster"
    with pytest.raises(SanError) as err:  # one interface per portal
        initiators.for_pool(env(SHARED), Host(spec), "s1", "linux", ["eth1"])
    assert err.value.field == "nics"


def test_the_guest_streams_log_and_what_the_disk_may_hold():
    writes = parse_log("ok 0 1.000 1.010\nok 1 1.060 1.070\nerr 2 1.120 3.000 5\nok 3 3.050 9.000\nnoise\n")
    assert [(w.n, w.acked) for w in writes] == [(0, True), (1, True), (2, False), (3, True)]
    stream = GuestStream(node=None, device="/dev/mapper/x", blocks=2, writes=writes)
    assert stream.failed() == ["write 2: errno 5"]
    assert stream.longest_gap() == pytest.approx(7.93)
    # block 0: write 2 failed after write 0 was acknowledged: either byte; block 1: write 3 (acked) only
    assert stream.expected() == {0: {1, 3}, 1: {4}}
