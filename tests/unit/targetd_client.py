"""A real targetd API server on 127.0.0.1 (ephemeral port, TLS on or off) over the service layer with stand-ins,
and a small client for the protocol tests."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sanappliance.apply.tls import make_self_signed
from sanappliance.service.space import ExportSpace
from sanappliance.targetd.app import create_app
from sanappliance.targetd.auth import Authenticator
from sanappliance.targetd.methods import Context
from sanappliance.targetd.server import make

USER, PASSWORD = "admin", "correct-horse-battery"
TARGET = "iqn.2003-01.org.linux-iscsi.testhost:targetd"
SPACE = ExportSpace(TARGET)


@dataclass
class Client:
    port: int
    tls: ssl.SSLContext | None = None
    auth: tuple[str, str] | None = (USER, PASSWORD)
    ids: list[int] = field(default_factory=lambda: [0])

    def raw(self, body: bytes | object = b"", *, path: str = "/targetrpc", method: str = "POST",
            auth: tuple[str, str] | None | bool = True, headers: dict[str, str] | None = None,
            chunked: bool = False) -> tuple[int, dict[str, str], bytes]:
        if self.tls is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=30)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Content-Type": "application/json", **(headers or {})}
        credentials = self.auth if auth is True else auth or None
        if credentials:
            sent["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        try:
            conn.request(method, path, body=body, headers=sent, encode_chunked=chunked)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def call(self, method: str, params: object = None, **kwargs) -> dict:
        self.ids[0] += 1
        request = {"jsonrpc": "2.0", "id": self.ids[0], "method": method}
        if params is not None:
            request["params"] = params
        status, _, body = self.raw(json.dumps(request).encode(), **kwargs)
        assert status == 200, (status, body)
        reply = json.loads(body)
        assert reply["jsonrpc"] == "2.0" and reply["id"] == self.ids[0], reply
        return reply

    def ok(self, method: str, **params: object) -> object:
        reply = self.call(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def err(self, method: str, **params: object) -> dict:
        reply = self.call(method, params)
        assert "error" in reply and "result" not in reply, reply
        return reply["error"]


@dataclass
class Server:
    ctx: Context
    client: Client
    stop: object


def start(env, tmp_path: Path, *, tls: bool, auth: Authenticator, space: ExportSpace = SPACE) -> Server:
    ctx = Context(env, space)
    tls_files = None
    client_tls = None
    if tls:
        cert, key = tmp_path / "tls" / "api.crt", tmp_path / "tls" / "api.key"
        make_self_signed(cert, key, "localhost")
        tls_files = (cert, key)
        client_tls = ssl.create_default_context(cafile=str(cert))
    server = make(create_app(ctx, auth), "127.0.0.1", 0, tls_files)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(5)

    return Server(ctx, Client(server.port, client_tls), stop)
