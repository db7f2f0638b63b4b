"""The read-only pages of the web page (dashboard and its JSON, sessions, cluster) on a single node and in a cluster,
the status service behind them, the `serve` command's checks and wiring, and the package data of the templates."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from sanappliance.apply.tls import make_self_signed
from sanappliance.cluster import edits
from sanappliance.model.apiconfig import ApiConfig, hash_password
from sanappliance.service import cluster, iscsi, status, storage
from sanappliance.service.env import Env
from sanappliance.ui import __main__ as cli

from .fakes import FakeSystem, MemoryStore
from .test_ui_clusterhost import MemoryCluster
from .test_ui_harness import DISK1, I1, I2, PASSWORD, SECRETS, USER, T, Ui, make_ui

ROOT = Path(__file__).resolve().parents[2]


class SessionSystem(FakeSystem):
    """A live system that can tell who is logged in (LIO's configfs session info, in the real one)."""

    def __init__(self) -> None:
        super().__init__()
        self.logged_in: list = []

    def sessions(self):
        return list(self.logged_in)


def build(ui: Ui) -> None:
    env = ui.env()
    storage.create_pool(env, "p1", [DISK1])
    storage.create_volume(env, "v1", "1G", pool="p1")
    iscsi.create_target(env, T)
    iscsi.create_lun(env, T, "v1")
    iscsi.create_acl(env, T, I1, userid="host1", password=SECRETS[0])
    iscsi.create_group(env, T, "web", [I2], userid="web", password=SECRETS[1])


def text(ui: Ui, url: str) -> str:
    response = ui.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# --- single node --------------------------------------------------------------------------------------------------

def test_dashboard_of_a_single_node():
    ui = make_ui()
    build(ui)
    page = text(ui, "/")
    for fragment in ("<strong>Single node</strong>: no cluster formed.", status.FORM_CLUSTER,
                     'data-key="nodes">1 of 1 online', "node1 online", "not applicable (single node)",
                     "not configured (single node)", 'data-key="pools">1<', 'data-key="volumes">1<',
                     'data-key="targets">1<', 'data-key="luns">1<', 'data-key="acls">1<', 'data-key="sessions">n/a<',
                     f'data-key="target:{T}:connected">n/a<', "1 volume(s), 1GiB allocated, on virtio-data1",
                     'data-key="pool:p1:free">3GiB<', 'data-poll="/api/summary"'):
        assert fragment in page, fragment


def test_summary_json_updates_the_numbers():
    ui = make_ui()
    first = ui.get("/api/summary").json
    assert first["values"]["pools"] == 0 and first["values"]["generation"] == 0 and first["errors"] == []
    build(ui)
    second = ui.get("/api/summary").json
    values = second["values"]
    assert (values["pools"], values["volumes"], values["targets"], values["luns"], values["acls"]) == (1, 1, 1, 1, 1)
    assert values[f"target:{T}:luns"] == 1 and values["quorum"] == "not applicable (single node)"
    assert second["layout"] != first["layout"]  # rows came: the page offers a reload
    storage.create_volume(ui.env(), "v2", "8M", kind="ramdisk")
    assert ui.get("/api/summary").json["layout"] == second["layout"]  # a count changed, nothing else


def test_sessions_not_available_without_a_reader():
    ui = make_ui()
    page = text(ui, "/sessions")
    assert "Not available: this system cannot list iSCSI sessions yet." in page


def test_sessions_listed_with_how_each_initiator_got_in():
    system = SessionSystem()
    ui = make_ui(system=system)
    build(ui)
    page = text(ui, "/sessions")
    assert "No initiator is logged in." in page
    system.logged_in = [
        {"target": T, "tpg": 1, "initiator": I1, "addresses": ["192.0.2.21"], "portal": "192.0.2.10:3260",
         "state": "LOGGED_IN"},
        SimpleNamespace(target=T.upper(), tpg=1, initiator=I2, addresses="192.0.2.22", portal="", state=""),
        {"target": T, "tpg": 1, "initiator": "iqn.2001-04.com.example:demo"},
        {"target": T, "tpg": 1, "initiator": I1, "addresses": ["192.0.2.31"]},  # a second path of host1
    ]
    page = text(ui, "/sessions")
    for fragment in (I1, "ACL", "group web", "no ACL", "192.0.2.21", "192.0.2.10:3260", "LOGGED_IN", "192.0.2.22"):
        assert fragment in page, fragment
    assert ui.get("/api/summary").json["values"][f"target:{T}:connected"] == 3
    assert ui.get("/api/summary").json["values"]["sessions"] == 4
    assert f'data-key="target:{T}:connected">3<' in text(ui, "/")


def test_session_service_without_and_with_a_reader():
    env = Env(MemoryStore(), FakeSystem())
    assert status.list_sessions(env) is None and status.connected_initiators(None) is None
    system = SessionSystem()
    system.logged_in = [{"target": "B", "tpg": 2, "initiator": "Y"}, {"target": "a", "initiator": "x"}]
    found = status.list_sessions(Env(MemoryStore(), system))
    assert found == [status.InitiatorSession("a", 1, "x"), status.InitiatorSession("b", 2, "y")]
    assert status.connected_initiators(found) == {"a": 1, "b": 1}


def test_cluster_page_of_a_single_node():
    ui = make_ui()
    page = text(ui, "/cluster")
    assert "No cluster formed" in page and status.FORM_CLUSTER in page and "node1 (online, this node)" in page


# --- in a cluster -------------------------------------------------------------------------------------------------

def test_dashboard_and_cluster_page_in_a_cluster():
    host = MemoryCluster(tested=True)
    host.cib = edits.apply(host.cib, edits.standby("node2", True))
    ui = make_ui(cluster_host=host)
    page = text(ui, "/")
    assert "no cluster formed" not in page
    for fragment in ('data-key="nodes">1 of 2 online', "node1 online, node2 standby", 'data-key="quorum">quorate',
                     "fence-sbd started on node1", 'data-key="failed">1<', "monitor of san-ip-p1 on node2: error",
                     'data-key="fencing_test">passed on every node<'):
        assert fragment in page, fragment
    assert "fencing-untested" not in page
    page = text(ui, "/cluster")
    for fragment in ("node1", "DC", "standby", "san-ip-p1", "ocf:heartbeat:IPaddr2", "Started", "failed",
                     "node2 reboot by node1: success", "(fail count 3)"):
        assert fragment in page, fragment


def test_a_cluster_without_quorum_or_fence_device_says_so():
    host = MemoryCluster()
    host.online["node2"], host.quorate = False, False
    host.cib = edits.apply(host.cib, lambda config: config.find("resources").clear())
    ui = make_ui(cluster_host=host)
    values = ui.get("/api/summary").json["values"]
    assert values["quorum"] == "NO QUORUM" and values["fencing"] == "NO FENCE DEVICE"


def test_a_cluster_whose_state_cannot_be_read():
    host = MemoryCluster()
    host.broken = True
    ui = make_ui(cluster_host=host)
    assert "the cluster&#39;s state cannot be read: crm_mon: crm_mon did not answer" in text(ui, "/cluster")
    summary = ui.get("/api/summary").json
    assert summary["values"]["quorum"] == "unknown" and summary["errors"]
    assert summary["values"]["fencing_test"] == "unknown"


def test_no_cluster_reported_by_the_host_is_a_single_node():
    ui = make_ui(cluster_host=MemoryCluster(formed=False))
    assert "No cluster formed" in text(ui, "/cluster")
    assert ui.get("/api/summary").json["values"]["fencing_test"] == "not applicable (single node)"


# --- serve --------------------------------------------------------------------------------------------------------

def write_api_config(tmp_path: Path, **settings) -> Path:
    path = tmp_path / "targetd.json"
    config = ApiConfig(ssl_cert=str(tmp_path / "tls/api.crt"), ssl_key=str(tmp_path / "tls/api.key"), **settings)
    path.write_text(config.to_json())
    return path


def test_serve_refuses_without_a_password(tmp_path, capsys):
    path = write_api_config(tmp_path)
    make_self_signed(tmp_path / "tls/api.crt", tmp_path / "tls/api.key", "localhost")
    assert cli.main(["serve", "--config", str(path)]) == 2
    assert "no admin password is set" in capsys.readouterr().err


def test_serve_refuses_without_a_certificate(tmp_path, capsys):
    path = write_api_config(tmp_path, password_hash=hash_password(PASSWORD))
    assert cli.main(["serve", "--config", str(path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["serve", "--config", str(path), "--cert", "/x.crt"])


def test_serve_uses_the_admin_account_and_the_api_certificate(tmp_path, monkeypatch):
    path = write_api_config(tmp_path, password_hash=hash_password(PASSWORD))
    make_self_signed(tmp_path / "tls/api.crt", tmp_path / "tls/api.key", "localhost")
    made = {}

    class Server:
        port = 443

        def serve_forever(self):
            made["served"] = True

    def make(app, address, port, tls):
        made.update(app=app, address=address, port=port, tls=tls)
        return Server()

    monkeypatch.setattr(cli, "make", make)
    assert cli.main(["serve", "--config", str(path)]) == 0
    assert (made["address"], made["port"], made["served"]) == ("0.0.0.0", 443, True)
    assert made["tls"] == (tmp_path / "tls/api.crt", tmp_path / "tls/api.key")
    app = made["app"]
    assert app.config["SESSION_COOKIE_SECURE"] and len(app.config["SECRET_KEY"]) == 32
    context = app.extensions["sanappliance"]
    assert context.auth.user == USER and context.cluster_host is cluster.live_host


# --- packaging ----------------------------------------------------------------------------------------------------

def test_templates_and_static_files_are_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "sanappliance.ui"]
    ui_dir = ROOT / "ui"
    covered = {p for pattern in patterns for p in ui_dir.glob(pattern)}
    files = {p for p in ui_dir.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert files and files <= covered, sorted(files - covered)
