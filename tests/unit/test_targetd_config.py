"""The API daemon's settings: JSON round trip, validation naming the field, the password hash, the file (0600),
targetd.yaml taken over, the TLS certificate, the refusal to serve without a password, the command line."""

from __future__ import annotations

import io
import json
import stat
import sys

import pytest

from sanappliance.errors import SanError
from sanappliance.model.apiconfig import ApiConfig, default_target_name, hash_password, verify_password
from sanappliance.model.config import Portal
from sanappliance.service import apiconfig
from sanappliance.service.space import space_of
from sanappliance.targetd import rpc
from sanappliance.targetd.__main__ import main


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_defaults():
    assert ApiConfig.from_json(ApiConfig().to_json()) == ApiConfig()
    custom = ApiConfig(user="storage", password_hash=hash_password("a-long-password"), ssl=False, port=18701,
                       block_pools=("p1",), target_name="iqn.2003-01.org.example:api",
                       portal_addresses=("192.0.2.1", "2001:db8::1"), log_level="debug")
    assert ApiConfig.from_json(custom.to_json()) == custom
    data = json.loads(ApiConfig().to_json())
    assert data["port"] == 18700 and data["ssl"] is True and data["block_pools"] is None
    assert data["ssl_cert"] == "/etc/sanappliance/tls/targetd.crt" and data["password_hash"] == ""


@pytest.mark.parametrize("change, field", [
    ({"port": 0}, "targetd.port"),
    ({"port": "18700"}, "targetd.port"),
    ({"user": "a:b"}, "targetd.user"),
    ({"ssl": "yes"}, "targetd.ssl"),
    ({"ssl_key": "key.pem"}, "targetd.ssl_key"),
    ({"address": "localhost"}, "targetd.address"),
    ({"block_pools": ["vg/thin"]}, "targetd.block_pools"),
    ({"target_name": "target"}, "targetd.target_name"),
    ({"portal_addresses": []}, "targetd.portal_addresses"),
    ({"portal_addresses": ["1.2.3.4", "x"]}, "targetd.portal_addresses"),
    ({"log_level": "loud"}, "targetd.log_level"),
    ({"password_hash": "clear-text"}, "targetd.password_hash"),
    ({"colour": "red"}, "targetd"),
])
def test_bad_settings_name_the_field(change, field):
    data = {**json.loads(ApiConfig().to_json()), **change}
    with pytest.raises(SanError) as err:
        ApiConfig.from_json(json.dumps(data))
    assert err.value.field == field


def test_password_hash():
    stored = hash_password("a-long-password")
    assert stored.startswith("scrypt$") and "a-long-password" not in stored
    assert verify_password("a-long-password", stored)
    assert not verify_password("a-long-passwor", stored)
    assert not verify_password("a-long-password", "")
    assert not verify_password("a-long-password", "scrypt$3$8$1$AAAA$AAAA")  # not ours: refused, not an exception
    assert hash_password("a-long-password") != stored  # salted
    with pytest.raises(SanError):
        hash_password("short")
    with pytest.raises(SanError):
        hash_password("with\nnewline")


def test_default_target_name_and_space():
    assert default_target_name("Node_1.Example.COM") == "iqn.2003-01.org.linux-iscsi.node-1.example.com:targetd"
    assert default_target_name("") == "iqn.2003-01.org.linux-iscsi.localhost:targetd"
    space = space_of(ApiConfig(portal_addresses=("192.0.2.1",), block_pools=("p1",)), "san1")
    assert space.target == "iqn.2003-01.org.linux-iscsi.san1:targetd"
    assert space.portals == (Portal("192.0.2.1", 3260),) and space.pools == ("p1",)
    assert space_of(ApiConfig(target_name="iqn.2003-01.org.example:x"), "san1").target == "iqn.2003-01.org.example:x"


def test_password_and_certificate_files(tmp_path):
    path = tmp_path / "etc" / "targetd.json"
    assert apiconfig.load_api_config(path) == ApiConfig()
    with pytest.raises(SanError) as err:
        apiconfig.check_serving(apiconfig.load_api_config(path))
    assert "set-password" in str(err.value)
    apiconfig.set_api_password(path, "a-long-password")
    assert _mode(path) == 0o600 and "a-long-password" not in path.read_text()
    config = apiconfig.load_api_config(path)
    assert verify_password("a-long-password", config.password_hash)

    tls = tmp_path / "tls"
    path.write_text(json.dumps({**json.loads(config.to_json()), "ssl_cert": f"{tls}/api.crt",
                                "ssl_key": f"{tls}/api.key"}))
    with pytest.raises(SanError) as err:
        apiconfig.check_serving(apiconfig.load_api_config(path))
    assert "make-cert" in str(err.value)
    config, made = apiconfig.make_certificate(path, "san1")
    assert made and _mode(tls / "api.key") == 0o600 and b"BEGIN CERTIFICATE" in (tls / "api.crt").read_bytes()
    assert apiconfig.make_certificate(path, "san1")[1] is False
    apiconfig.check_serving(config)
    (tls / "api.key").chmod(0o644)
    with pytest.raises(SanError) as err:
        apiconfig.check_serving(config)
    assert "chmod 600" in str(err.value)


def test_targetd_yaml_is_taken_over(tmp_path):
    yaml_path = tmp_path / "targetd.yaml"
    yaml_path.write_text('user: "foo"\npassword: bar-bar-bar\nssl: false\n'
                         'target_name: iqn.2003-01.org.example.mach1:1234\n'
                         'block_pools: [vg-targetd/thin_pool, san-p2]\nfs_pools: [/mnt/btrfs]\n'
                         'portal_addresses: ["192.168.0.10"]\nlog_level: debug\n')
    path = tmp_path / "targetd.json"
    config, ignored = apiconfig.import_targetd_yaml(path, yaml_path)
    assert (config.user, config.ssl, config.target_name, config.log_level) == (
        "foo", False, "iqn.2003-01.org.example.mach1:1234", "debug")
    assert config.block_pools == ("vg-targetd", "p2") and config.portal_addresses == ("192.168.0.10",)
    assert verify_password("bar-bar-bar", config.password_hash) and "bar-bar-bar" not in path.read_text()
    assert ignored == ["fs_pools"] and _mode(path) == 0o600
    yaml_path.write_text("port: [1\n")
    with pytest.raises(SanError) as err:
        apiconfig.import_targetd_yaml(path, yaml_path)
    assert err.value.field == "file"


def test_command_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "targetd.json"
    assert main(["serve", "--config", str(path)]) == 2
    assert "no admin password is set" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert main(["--config", str(path), "set-password"]) == 0
    assert verify_password("a-long-password", apiconfig.load_api_config(path).password_hash)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["set-password", "--config", str(path)]) == 2
    assert main(["set-password", "--generate", "--config", str(path)]) == 0
    generated = capsys.readouterr().out.strip()
    assert len(generated) >= 16 and verify_password(generated, apiconfig.load_api_config(path).password_hash)
    path.write_text("{")
    assert main(["serve", "--config", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("kind, field, code", [
    ("invalid", "size", -32602), ("not_found", "volume", -103), ("not_found", "pool", -152),
    ("not_found", "group", -200), ("not_found", "export", -151), ("not_found", "target", -100),
    ("conflict", "name", -50), ("conflict", "initiator", -52), ("in_use", "name", -303),
    ("unsupported", "init_type", -153), ("exhausted", "h_lun_id", -1000), (None, "pools[p1].size", -1),
])
def test_error_codes(kind, field, code):
    assert rpc.code_of(SanError("x", field=field, kind=kind)) == code
