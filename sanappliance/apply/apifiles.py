"""The API daemon's files on the live system: its settings (JSON, 0600), targetd's own YAML settings (read only) and
the host name its default target is named after."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sanappliance.errors import INVALID, SanError
from sanappliance.model.apiconfig import ApiConfig

from .files import write_atomic

API_CONFIG = Path("/etc/sanappliance/targetd.json")
TARGETD_YAML = Path("/etc/target/targetd.yaml")


def read_api_config(path: Path = API_CONFIG) -> ApiConfig | None:
    """The settings, or None when the file does not exist."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SanError(f"cannot read: {exc.strerror}", field="file", value=str(path)) from None
    return ApiConfig.from_json(text, str(path))


def write_api_config(config: ApiConfig, path: Path = API_CONFIG) -> Path:
    """Atomically, readable by root only (it holds the password hash)."""
    write_atomic(Path(path), config.to_json(), mode=0o600)
    return Path(path)


def read_yaml(path: Path = TARGETD_YAML) -> dict[str, Any]:
    """targetd's settings file as a mapping (PyYAML, Debian package python3-yaml)."""
    try:
        import yaml
    except ImportError:
        raise SanError("reading targetd.yaml needs PyYAML (install the Debian package python3-yaml)",
                       field="file", value=str(path)) from None
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SanError(f"cannot read: {exc.strerror}", field="file", value=str(path)) from None
    except yaml.YAMLError as exc:
        raise SanError(f"not valid YAML: {exc}", field="file", value=str(path), kind=INVALID) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SanError("expected a mapping of settings", field="file", value=str(path), kind=INVALID)
    return data


def hostname() -> str:
    return os.uname().nodename


def tls_problem(cert: Path, key: Path) -> str | None:
    """Why the daemon cannot serve TLS with these files, or None."""
    for what, path in (("certificate", Path(cert)), ("key", Path(key))):
        if not path.is_file():
            return f"the TLS {what} {path} does not exist (make one: python3 -m sanappliance.targetd make-cert)"
        if not os.access(path, os.R_OK):
            return f"the TLS {what} {path} is not readable"
    if Path(key).stat().st_mode & 0o077:
        return f"the TLS key {key} must be readable by its owner only (chmod 600)"
    return None
