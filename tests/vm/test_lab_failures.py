"""Each way a lab can fail gives a clear error, keeps the logs and leaves no qemu process or namespace behind."""

import os
import socket
from pathlib import Path

import pytest

from sanappliance.lab import Forward, Images, Lab, LabError, LabSpec, NodeSpec, default_networks

from .conftest import RUNS


def qemu_processes(workdir: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "qemu-system" in cmdline and str(workdir) in cmdline:
                found.append(int(pid))
    return found


def namespaces() -> set[str]:
    """The labs' network namespaces on the host. A test looks for its own lab's only: `make test` runs other labs
    beside it."""
    return {p.name for p in Path("/run/netns").glob("sanlab-*")} if Path("/run/netns").is_dir() else set()


def test_missing_image(tmp_path, images):
    lab = Lab(LabSpec(nodes=(NodeSpec("node1"),)), Images.from_build_dir(tmp_path / "nothing"), tmp_path / "w")
    with pytest.raises(LabError) as err:
        lab.start()
    assert err.value.field == "image" and "make image" in str(err.value)
    assert qemu_processes(tmp_path) == []


def test_port_in_use(tmp_path, images):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        spec = LabSpec(nodes=(NodeSpec("node1", forwards=(Forward(3260, port),), networks=("cluster",)),),
                       networks=default_networks("cluster"))
        lab = Lab(spec, images, tmp_path / "w")
        with pytest.raises(LabError) as err:
            lab.start()
    assert err.value.field == "forwards.host_port" and str(port) in str(err.value)
    assert qemu_processes(tmp_path) == [] and lab.netns.name not in namespaces()


def test_node_that_never_comes_up(images):
    workdir = RUNS / "never-up"
    # The guest boots, but its command channel never answers: from the lab's side the node never comes up.
    spec = LabSpec(nodes=(NodeSpec("stuck", extra_cmdline="systemd.mask=qemu-guest-agent.service",
                                   networks=("cluster",)),),
                   networks=default_networks("cluster"), ready_timeout=40)
    lab = Lab(spec, images, workdir)
    with pytest.raises(LabError) as err:
        lab.start()
    assert "stuck did not come up within 40 s" in str(err.value)
    console = workdir / "stuck" / "console.log"
    assert str(console) in str(err.value)
    assert "Linux version" in console.read_text(errors="replace")  # the log is kept
    assert qemu_processes(workdir) == [] and lab.netns.name not in namespaces()


def test_node_that_dies_while_booting(images):
    workdir = RUNS / "dies"
    spec = LabSpec(nodes=(NodeSpec("dying", extra_cmdline="rdinit=/nonexistent"),), ready_timeout=120)
    lab = Lab(spec, images, workdir)
    with pytest.raises(LabError) as err:
        lab.start()
    assert "qemu of dying exited" in str(err.value) and "before it was ready" in str(err.value)
    assert qemu_processes(workdir) == []
    assert "Kernel panic" in (workdir / "dying" / "console.log").read_text(errors="replace")


def test_the_digest_of_a_failed_test_shows_a_live_node_s_errors_and_a_dead_node_s_console(images):
    """What a failed VM test's report carries (conftest's "lab digest"), read from a real node: its load and memory,
    an agent's ERROR line from the journal, nothing that holds a password; once qemu is gone, its exit code and
    the end of its console."""
    lab = Lab(LabSpec(nodes=(NodeSpec("node1"),)), images, RUNS / "digest")
    try:
        lab.start()
        node = lab.node("node1")
        node.sh("logger -t LVM-activate 'ERROR: digest probe'; logger -t targetd 'error: password=hunter2'")
        live = lab.digest(120)
        assert "MiB available" in live and "LVM-activate[" in live and "ERROR: digest probe" in live, live
        assert "hunter2" not in live and "password" not in live.lower(), live
        node.proc.kill()
        node.proc.wait()
        gone = lab.digest(120)
        assert "node1: not running (qemu exit code -9)" in gone and "login:" in gone, gone
        assert "password" not in gone.lower(), gone  # the first boot's API password is on that console
        assert "password" in (lab.workdir / "node1" / "console.log").read_text(errors="replace")
    finally:
        lab.close()
    assert qemu_processes(lab.workdir) == []
