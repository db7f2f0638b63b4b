"""The web page's test harness (a Flask test client over the service layer with stand-ins, logged in or not) and the
tests of logging in and out: the admin account, the failed-login delay, session expiry, cookies and headers."""

from __future__ import annotations

import functools
import html
import re
import time
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sanappliance.model.apiconfig import hash_password
from sanappliance.service.env import Env
from sanappliance.targetd.auth import Authenticator
from sanappliance.ui.app import PUBLIC, create_app

from .fakes import FakeSystem, MemoryStore

USER, PASSWORD = "admin", "correct-horse-battery"
DISK1, DISK2 = "/dev/disk/by-id/virtio-data1", "/dev/disk/by-id/virtio-data2"
T = "iqn.2026-11.org.example:storage"
I1, I2 = "iqn.1994-05.com.redhat:host1", "iqn.1994-05.com.redhat:host2"
SECRETS = ("chap-secret-one-1", "chap-secret-two-2", "mutual-secret-3")
ERROR_RE = re.compile(r'<p class="error" id="(?P<id>[^"]+)-error"[^>]*>(?P<message>[^<]*)</p>')
FORM_ERROR_RE = re.compile(r'<p class="error form-error"[^>]*>(?P<message>[^<]*)</p>')


class FakeDisk:
    def __init__(self, path: str, size: int = 4 * 2**30, in_use: str = "") -> None:
        self.path, self.size, self.model, self.serial, self.in_use = path, size, "QEMU HARDDISK", path[-5:], in_use


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@functools.cache
def quick_auth() -> Authenticator:
    """One authenticator for the tests whose subject is not the delay (the scrypt hash is made once)."""
    return Authenticator(USER, hash_password(PASSWORD), delay=0.0)


@dataclass
class Ui:
    app: Flask
    client: FlaskClient
    store: MemoryStore
    system: FakeSystem
    clock: Clock
    pages: list[str] = field(default_factory=list)  # every page body seen (for the secrets check)

    def env(self, dry_run: bool = False) -> Env:
        return Env(self.store, self.system, dry_run)

    def login(self, user: str = USER, password: str = PASSWORD, next_page: str | None = None):
        self.get("/login")
        data = {"user": user, "password": password, "csrf_token": self.csrf()}
        if next_page is not None:
            data["next"] = next_page
        return self.client.post("/login", data=data)

    def csrf(self) -> str:
        with self.client.session_transaction() as session:
            return session.get("csrf", "")

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.pages.append(response.get_data(as_text=True))
        return response

    def post(self, url: str, data: dict | None = None, *, csrf: bool | str = True, follow: bool = False, **kwargs):
        data = dict(data or {})
        if csrf is True:
            data["csrf_token"] = self.csrf()
        elif csrf:
            data["csrf_token"] = csrf
        response = self.client.post(url, data=data, follow_redirects=follow, **kwargs)
        self.pages.append(response.get_data(as_text=True))
        return response


def make_ui(*, system: FakeSystem | None = None, auth: Authenticator | None = None, session_minutes: float = 30,
            session_max_hours: float = 12, cluster_host=None, login: bool = True) -> Ui:
    store, system = MemoryStore(), system or FakeSystem()
    system.disks = lambda config: [FakeDisk(DISK1), FakeDisk(DISK2)]
    clock = Clock()
    app = create_app(lambda dry: Env(store, system, dry), auth or quick_auth(), secret_key=b"k" * 32,
                     session_minutes=session_minutes, session_max_hours=session_max_hours, hostname="node1",
                     cluster_host=None if cluster_host is None else lambda: cluster_host, clock=clock)
    app.testing = True
    ui = Ui(app, app.test_client(), store, system, clock)
    if login:
        assert ui.login().status_code == 303
    return ui


def errors(page: str) -> dict[str, str]:
    """The errors shown next to fields: "<form id>-<field>" -> message; "" -> the form-level ones."""
    found = {m["id"]: html.unescape(m["message"]) for m in ERROR_RE.finditer(page)}
    form_level = [html.unescape(m["message"]) for m in FORM_ERROR_RE.finditer(page)]
    if form_level:
        found[""] = "; ".join(form_level)
    return found


def snapshot(ui: Ui) -> tuple:
    """What must not change when a request is refused: the saved state, the save count, the live system."""
    return ui.store.config, ui.store.saves, ui.system.lio, ui.system.lvm


def route_urls(app: Flask) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) of every route but the public ones, with sample values for its arguments."""
    sample = {"iqn": T, "tag": 1, "name": "v1", "what": "volume-delete", "node": "node2", "resource": "san-ip-p1"}
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC:
                continue
            url = url_for(rule.endpoint, **{a: sample[a] for a in rule.arguments})
            for method in sorted(rule.methods & {"GET", "POST"}):
                found.append((method, url, rule.endpoint))
    return found


@pytest.fixture
def ui() -> Ui:
    return make_ui()


@pytest.fixture
def anonymous() -> Ui:
    return make_ui(login=False)


# --- the harness itself -------------------------------------------------------------------------------------------

def test_every_route_is_listed():
    endpoints = {e for _, _, e in route_urls(make_ui(login=False).app)}
    assert {"status.dashboard", "status.summary", "status.sessions", "cluster.page", "storage.page",
            "storage.create_pool", "storage.create_volume", "storage.resize_volume", "storage.create_target",
            "target.page", "target.create_lun", "target.create_acl", "target.set_acl_auth", "target.create_portal",
            "target.create_group", "target.create_tpg", "confirm.preview", "confirm.perform",
            "cluster.online", "cluster.start", "cluster.clear", "cluster.cleanup_resource", "cluster.cleanup",
            "cluster.fencing_test", "auth.logout"} <= endpoints


# --- login required -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,url,endpoint", route_urls(make_ui(login=False).app))
def test_every_route_needs_a_login(anonymous, method, url, endpoint):
    before = snapshot(anonymous)
    if method == "GET":
        response = anonymous.get(url)
    else:
        response = anonymous.post(url, {"name": "p1", "disks": DISK1}, csrf=False)
    if url.startswith("/api/"):
        assert response.status_code == 401 and response.json == {"error": "login required"}
    else:
        assert response.status_code == 303
        assert response.location.startswith("/login")
    assert snapshot(anonymous) == before


def test_the_login_page_takes_you_back_where_you_were(anonymous):
    response = anonymous.get("/storage?x=1")
    assert response.location == "/login?next=/storage?x%3D1"
    response = anonymous.login(next_page="/storage?x=1")
    assert response.status_code == 303 and response.location == "/storage?x=1"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_no_redirect_off_the_site_after_login(anonymous, target):
    response = anonymous.login(next_page=target)
    assert response.status_code == 303 and response.location == "/"


def test_wrong_password_is_refused_next_to_the_field(anonymous):
    response = anonymous.login(password="not-the-password")
    assert response.status_code == 401
    assert errors(response.get_data(as_text=True)) == {"login-password": "Wrong user name or password."}
    assert anonymous.get("/").status_code == 303
    with anonymous.client.session_transaction() as session:
        assert "sid" not in session


@pytest.mark.parametrize("user,password", [("root", PASSWORD), ("", ""), (USER, ""), (USER, "x" * 5000)])
def test_other_bad_logins_are_refused(anonymous, user, password):
    assert anonymous.login(user, password).status_code == 401
    assert anonymous.get("/storage").status_code == 303


def test_no_password_set_means_no_login():
    ui = make_ui(auth=Authenticator(USER, "", delay=0.0), login=False)
    assert ui.login().status_code == 401
    assert ui.login(password="").status_code == 401


def test_failed_login_takes_at_least_one_second():
    ui = make_ui(auth=Authenticator(USER, hash_password(PASSWORD)), login=False)  # the default delay
    ui.get("/login")
    start = time.monotonic()
    response = ui.post("/login", {"user": USER, "password": "wrong-password"})
    assert response.status_code == 401
    assert time.monotonic() - start >= 1.0
    start = time.monotonic()
    assert ui.login().status_code == 303
    assert time.monotonic() - start < 1.0


def test_login_starts_a_new_session(anonymous):
    anonymous.get("/login")
    with anonymous.client.session_transaction() as session:
        session["sid"] = "planted-by-someone"
    before = anonymous.csrf()
    anonymous.login()
    with anonymous.client.session_transaction() as session:
        assert session["sid"] != "planted-by-someone"
    assert anonymous.csrf() != before


def test_login_page_when_logged_in_goes_to_the_dashboard(ui):
    response = ui.get("/login")
    assert response.status_code == 303 and response.location == "/"


# --- logout and expiry --------------------------------------------------------------------------------------------

def test_logout_ends_the_session_even_for_a_copied_cookie(ui):
    cookie = ui.client.get_cookie("sanappliance_session").value
    response = ui.post("/logout")
    assert response.status_code == 303 and response.location == "/login"
    assert ui.get("/").status_code == 303
    ui.client.set_cookie("sanappliance_session", cookie)  # the cookie from before the logout, replayed
    assert ui.get("/storage").status_code == 303
    assert ui.get("/api/summary").status_code == 401


def test_logout_needs_the_csrf_token(ui):
    assert ui.post("/logout", csrf=False).status_code == 400
    assert ui.get("/").status_code == 200


def test_a_session_ends_after_its_idle_time():
    ui = make_ui(session_minutes=30)
    ui.clock.now += 29 * 60
    assert ui.get("/").status_code == 200  # activity: the idle time starts again
    ui.clock.now += 29 * 60
    assert ui.get("/storage").status_code == 200
    ui.clock.now += 30 * 60
    response = ui.get("/storage")
    assert response.status_code == 303 and response.location.startswith("/login")
    page = ui.get(response.location).get_data(as_text=True)
    assert "Your session ended: log in again." in page


def test_background_polls_do_not_keep_a_session_alive():
    ui = make_ui(session_minutes=30)
    for _ in range(4):
        ui.clock.now += 10 * 60
        assert ui.get("/api/summary").status_code in (200, 401)
    assert ui.get("/api/summary").status_code == 401
    assert ui.get("/").status_code == 303


def test_a_session_ends_after_its_lifetime_however_busy():
    ui = make_ui(session_minutes=30, session_max_hours=1)
    for _ in range(3):
        ui.clock.now += 20 * 60
        ui.get("/")
    assert ui.get("/").status_code == 303


# --- cookies and headers ------------------------------------------------------------------------------------------

def test_the_session_cookie_is_secure_httponly_strict(anonymous):
    response = anonymous.login()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sanappliance_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie


@pytest.mark.parametrize("url", ["/", "/storage", "/login", "/api/summary", "/sessions", "/cluster",
                                 f"/storage/targets/{T}", "/no-such-page"])
def test_security_headers(ui, url):
    response = ui.get(url)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_pages_have_no_inline_script_or_style(ui):
    for url in ("/", "/storage", "/sessions", "/cluster", "/logout", "/login"):
        if url == "/logout":
            ui.post(url)
            continue
        page = ui.get(url).get_data(as_text=True)
        assert "<script>" not in page and " style=" not in page and "<style" not in page, url
        assert re.findall(r"<script [^>]*src=\"/static/app.js\"", page), url


def test_static_files_are_public_and_cacheable(anonymous):
    for name in ("app.css", "app.js"):
        response = anonymous.get(f"/static/{name}")
        assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"
        response.close()


def test_unknown_pages_and_actions_are_404(ui):
    assert ui.get("/nothing-here").status_code == 404
    assert ui.get(f"/storage/targets/{T}").status_code == 404
    assert ui.get("/confirm/format-everything?name=x").status_code == 404
    assert ui.post("/confirm/format-everything", {"name": "x", "generation": "0"}).status_code == 404
