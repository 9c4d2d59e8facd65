"""TLS: only 1.2 and 1.3, strong ciphers, and certificates with the right names."""

from __future__ import annotations

import socket
import ssl
import stat
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.security.certificates import ensure_self_signed, load_certificate, subject_alt_names
from mrs.security.tls import INTERMEDIATE_CIPHERS
from tests import support
from tests.security.conftest import LiveServer, start_server, stop_process, wait_for_https

pytestmark = pytest.mark.slow


def _address(server: LiveServer) -> tuple[str, int]:
    parts = urlsplit(server.https_url)
    assert parts.hostname
    assert parts.port
    return parts.hostname, parts.port


def _client_context(version: ssl.TLSVersion, ciphers: str | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated
        context.minimum_version = version
        context.maximum_version = version
    # Security level 0 lets this client even offer the legacy protocols and ciphers.
    context.set_ciphers(ciphers or "ALL:@SECLEVEL=0")
    return context


def _handshake(server: LiveServer, context: ssl.SSLContext) -> tuple[str | None, str]:
    with (
        socket.create_connection(_address(server), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        cipher = tls.cipher()
        return tls.version(), cipher[0] if cipher else ""


def _client_can_offer(version: ssl.TLSVersion) -> bool:
    """Whether this machine's OpenSSL lets a client offer `version` at all."""
    try:
        _client_context(version)
    except (ValueError, ssl.SSLError):
        return False
    return True


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_1_0_and_1_1_are_refused(live_server: LiveServer, version: ssl.TLSVersion) -> None:
    if not _client_can_offer(version):
        pytest.skip(f"the local OpenSSL cannot offer {version.name} as a client")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        _handshake(live_server, _client_context(version))


@pytest.mark.parametrize(
    ("version", "name"), [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")]
)
def test_tls_1_2_and_1_3_are_served(
    live_server: LiveServer, version: ssl.TLSVersion, name: str
) -> None:
    negotiated, cipher = _handshake(live_server, _client_context(version))
    assert negotiated == name
    if version is ssl.TLSVersion.TLSv1_2:
        assert cipher in INTERMEDIATE_CIPHERS.split(":")


@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"])
def test_tls_1_2_without_forward_secrecy_or_with_cbc_is_refused(
    live_server: LiveServer, cipher: str
) -> None:
    with pytest.raises(ssl.SSLError):
        _handshake(live_server, _client_context(ssl.TLSVersion.TLSv1_2, f"{cipher}:@SECLEVEL=0"))


def test_the_served_certificate_names_localhost_and_the_loopback_address(
    live_server: LiveServer,
) -> None:
    host, port = _address(live_server)
    pem = ssl.get_server_certificate((host, port))
    served = x509.load_pem_x509_certificate(pem.encode())
    assert sorted(subject_alt_names(served)) == ["127.0.0.1", "localhost"]
    # A client that trusts only this certificate verifies the hostname too.
    with live_server.client() as http:
        assert http.get("/api/openapi.json").status_code == 200


def test_cert_create_writes_sans_a_private_key_and_a_keystore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MRS_KEYSTORE_PASSWORD", "keystore-pass-123")
    result = CliRunner().invoke(
        cli,
        [
            "cert", "create", "--out", str(tmp_path),
            "--host", "mrs.example.test", "--host", "10.1.2.3", "--days", "30", "--p12",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    certificate = load_certificate(tmp_path / "cert.pem")
    assert sorted(subject_alt_names(certificate)) == ["10.1.2.3", "mrs.example.test"]
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 29 < lifetime.days <= 30
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keystore.p12").stat().st_mode) == 0o600
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "keystore.p12").read_bytes(), b"keystore-pass-123"
    )
    assert key is not None
    assert cert == certificate
    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_key_and_certificates((tmp_path / "keystore.p12").read_bytes(), b"wrong")


def test_cert_create_defaults_to_localhost_and_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["cert", "create", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(subject_alt_names(load_certificate(tmp_path / "cert.pem"))) == [
        "127.0.0.1",
        "localhost",
    ]
    assert not (tmp_path / "keystore.p12").exists()


def test_the_data_directory_pair_is_made_once_and_kept(tmp_path: Path) -> None:
    first = ensure_self_signed(tmp_path)
    serial = load_certificate(first.certfile).serial_number
    second = ensure_self_signed(tmp_path)
    assert second == first
    assert load_certificate(second.certfile).serial_number == serial
    assert stat.S_IMODE(first.keyfile.stat().st_mode) == 0o600


def test_serve_https_without_files_makes_a_self_signed_pair_in_the_data_dir(
    tmp_path: Path,
) -> None:
    port = support.free_port()
    sqlite_url = f"sqlite:///{tmp_path / 'mrs.sqlite3'}"
    process, log = start_server(
        tmp_path, sqlite_url, ["--https", "--port", str(port), "--redirect-port", "0"]
    )
    try:
        certfile = tmp_path / "data" / "tls" / "cert.pem"
        wait_for_https(process, log, f"https://127.0.0.1:{port}", certfile)
        assert stat.S_IMODE((tmp_path / "data" / "tls" / "key.pem").stat().st_mode) == 0o600
        served = ssl.get_server_certificate(("127.0.0.1", port))
        assert x509.load_pem_x509_certificate(served.encode()) == load_certificate(certfile)
    finally:
        stop_process(process)
