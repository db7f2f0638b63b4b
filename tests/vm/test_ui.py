"""The admin web page as the appliance serves it (sanappliance-ui.service, HTTPS on 443), reached from the host
through a loopback port forward: it shows the real state made with `sanctl`, what it creates is seen by `sanctl`,
and its Sessions page lists an initiator logged in at that moment (libiscsi in the lab's network namespace)."""

import html
import http.cookiejar
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sanappliance.lab import Disk, Forward, LabSpec, NodeSpec, default_networks

from .conftest import start_lab, stop_lab

PASSWORD = "vm-test-ui-password-1"
TARGET = "iqn.2026-11.org.sanappliance:web"
HOST = "iqn.1994-05.com.example:webhost"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", disks=(Disk("data1", "2G"),), networks=("storage",),
                                   forwards=(Forward(443),)),), networks=default_networks("storage"))
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


class Browser:
    """A cookie-keeping HTTPS client that posts forms with the page's CSRF token."""

    def __init__(self, port: int, tls: ssl.SSLContext) -> None:
        self.base = f"https://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls),
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=120) as response:
            page = response.read().decode()
        found = CSRF.search(page)
        self.token = html.unescape(found.group(1)) if found else self.token
        return page

    def post(self, path: str, **fields: str) -> tuple[int, str]:
        data = urllib.parse.urlencode({"csrf_token": self.token, **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=300) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def web(lab, tmp_path_factory):
    node = lab.node("node1")
    node.run(["/usr/bin/python3", "-m", "sanappliance.targetd", "set-password"], input=PASSWORD + "\n", check=True)
    node.run(["/usr/bin/systemctl", "restart", "sanappliance-ui.service"], check=True)
    cert = tmp_path_factory.mktemp("tls") / "appliance.crt"
    cert.write_text(node.run(["/bin/cat", "/etc/sanappliance/tls/targetd.crt"], check=True).stdout)
    tls = ssl.create_default_context(cafile=str(cert))
    tls.check_hostname = False  # the certificate names the node, the forward is 127.0.0.1; the chain is verified
    browser = Browser(lab.forward("node1", 443), tls)
    deadline = time.monotonic() + 90
    while True:
        try:
            browser.get("/login")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    for command in (("/pools", "create", "p1", "/dev/disk/by-id/virtio-data1"),
                    ("/volumes", "create", "shellvol", "16M", "pool=p1"),
                    ("/iscsi", "create", TARGET),
                    (f"/iscsi/{TARGET}/tpg1/luns", "create", "shellvol"),
                    (f"/iscsi/{TARGET}/tpg1/acls", "create", HOST)):
        node.run(["/usr/bin/sanctl", *command], check=True, timeout=300)
    return browser


def test_wrong_password_is_refused_then_login_works(web):
    status, page = web.post("/login", user="admin", password="not-it")
    assert status == 401 or "Log in" in page
    web.get("/login")
    status, page = web.post("/login", user="admin", password=PASSWORD)
    assert status == 200 and "Log out" in page, page[:500]


def test_the_page_shows_what_sanctl_made(web):
    storage = web.get("/storage")
    assert "shellvol" in storage and TARGET in storage and "p1" in storage
    target = web.get(f"/storage/targets/{urllib.parse.quote(TARGET)}")
    assert HOST in target and "shellvol" in target


def test_sanctl_sees_what_the_page_made(lab, web):
    web.get("/storage")
    status, page = web.post("/storage/volumes", name="webvol", size="8M", pool="p1", kind="")
    assert status == 200 and "Created volume webvol." in page, page[:800]
    listing = lab.node("node1").run(["/usr/bin/sanctl", "/volumes", "ls"], check=True).stdout
    assert "webvol" in listing
    web.get("/storage")
    status, page = web.post("/storage/volumes", name="toobig", size="50G", pool="p1", kind="")
    assert status == 400 and "toobig" not in lab.node("node1").run(["/usr/bin/sanctl", "/volumes", "ls"]).stdout


def test_sessions_page_lists_a_logged_in_initiator(lab, web):
    portal = lab.address("node1", "storage")
    opts = f"driver=iscsi,transport=tcp,portal={portal}:3260,target={TARGET},lun=0,initiator-name={HOST}"
    argv = ["ip", "netns", "exec", lab.netns.name, "/usr/bin/qemu-io", "--image-opts", opts, "-c", "sleep 60000"]
    initiator = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            page = web.get("/sessions")
            if HOST in page:
                break
            assert initiator.poll() is None, initiator.communicate()
            assert time.monotonic() < deadline, page[-1500:]
            time.sleep(2)
        assert TARGET in page
    finally:
        initiator.kill()
        initiator.wait()
