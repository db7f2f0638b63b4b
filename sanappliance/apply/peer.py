"""Calls to another appliance's API (cluster join): JSON-RPC over HTTPS to port 18700, the peer's certificate
pinned by the fingerprint that came with the join secret (no trust on first use, no CA)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
from pathlib import Path
from typing import Any

from sanappliance.errors import SanError

API_PORT = 18700


def fingerprint(cert_pem: str) -> str:
    """sha256 of the certificate (DER), hex."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem)).hexdigest()


def own_fingerprint(cert: Path) -> str:
    return fingerprint(Path(cert).read_text())


def call(address: str, pinned: str, user: str, password: str, method: str, params: dict[str, Any],
         *, port: int = API_PORT, timeout: float = 900.0) -> Any:
    """One JSON-RPC call; the peer's certificate must have a sha256 fingerprint starting with `pinned`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the pin below is the check: the peer has a self-signed certificate
    conn = http.client.HTTPSConnection(address, port, context=context, timeout=timeout)
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True) if conn.sock else None  # type: ignore[union-attr]
        if not der or not hashlib.sha256(der).hexdigest().startswith(pinned.lower()):
            raise SanError("the peer's certificate is not the one the join secret names (wrong address, or not "
                           "that appliance)", field="peer", value=address)
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        conn.request("POST", "/targetrpc", body, {"Content-Type": "application/json", "Authorization": f"Basic {auth}"})
        response = conn.getresponse()
        data = response.read()
    except OSError as exc:
        raise SanError(f"cannot reach the peer's API: {exc.strerror or exc}", field="peer", value=address) from None
    finally:
        conn.close()
    if response.status == 401:
        if user == "cluster-join":
            raise SanError("the peer refused the join secret", field="secret")
        raise SanError("the peer refused this node's cluster credential (is it in the same cluster?)", field="peer",
                       value=address)
    if response.status != 200:
        raise SanError(f"the peer's API answered HTTP {response.status}", field="peer", value=address)
    reply = json.loads(data)
    if "error" in reply:
        error = reply["error"]
        raise SanError(f"the peer refused: {error.get('message')}", field=str((error.get("data") or {}).get("field")
                                                                               or "peer"))
    return reply.get("result")
