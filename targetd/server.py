"""The HTTP(S) server: werkzeug's threaded server (one thread per connection), TLS from a certificate and key.

The TLS handshake runs in the connection's own thread (not in the accepting one, where a client that never finishes
it would stop the daemon from accepting others), and every connection has a socket timeout."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

SOCKET_TIMEOUT = 60.0


class _Handler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT  # seconds a read or write on the connection may block

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the dispatcher logs each call (method, caller, outcome)


class _LazyHandshake(ssl.SSLContext):
    """Connections do their TLS handshake on first read, in their own thread, under the socket timeout."""

    def wrap_socket(self, sock: Any, server_side: bool = False, do_handshake_on_connect: bool = True,
                    *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return super().wrap_socket(sock, server_side, False, *args, **kwargs)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = _LazyHandshake(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


def make(app: Flask, address: str, port: int, tls: tuple[Path, Path] | None = None) -> BaseWSGIServer:
    """A server bound to address:port (port 0: any free one, see .port), not yet serving: call serve_forever()."""
    context = tls_context(*tls) if tls else None
    return make_server(address, port, app, threaded=True, request_handler=_Handler, ssl_context=context)
