"""`make lab`'s program: boots the single-node default, prints how to reach it, answers `exec`, stops on Ctrl-C."""

import signal
import subprocess
import sys
import time

from sanappliance import __version__

from .conftest import BUILD, RUNS
from .test_lab_failures import qemu_processes


def lab_cli(*args):
    return [sys.executable, "-m", "sanappliance.lab", "--build-dir", str(BUILD), "--workdir", str(RUNS / "cli"), *args]


def test_up_exec_and_ctrl_c(images):
    proc = subprocess.Popen(lab_cli("up"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            output.append(line)
            if "Ctrl-C stops the lab" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "Ctrl-C stops the lab" in text, text
        assert "guest port 3260  -> 127.0.0.1:" in text and "console node1" in text
        done = subprocess.run(lab_cli("exec", "node1", "--", "sanctl", "--version"), capture_output=True, text=True,
                              timeout=120)
        assert (done.returncode, done.stdout.strip()) == (0, f"sanctl {__version__}")
        failed = subprocess.run(lab_cli("exec", "node1", "--", "sh", "-c", "echo no >&2; exit 4"),
                                capture_output=True, text=True, timeout=120)
        assert (failed.returncode, failed.stderr) == (4, "no\n")
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
    assert "stopping the lab" in rest
    assert qemu_processes(RUNS / "cli") == []  # the single-node default has no network namespace
    assert not list((RUNS / "cli").glob("**/*.qcow2"))  # disks removed, logs kept
    assert (RUNS / "cli" / "node1" / "console.log").exists()
