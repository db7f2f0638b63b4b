"""python3 -m sanappliance.ui serve [--config PATH] [--address A] [--port N] [--cert FILE --key FILE]

Serves the admin web page over HTTPS (port 443 by default) with the admin account of the API settings (user and
password hash of /etc/sanappliance/targetd.json) and, unless others are given, the API's TLS certificate and key.
Refuses to start without a password or with the certificate or key missing or exposed."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from dataclasses import replace
from pathlib import Path

from sanappliance.apply.apifiles import API_CONFIG, hostname
from sanappliance.service import apiconfig
from sanappliance.service.env import live_env
from sanappliance.targetd.__main__ import guarded
from sanappliance.targetd.auth import Authenticator
from sanappliance.targetd.server import make

from .app import create_app

PORT = 443
log = logging.getLogger("sanappliance.ui")


def serve(path: Path, address: str, port: int, cert: Path | None, key: Path | None, session_minutes: float) -> int:
    config = apiconfig.load_api_config(path)
    cert, key = cert or Path(config.ssl_cert), key or Path(config.ssl_key)
    apiconfig.check_serving(replace(config, ssl=True, ssl_cert=str(cert), ssl_key=str(key)))  # the same account
    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from sanappliance.service import cluster

    app = create_app(live_env, Authenticator(config.user, config.password_hash), secret_key=secrets.token_bytes(32),
                     session_minutes=session_minutes, hostname=hostname(),
                     cluster_host=cluster.live_host)
    server = make(app, address, port, (cert, key))
    log.info("serving the admin page on https://%s:%d/", address, server.port)
    server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sanappliance.ui", description="the SAN appliance's admin page")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the admin page over HTTPS")
    run.add_argument("--config", type=Path, default=API_CONFIG,
                     help=f"settings with the admin account and TLS files (default {API_CONFIG})")
    run.add_argument("--address", default="0.0.0.0", help="address to listen on (default 0.0.0.0: all)")
    run.add_argument("--port", type=int, default=PORT, help=f"TCP port (default {PORT})")
    run.add_argument("--cert", type=Path, help="TLS certificate (default: the API's)")
    run.add_argument("--key", type=Path, help="TLS key, readable by its owner only (default: the API's)")
    run.add_argument("--session-minutes", type=float, default=30, help="idle time that ends a login (default 30)")
    args = parser.parse_args(argv)
    if (args.cert is None) != (args.key is None):
        parser.error("give --cert and --key together")
    return guarded(lambda: serve(args.config, args.address, args.port, args.cert, args.key, args.session_minutes))


if __name__ == "__main__":
    sys.exit(main())
