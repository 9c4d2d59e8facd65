"""Self-signed TLS certificates (and PKCS#12 keystores) made with `cryptography`."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1")
DEFAULT_DAYS = 397  # the longest validity browsers accept for a server certificate
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
P12_FILE = "keystore.p12"
# Where `mrs serve --https` keeps the pair it creates on first use, inside the data dir.
SELF_SIGNED_DIR = "tls"


@dataclass(frozen=True)
class CertificatePair:
    certfile: Path
    keyfile: Path
    p12file: Path | None = None


def _san_entry(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by the owner only (0600), even if the file existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def create_self_signed(
    out_dir: Path,
    *,
    hosts: tuple[str, ...] | list[str] = DEFAULT_HOSTS,
    days: int = DEFAULT_DAYS,
    p12_password: str | None = None,
    now: datetime | None = None,
) -> CertificatePair:
    """Write `cert.pem` and `key.pem` (0600) for `hosts`, plus `keystore.p12` if a password is given.

    The key is ECDSA P-256: every current client supports it and it is fast to handshake.
    """
    if not hosts:
        raise ValueError("at least one host name or address is needed")
    if days < 1:
        raise ValueError("the certificate must be valid for at least one day")
    out_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A minute of slack for clocks that are slightly behind ours.
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([_san_entry(host) for host in hosts]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile = out_dir / CERT_FILE
    keyfile = out_dir / KEY_FILE
    _write_private(
        keyfile,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    p12file = None
    if p12_password is not None:
        p12file = out_dir / P12_FILE
        _write_private(
            p12file,
            pkcs12.serialize_key_and_certificates(
                name=b"mrs",
                key=key,
                cert=certificate,
                cas=None,
                encryption_algorithm=serialization.BestAvailableEncryption(p12_password.encode()),
            ),
        )
    return CertificatePair(certfile=certfile, keyfile=keyfile, p12file=p12file)


def ensure_self_signed(
    data_dir: Path, *, hosts: tuple[str, ...] = DEFAULT_HOSTS
) -> CertificatePair:
    """The self-signed pair kept in the data directory, created on first use."""
    directory = data_dir / SELF_SIGNED_DIR
    pair = CertificatePair(certfile=directory / CERT_FILE, keyfile=directory / KEY_FILE)
    if pair.certfile.exists() and pair.keyfile.exists():
        return pair
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return create_self_signed(directory, hosts=hosts)


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject_alt_names(certificate: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for, as text."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [str(value) for value in extension.value.get_values_for_type(x509.DNSName)]
    names += [str(value) for value in extension.value.get_values_for_type(x509.IPAddress)]
    return names


def is_self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject
