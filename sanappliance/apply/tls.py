"""A self-signed TLS certificate and key for the API daemon (cryptography, Debian package python3-cryptography)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from .files import write_atomic

VALID_DAYS = 3650


def make_self_signed(cert: Path, key: Path, hostname: str) -> bool:
    """Write a new key (0600) and a certificate for it (0644), valid for `hostname`, localhost and the loopback
    addresses, unless both files exist already. Returns whether it wrote them."""
    cert, key = Path(cert), Path(key)
    if cert.exists() and key.exists():
        return False
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    hostname = hostname if hostname and hostname.isascii() else "localhost"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64])])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys((hostname, "localhost"))]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    write_atomic(key, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()), mode=0o600)
    write_atomic(cert, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return True
