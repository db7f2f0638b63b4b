"""Service commands for the API daemon's own settings (/etc/sanappliance/targetd.json): the password, the TLS
certificate, targetd's YAML settings taken over, and the check before serving."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sanappliance.apply import apifiles, tls
from sanappliance.errors import INVALID, SanError
from sanappliance.model.apiconfig import ApiConfig, check_password, hash_password
from sanappliance.model.serialize import to_dict

# targetd.yaml keys -> ours (the same meaning); the others are reported as ignored
YAML_KEYS = {"user": "user", "ssl": "ssl", "ssl_cert": "ssl_cert", "ssl_key": "ssl_key", "target_name": "target_name",
             "block_pools": "block_pools", "portal_addresses": "portal_addresses", "log_level": "log_level"}


def load_api_config(path: Path = apifiles.API_CONFIG) -> ApiConfig:
    """The saved settings, or the defaults (no password) when there is no file yet."""
    return apifiles.read_api_config(path) or ApiConfig()


def set_api_password(path: Path, password: str) -> ApiConfig:
    """Keep a hash of the new password (the rest of the settings as they are, or the defaults)."""
    check_password(password)
    config = replace(load_api_config(path), password_hash=hash_password(password))
    apifiles.write_api_config(config, path)
    return config


def make_certificate(path: Path, hostname: str) -> tuple[ApiConfig, bool]:
    """A self-signed certificate and key at the configured paths, unless both exist. Returns the settings and whether
    new files were written."""
    config = load_api_config(path)
    return config, tls.make_self_signed(Path(config.ssl_cert), Path(config.ssl_key), hostname)


def _pool_name(entry: Any) -> str:
    """targetd names a pool by its volume group (or vg/thin_pool); ours are VG san-<pool>."""
    if not isinstance(entry, str):
        raise SanError("expected a list of volume group names", field="block_pools", value=str(entry)[:80],
                       kind=INVALID)
    vg = entry.split("/", 1)[0]
    return vg.removeprefix("san-")


def import_targetd_yaml(path: Path, yaml_path: Path = apifiles.TARGETD_YAML) -> tuple[ApiConfig, list[str]]:
    """Take over the settings of targetd's own targetd.yaml that mean the same here (its clear-text password is
    hashed); returns the new settings and the keys that were ignored."""
    data = apifiles.read_yaml(yaml_path)
    current = load_api_config(path)
    new = to_dict(current)
    ignored = sorted(str(k) for k in data if k not in YAML_KEYS and k != "password")
    for key, ours in YAML_KEYS.items():
        if key in data and data[key] is not None:
            new[ours] = data[key]
    if isinstance(new.get("block_pools"), list | tuple):
        new["block_pools"] = [_pool_name(e) for e in new["block_pools"]]
    if isinstance(new.get("target_name"), str):
        new["target_name"] = new["target_name"].lower()
    password = data.get("password")
    if password is not None:
        new["password_hash"] = hash_password(str(password))
    config = ApiConfig.from_dict(new, str(yaml_path))
    apifiles.write_api_config(config, path)
    return config, ignored


def check_serving(config: ApiConfig) -> None:
    """Refuse to serve without a password, or with TLS on and its files missing or exposed."""
    if not config.password_hash:
        raise SanError("no admin password is set (the API and the web page share it): set one first "
                       "(python3 -m sanappliance.targetd set-password)",
                       field="password_hash")
    if config.ssl:
        problem = apifiles.tls_problem(Path(config.ssl_cert), Path(config.ssl_key))
        if problem:
            raise SanError(problem, field="ssl_cert")
