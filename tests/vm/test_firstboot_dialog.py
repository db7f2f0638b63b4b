"""The first-boot dialog on the node's serial console, typed as an admin would (a lab node asks for it with
sanappliance.firstboot=dialog on the kernel command line; lab nodes skip it otherwise)."""

import json

import pytest

from sanappliance.lab import LabSpec, NodeSpec

from .conftest import start_lab, stop_lab
from .test_sanctl_interactive import Console

PASSWORD = "dialog-password-1"


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", extra_cmdline="sanappliance.firstboot=dialog"),))
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


def test_the_dialog_sets_the_appliance_up(lab):
    node = lab.node("node1")
    con = Console(node.paths.console_sock)
    try:
        # the dialog may have asked before this connection: its console log has everything
        lab.wait_until(lambda: b"Host name [node1]: " in node.paths.console_log.read_bytes(), 120,
                       "the dialog's first question")
        for prompt, answer in (("", "dlg1"), ("8 characters or more): ", PASSWORD), ("Again: ", PASSWORD),
                               ("Time zone", ""), ("NTP servers", ""),
                               ("Management interface", ""), ("DHCP on it (yes/no) [yes]: ", ""),
                               ("Apply? [Y/n]: ", "")):
            if prompt:
                con.expect(prompt)
            con.type(answer + "\r")
        con.expect("dlg1: configured (console dialog).", timeout=120)
        con.expect("dlg1 - sanappliance", timeout=60)  # the banner before the login
        con.expect("root@dlg1", timeout=60)
    finally:
        con.sock.close()
    assert node.sh("hostname").stdout.strip() == "dlg1"
    assert node.sh("cat /etc/sanappliance/firstboot.done").stdout.strip() == "console dialog"
    spec = json.loads(node.sh("cat /etc/sanappliance/network.json").stdout)
    assert spec["hostname"] == "dlg1" and spec["links"][0]["dhcp"] is True
    check = ("import json; from sanappliance.model.apiconfig import verify_password; "
             "h = json.load(open('/etc/sanappliance/targetd.json'))['password_hash']; "
             f"print(verify_password({PASSWORD!r}, h))")
    assert node.run(["/usr/bin/python3", "-c", check], check=True).stdout.strip() == "True"
    # the daemons were restarted with the new hash: the API is up again
    node.wait_for("systemctl is-active sanappliance-targetd.service", timeout=120)
