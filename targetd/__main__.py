"""python3 -m sanappliance.targetd serve | set-password | make-cert | import-yaml [--config PATH]"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from sanappliance.apply.apifiles import API_CONFIG, TARGETD_YAML, hostname
from sanappliance.errors import SanError
from sanappliance.model.apiconfig import generate_password
from sanappliance.service import apiconfig
from sanappliance.service.env import live_env
from sanappliance.service.space import space_of

from .app import PATH, create_app
from .auth import Authenticator, JoinGate
from .methods import Context
from .server import make

log = logging.getLogger("sanappliance.targetd")


def serve(path: Path) -> int:
    config = apiconfig.load_api_config(path)
    apiconfig.check_serving(config)
    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ctx = Context(live_env(), space_of(config, hostname()))
    from sanappliance.service import cluster

    join = JoinGate(lambda secret: cluster.check_join_secret(cluster.live_host(), secret))
    peer = JoinGate(lambda secret: cluster.check_peer_secret(cluster.live_host(), secret))
    app = create_app(ctx, Authenticator(config.user, config.password_hash), join=join, peer=peer)
    tls = (Path(config.ssl_cert), Path(config.ssl_key)) if config.ssl else None
    server = make(app, config.address, config.port, tls)
    scheme = "https" if tls else "http"
    log.info("serving the targetd API on %s://%s:%d%s (target %s)", scheme, config.address, server.port, PATH,
             ctx.space.target)
    server.serve_forever()
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("New API password: ")
        if getpass.getpass("Again: ") != first:
            raise SanError("the two passwords differ", field="password")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def set_password(path: Path, generate: bool, if_unset: bool = False) -> int:
    if if_unset and apiconfig.load_api_config(path).password_hash:
        return 0
    password = generate_password() if generate else _read_password()
    config = apiconfig.set_api_password(path, password)
    if generate:
        print(password)  # shown this once: only its hash is kept
    print(f"API password for user {config.user} set in {path} (restart the daemon to use it)", file=sys.stderr)
    return 0


def make_cert(path: Path) -> int:
    config, made = apiconfig.make_certificate(path, hostname())
    state = "written" if made else "kept (both exist)"
    print(f"TLS certificate {config.ssl_cert} and key {config.ssl_key}: {state}", file=sys.stderr)
    return 0


def import_yaml(path: Path, yaml_path: Path) -> int:
    config, ignored = apiconfig.import_targetd_yaml(path, yaml_path)
    print(f"settings of {yaml_path} saved in {path}" + (f"; ignored: {', '.join(ignored)}" if ignored else ""),
          file=sys.stderr)
    if not config.password_hash:
        print("no password set yet: python3 -m sanappliance.targetd set-password", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sanappliance.targetd",
                                     description="targetd-compatible JSON-RPC API of the SAN appliance")
    parser.add_argument("--config", type=Path, default=API_CONFIG, help=f"settings file (default {API_CONFIG})")
    common = argparse.ArgumentParser(add_help=False)  # --config after the command too
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", parents=[common], help="run the API daemon")
    password = sub.add_parser("set-password", parents=[common], help="set the API password (read from stdin)")
    password.add_argument("--generate", action="store_true", help="generate one and print it once")
    password.add_argument("--if-unset", action="store_true", help="do nothing when a password is set already")
    sub.add_parser("make-cert", parents=[common], help="a self-signed TLS certificate and key, unless both exist")
    yaml = sub.add_parser("import-yaml", parents=[common], help="take over the settings of targetd's targetd.yaml")
    yaml.add_argument("yaml", nargs="?", type=Path, default=TARGETD_YAML, help=f"default {TARGETD_YAML}")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return guarded(lambda: serve(args.config))
    if args.command == "set-password":
        return guarded(lambda: set_password(args.config, args.generate, args.if_unset))
    if args.command == "make-cert":
        return guarded(lambda: make_cert(args.config))
    return guarded(lambda: import_yaml(args.config, args.yaml))


def guarded(command: Callable[[], int]) -> int:
    """Run a daemon's command line: errors as one line and exit code 2, Ctrl-C as 130, never a traceback."""
    try:
        return command()
    except SanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
