"""The web page in a real browser: Debian's headless Chromium (driven by Selenium through chromium-driver) against the
app served over HTTPS by werkzeug on 127.0.0.1, over stand-ins of the live system. A wrong password is refused; a
pool, volume, target, LUN and ACL are made through the forms, seen listed, and deleted through the confirm pages; the
dashboard updates itself (a replicated pool's sync progress and split brain too); logging out ends the session.
Screenshots of each page: build/reports/ui-screenshots/."""

from __future__ import annotations

import base64
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sanappliance.apply.tls import make_self_signed
from sanappliance.model.apiconfig import hash_password
from sanappliance.service import iscsi, storage
from sanappliance.service.env import Env
from sanappliance.targetd.auth import Authenticator
from sanappliance.targetd.server import make
from sanappliance.ui.app import create_app

from ..unit.drbd_samples import config as replicated_config
from ..unit.fakes import FakeSystem, MemoryStore
from ..unit.test_drbd_status import STANDALONE, SYNCING
from ..unit.test_pool_state import SYNCING_42, DrbdSystem
from ..unit.test_ui_clusterhost import MemoryCluster

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "reports" / "ui-screenshots"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
USER, PASSWORD = "admin", "correct-horse-battery"
DISK1, DISK2 = "/dev/disk/by-id/virtio-data1", "/dev/disk/by-id/virtio-data2"
T = "iqn.2026-11.org.example:storage"
I1 = "iqn.1994-05.com.redhat:host1"
SECRET = "chap-secret-in-browser"
WAIT = 15.0

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("Debian's chromium and chromium-driver are not installed (sh images/host-deps.sh installs them)",
                allow_module_level=True)


class FakeDisk:
    def __init__(self, path: str) -> None:
        self.path, self.size, self.model, self.serial, self.in_use = path, 4 * 2**30, "QEMU HARDDISK", path[-5:], ""


class Site:
    def __init__(self, tmp: Path, cluster: MemoryCluster | None = None, system: FakeSystem | None = None,
                 address: str = "127.0.0.1") -> None:
        self.store, self.system, self.cluster = MemoryStore(), system or FakeSystem(), cluster
        self.system.disks = lambda config: [FakeDisk(DISK1), FakeDisk(DISK2)]
        cert, key = tmp / "ui.crt", tmp / "ui.key"
        make_self_signed(cert, key, "localhost")
        app = create_app(self.env_factory, Authenticator(USER, hash_password(PASSWORD)),  # the real 1 s delay
                         secret_key=b"s" * 32, hostname="node1", poll_seconds=1,
                         cluster_host=None if cluster is None else lambda: cluster)
        self.server = make(app, address, 0, (cert, key))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        # cookies do not tell ports apart: the cluster's site is reached by another name, so each keeps its login
        self.base = f"https://{'localhost' if cluster is not None else address}:{self.server.port}"

    def env_factory(self, dry_run: bool) -> Env:
        return Env(self.store, self.system, dry_run)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    served = Site(tmp_path_factory.mktemp("ui-tls"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def cluster_site(tmp_path_factory) -> Iterator[Site]:
    served = Site(tmp_path_factory.mktemp("ui-cluster-tls"), MemoryCluster())
    yield served
    served.stop()


@pytest.fixture(scope="module")
def pools_site(tmp_path_factory) -> Iterator[Site]:
    """A node with a local and a replicated pool whose DRBD resyncs (a stand-in /proc/drbd: the real DRBD runs in
    the VM tests), on its own address so that its login is its own too."""
    served = Site(tmp_path_factory.mktemp("ui-pools-tls"), system=DrbdSystem(SYNCING), address="127.0.0.2")
    served.store.config = replicated_config()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--window-size=1366,900", "--ignore-certificate-errors", "--password-store=basic", "--lang=en-US",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"credentials_enable_service": False,
                                              "profile.password_manager_enabled": False,
                                              "profile.password_manager_leak_detection": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    yield driver
    driver.quit()


class Page:
    """The browser on the site: open pages, fill forms, wait, take screenshots."""

    def __init__(self, driver: Any, site: Site) -> None:
        self.driver, self.site = driver, site
        self.shots = len(list(SHOTS.glob("*.png")))

    def open(self, path: str) -> None:
        self.driver.get(self.site.base + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.site.base)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def choose(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find(css)).select_by_value(value)

    def submit(self, form: str) -> None:
        """Press the form's submit button and wait for the next page."""
        button = self.find(f"{form} button[type=submit]")
        button.click()
        self.wait(lambda: self._stale(button), f"the page after submitting {form}")

    def click(self, css: str) -> None:
        link = self.find(css)
        link.click()
        self.wait(lambda: self._stale(link), f"the page after clicking {css}")

    def _stale(self, element: Any) -> bool:
        """Whether the page the element was on is gone (and the next one loaded)."""
        from selenium.common.exceptions import WebDriverException

        try:
            element.is_enabled()
            return False
        except WebDriverException:  # stale, or (mid-navigation) "node does not belong to the document"
            pass
        try:
            return self.driver.execute_script("return document.readyState") == "complete"
        except WebDriverException:
            return False

    def wait(self, condition, what: str, timeout: float = WAIT) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda _: condition(), f"waited for {what}")

    def text(self) -> str:
        return self.find("body").text

    def shot(self, name: str) -> Path:
        """A screenshot of the whole page, beyond the window's height (Chromium's DevTools protocol)."""
        self.shots += 1
        path = SHOTS / f"{self.shots:02d}-{name}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}
        data = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                                      "clip": clip})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def problems(self) -> list[str]:
        """What the browser's console complained about besides the expected refusals (CSP violations, script
        errors)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE" and
                "Failed to load resource: the server responded with a status of 4" not in e["message"]]


@pytest.fixture
def page(browser, site) -> Page:
    return Page(browser, site)


def log_in(page: Page, password: str = PASSWORD) -> None:
    page.open("/login")
    page.type("#login-user", USER)
    page.type("#login-password", password)
    page.submit("#login")


def test_wrong_password_is_refused(page):
    page.open("/storage")
    assert page.path == "/login?next=/storage"
    page.shot("login")
    start = time.monotonic()
    log_in(page, "not-the-password")
    assert time.monotonic() - start >= 1.0
    assert page.find("#login-password-error").text == "Wrong user name or password."
    page.shot("login-refused")
    page.open("/")
    assert page.path.startswith("/login")
    assert page.problems() == []


def test_build_and_tear_down_through_the_forms(page, site):
    log_in(page, PASSWORD)
    assert page.path == "/"
    assert "Single node: no cluster formed." in page.text()
    page.shot("dashboard-empty")

    page.click("nav a[href='/storage']")
    page.type("#pool-create-name", "p1")
    page.find(f"#pool-create input[name=disks][value='{DISK1}']").click()
    page.submit("#pool-create")
    assert "Created pool p1." in page.text()

    page.type("#volume-create-name", "v1")
    page.type("#volume-create-size", "1G")
    page.choose("#volume-create-pool", "p1")
    page.submit("#volume-create")
    assert "Created volume v1." in page.text()

    page.type("#volume-create-name", "v2")
    page.type("#volume-create-size", "10G")  # more than the pool holds: refused next to the size
    page.choose("#volume-create-pool", "p1")
    page.submit("#volume-create")
    assert "the pool's volumes need 11GiB but it holds 4GiB" in page.find("#volume-create-size-error").text
    assert [v.name for v in site.store.config.volumes] == ["v1"]
    page.shot("storage-refused-volume")

    page.type("#target-create-iqn", T)
    page.submit("#target-create")
    assert page.path == f"/storage/targets/{T}"
    assert f"Created target {T}." in page.text()

    page.choose("#lun-create-1-volume", "v1")
    page.submit("#lun-create-1")
    assert "Exported volume v1 as a LUN of TPG 1." in page.text()

    page.type("#acl-create-1-initiator", I1)
    page.type("#acl-create-1-userid", "host1")
    page.type("#acl-create-1-password", SECRET)
    page.submit("#acl-create-1")
    assert f"Created ACL {I1}." in page.text()

    body = page.text()
    for fragment in ("lun0", "v1 (1GiB lv)", I1, "0→lun0", "user host1, secret (set)", "0.0.0.0", "3260",
                     "enabled, CHAP, 1 LUN(s), 1 ACL(s)"):
        assert fragment in body, fragment
    assert SECRET not in page.driver.page_source
    page.shot("target")

    page.click("nav a[href='/storage']")
    body = page.text()
    for fragment in ("p1", "1 volume(s), 1GiB allocated, on virtio-data1", "1GiB lv in p1, exported 1x", T,
                     "tpg1: enabled, CHAP, 1 LUN(s), 1 ACL(s)"):
        assert fragment in body, fragment
    page.shot("storage")

    page.click("nav a[href='/']")
    assert page.find("[data-key=luns]").text == "1" and page.find("[data-key=acls]").text == "1"
    page.shot("dashboard")
    page.click("nav a[href='/sessions']")
    assert "Not available" in page.text()
    page.shot("sessions")
    page.click("nav a[href='/cluster']")
    assert "No cluster formed" in page.text()
    page.shot("cluster")

    # an exported volume cannot go: the confirm page says why, next to it, and offers no button
    page.open("/storage")
    page.click("a[href='/confirm/volume-delete?name=v1']")
    assert "the volume is still exported" in page.find("#confirm-name-error").text
    assert page.all("#confirm-button") == []
    page.shot("confirm-refused")

    # tear down through the confirm pages, each showing its plan first
    page.open(f"/storage/targets/{T}")
    page.click("a[href*='/confirm/acl-delete']")
    assert page.find("h1").text == f"Delete the ACL of {I1}?"
    assert f"delete ACL {I1}" in page.find("#plan").text
    page.shot("confirm-acl")
    page.click("#confirm-button")
    assert f"Deleted the ACL of {I1}." in page.text()

    page.click("a[href*='/confirm/lun-delete']")
    page.shot("confirm-lun")
    page.click("#confirm-button")
    assert "Deleted LUN 0" in page.text()

    page.click("a[href*='/confirm/target-delete']")
    assert f"delete target {T}" in page.find("#plan").text
    page.click("#confirm-button")
    assert page.path == "/storage" and f"Deleted target {T}." in page.text()

    page.click("a[href='/confirm/volume-delete?name=v1']")
    assert "san-p1/v1" in page.find("#plan").text
    page.shot("confirm-volume")
    page.click("#confirm-button")
    assert "Deleted volume v1." in page.text()

    page.click("a[href='/confirm/pool-delete?name=p1']")
    page.click("#confirm-button")
    assert "Deleted pool p1." in page.text()
    assert "No pool yet." in page.text() and "No volume yet." in page.text() and "No target yet." in page.text()
    page.shot("storage-empty")

    config = site.store.config
    assert not config.pools and not config.volumes and not config.targets
    assert not site.system.lio.targets and not site.system.lio.storage and not site.system.lvm.vgs
    assert page.problems() == []


def test_dashboard_updates_itself(page, site):
    page.open("/")
    assert page.path == "/"
    assert page.find("[data-key=volumes]").text == "0"
    assert not page.find("[data-reload]").is_displayed()
    env = site.env_factory(False)
    storage.create_volume(env, "scratch", "8M", kind="ramdisk")  # a change from elsewhere (sanctl, the API)
    page.wait(lambda: page.find("[data-key=volumes]").text == "1", "the volume count to update")
    iscsi.create_target(env, T)
    page.wait(lambda: page.find("[data-key=targets]").text == "1", "the target count to update")
    page.wait(lambda: page.find("[data-reload]").is_displayed(), "the offer to reload (a target row came)")
    assert "updates itself" in page.text().lower() and "last update at" in page.text()
    page.shot("dashboard-updated")
    assert page.problems() == []


def test_cluster_page_actions(browser, cluster_site):
    page = Page(browser, cluster_site)
    host = cluster_site.cluster
    log_in(page)
    assert "Fencing is not proven on node1, node2" in page.text()
    assert page.find("[data-key=fencing_test]").text.startswith("NOT proven on node1, node2")
    page.shot("dashboard-cluster-untested")
    page.click("nav a[href='/cluster']")
    body = page.text()
    for fragment in ("node1", "node2", "this node", "DC", "fence-sbd", "san-ip-p1", "monitor of san-ip-p1 on node2",
                     "node2 reboot by node1: success", "Fencing is not proven on node1, node2"):
        assert fragment in body, fragment
    assert page.all("a[href='/confirm/node-fence?node=node1']") == []  # the node serving the page
    page.shot("cluster-untested")

    page.submit("#fencing-test")
    assert page.path == "/cluster#fencing" and "Fencing self-test passed" in page.text()
    assert "PASS sbd on node2 answers" in page.text() and "Fencing is not proven" not in page.text()
    page.shot("cluster-fencing-test")

    page.click("a[href='/confirm/node-standby?node=node2']")
    assert page.find("h1").text == "Put node node2 in standby?"
    assert "set node node2 standby (node attribute standby)" in page.find("#plan").text
    page.shot("confirm-standby")
    page.click("#confirm-button")
    assert page.path == "/cluster" and "Node node2 is in standby." in page.text()
    assert page.find("#node-node2").text.split()[1] == "standby"
    page.submit("#online-node2")
    assert "Node node2 is online" in page.text()

    page.choose("#move-san-target-p1-node", "node2")
    page.submit("#move-san-target-p1")
    assert "prefer node2 for san-target-p1" in page.find("#plan").text
    page.shot("confirm-move")
    page.click("#confirm-button")
    assert "Resource san-target-p1 moves to node2" in page.text()
    assert "node2" in page.find("#resource-san-target-p1").text

    page.submit("#clear-san-ip-p1")  # nothing to clear: refused next to the row, nothing changed
    assert "no move or ban is in place" in page.find("#clear-san-ip-p1-resource-error").text
    page.open("/cluster")
    page.click("a[href='/confirm/node-fence?node=node2']")
    assert "fence node node2 (reboot) through fence-sbd" in page.find("#plan").text
    page.shot("confirm-fence")
    page.click("#confirm-button")
    assert "Node node2 fenced." in page.text() and host.fenced == [("node2", "reboot")]
    page.submit("#cleanup-san-ip-p1")
    assert "Cleaned up san-ip-p1 on all nodes" in page.text()
    page.shot("cluster")
    page.click("nav a[href='/']")
    page.shot("dashboard-cluster")
    assert page.problems() == []


def test_dashboard_shows_the_pools_replication_and_follows_it(browser, pools_site):
    page = Page(browser, pools_site)
    log_in(page)
    assert page.path == "/"
    row = page.find("#pool-p1")
    for fragment in ("p1", "replicated", "Primary", "peer Secondary", "SyncSource", "UpToDate / Inconsistent",
                     "23.8% ETA 0:29", "syncing", "resyncing 23.8% (this node is the source"):
        assert fragment in row.text, fragment
    bar = page.find("#pool-p1 progress")
    assert bar.is_displayed() and float(bar.get_attribute("value")) == 23.8
    assert "local disks, not replicated" in page.find("#pool-local").text
    assert page.find("#pool-p1").get_attribute("data-state") == ""
    page.shot("dashboard-pools-syncing")

    pools_site.system.text = SYNCING_42  # the resync goes on: the bar and the ETA follow, no reload
    page.wait(lambda: page.find("[data-key='pool:p1:sync']").text == "42.1% ETA 0:35", "the sync progress")
    page.wait(lambda: float(page.find("#pool-p1 progress").get_attribute("value")) == 42.1, "the progress bar")

    pools_site.system.text = STANDALONE  # a split brain: the warning in words, the warning style, the command
    page.wait(lambda: page.find("[data-key='pool:p1:health']").text == "SPLIT BRAIN", "the split-brain verdict")
    page.wait(lambda: not page.find("#pool-p1 progress").is_displayed(), "the sync bar to go")
    assert page.find("#pool-p1").get_attribute("data-state") == "warning"
    assert "sanctl /pools/p1 recover victim=NODE" in page.find("#pool-p1").text
    assert page.find("[data-key='pool:p1:connection']").text == "StandAlone"
    assert not page.find("[data-reload]").is_displayed()  # updated in place: nothing to reload
    page.shot("dashboard-pools-split-brain")
    assert page.problems() == []


def test_log_out(page):
    page.open("/")
    page.click("#logout")
    assert page.path == "/login" and "Logged out." in page.text()
    page.shot("logged-out")
    page.open("/storage")
    assert page.path.startswith("/login")
