"""The secured stack's certificates, made on first use with the ``cryptography`` package:
a CA (``ca.pem``, what every client trusts) and one server certificate for 127.0.0.1 and
localhost, signed by it, that the brokers, the Schema Registry and the REST Proxy present.

The brokers also present the server certificate to each other on the controller listener
(mutual TLS: its subject is the brokers' principal there). Keys are PKCS#8 PEM files
readable by their owner only; nothing is rewritten once it exists.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cta_core.ports import LOCALHOST

#: The subject of the server certificate: the brokers' principal on the controller listener.
SERVER_CN = "cta-broker"
CA_CN = "cta-live local CA"
#: Ten years: a local stack's certificates should not expire under a running demo.
VALID_DAYS = 3650


@dataclass(frozen=True)
class CertFiles:
    """Where one stack's certificates live (``<stack_dir>/secure/``)."""

    root: Path

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server-key.pem"

    @property
    def server_keystore(self) -> Path:
        """Key and certificate chain in one PEM file (Kafka's ``ssl.keystore.type=PEM``)."""
        return self.root / "server-keystore.pem"

    def exist(self) -> bool:
        return all(p.is_file() for p in (self.ca, self.ca_key, self.server_cert, self.server_key))


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(mode)


def _ca(now: datetime.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_CN))
        .issuer_name(_name(CA_CN))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, now: datetime.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_CN))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def ensure_certs(root: Path) -> CertFiles:
    """The stack's CA and server certificate under ``root``, made when missing."""
    files = CertFiles(root)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    if files.exist():
        return files
    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca = _ca(now)
    key, cert = _server(ca_key, ca, now)
    pem = serialization.Encoding.PEM
    _write(files.ca_key, _pem_key(ca_key))
    _write(files.server_key, _pem_key(key))
    _write(files.server_cert, cert.public_bytes(pem) + ca.public_bytes(pem))
    _write(files.server_keystore, _pem_key(key) + cert.public_bytes(pem) + ca.public_bytes(pem))
    _write(files.ca, ca.public_bytes(pem), mode=0o644)
    return files
