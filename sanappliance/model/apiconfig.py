"""Settings of the targetd-compatible API daemon (/etc/sanappliance/targetd.json): a frozen dataclass with a JSON
round trip, validation naming the field, and the password hash (scrypt; the clear password is never kept)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sanappliance.errors import INVALID, SanError

from . import values
from .serialize import from_dict, to_dict

API_PORT = 18700
TLS_DIR = "/etc/sanappliance/tls"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
USER_RE = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,64}$")  # printable, no space, no colon (HTTP Basic splits on it)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB and some 50 ms per check
HASH_RE = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


@dataclass(frozen=True)
class ApiConfig:
    user: str = "admin"
    password_hash: str = ""  # empty: no password set yet, the daemon refuses to start
    ssl: bool = True
    ssl_cert: str = f"{TLS_DIR}/targetd.crt"
    ssl_key: str = f"{TLS_DIR}/targetd.key"
    address: str = "0.0.0.0"  # where the daemon listens
    port: int = API_PORT
    block_pools: tuple[str, ...] | None = None  # the pools the API may use; None: every pool
    target_name: str = ""  # the target every export lives on; empty: iqn.2003-01.org.linux-iscsi.<host>:targetd
    portal_addresses: tuple[str, ...] = ("0.0.0.0",)  # the target's portals (port 3260) when the API creates it
    log_level: str = "info"

    def to_json(self) -> str:
        return json.dumps(to_dict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "targetd") -> ApiConfig:
        config = from_dict(cls, data, source)
        check(config, source)
        return config

    @classmethod
    def from_json(cls, text: str, source: str = "targetd") -> ApiConfig:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SanError(f"not valid JSON: {exc}", field=source, kind=INVALID) from None
        if not isinstance(data, dict):
            raise SanError("expected a JSON object", field=source, kind=INVALID)
        return cls.from_dict(data, source)

    def target(self, hostname: str) -> str:
        return self.target_name or default_target_name(hostname)


def validate(config: ApiConfig, source: str = "targetd") -> list[SanError]:
    problems: list[SanError] = []

    def add(message: str, name: str, value: object = None) -> None:
        problems.append(SanError(message, field=f"{source}.{name}", value=value, kind=INVALID))

    def attempt(fn: Any, value: Any, name: str) -> None:
        try:
            fn(value, f"{source}.{name}")
        except SanError as exc:
            problems.append(exc)

    if not USER_RE.match(config.user):
        add("a user name is 1-64 printable characters without space or colon", "user", config.user)
    if config.password_hash and not HASH_RE.match(config.password_hash):
        add("not a password hash of this appliance (set the password again)", "password_hash", "(hidden)")
    for name in ("ssl_cert", "ssl_key"):
        if not getattr(config, name).startswith("/"):
            add("the path must be absolute", name, getattr(config, name))
    attempt(values.check_address, config.address, "address")
    attempt(values.check_port, config.port, "port")
    for pool in config.block_pools or ():
        attempt(values.check_name, pool, "block_pools")
    if config.target_name:
        attempt(values.check_iqn, config.target_name, "target_name")
    if not config.portal_addresses:
        add("give at least one address (0.0.0.0: all)", "portal_addresses")
    for address in config.portal_addresses:
        attempt(values.check_address, address, "portal_addresses")
    if config.log_level not in LOG_LEVELS:
        add(f"one of {', '.join(LOG_LEVELS)}", "log_level", config.log_level)
    return problems


def check(config: ApiConfig, source: str = "targetd") -> None:
    problems = validate(config, source)
    if problems:
        raise problems[0]


def default_target_name(hostname: str) -> str:
    """targetd's default, iqn.2003-01.org.linux-iscsi.<hostname>:targetd, with the host name made IQN-safe."""
    labels = [re.sub(r"[^a-z0-9-]+", "-", label).strip("-") for label in hostname.lower().split(".")]
    host = ".".join(label for label in labels if label) or "localhost"
    return values.check_iqn(f"iqn.2003-01.org.linux-iscsi.{host}:targetd", "target_name")


def check_password(password: str, field: str = "password") -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise SanError(f"a password is {MIN_PASSWORD}-{MAX_PASSWORD} characters", field=field, value="(hidden)",
                       kind=INVALID)
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in password):
        raise SanError("a password has no control characters (newlines, tabs)", field=field, value="(hidden)",
                       kind=INVALID)
    return password


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * r * n + 2**20)


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$key (base64): what the settings keep instead of the password."""
    check_password(password)
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    match = HASH_RE.match(stored or "")
    if not match or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    n, r, p = (int(x) for x in match.group(1, 2, 3))
    if n < 2 or n & (n - 1) or n > 2**20 or not 0 < r <= 32 or not 0 < p <= 16:  # not one of ours: refuse
        return False
    key = _scrypt(password, base64.b64decode(match.group(4)), n, r, p)
    return hmac.compare_digest(key, base64.b64decode(match.group(5)))


def generate_password() -> str:
    return secrets.token_urlsafe(18)
