"""`mrs check --deploy` lists every insecure setting and fails until there are none."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.security.certificates import create_self_signed

STRONG_KEY = "Zq3v9WmT0xR7pL2sY8nK4bH6cJ1dF5gA-strong-deploy-key-xyz"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ca_signed_pair(directory: Path, *, days: int = 90) -> tuple[Path, Path]:
    """A server certificate issued by a throwaway CA (so it is not self-signed)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("mrs.example.test"))
        .issuer_name(_name("Test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("mrs.example.test")]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certfile, keyfile = directory / "server.pem", directory / "server.key"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    keyfile.chmod(0o600)
    return certfile, keyfile


@pytest.fixture
def app_role_url(database_url: str) -> Iterator[str]:
    """The test database reached as an ordinary role (not a superuser), as in production."""
    role = f"mrs_app_{uuid.uuid4().hex[:8]}"
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        yield make_url(database_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_role_url: str) -> dict[str, str]:
    """A sound production environment; tests make one thing worse at a time."""
    for name in list(os.environ):
        if name.startswith("MRS_") and name != "MRS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    certfile, keyfile = ca_signed_pair(tmp_path)
    return {
        "MRS_DATA_DIR": str(tmp_path / "data"),
        "MRS_SECRET_KEY": STRONG_KEY,
        "MRS_CERTFILE": str(certfile),
        "MRS_KEYFILE": str(keyfile),
        "MRS_DATABASE_URL": app_role_url,
        "MRS_SMTP_HOST": "mail.example.test",
        "MRS_SMTP_STARTTLS": "true",
    }


def _check(env: dict[str, str], *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--deploy", *options], env=env)
    return result.exit_code, result.output


def test_a_sound_deployment_passes(env: dict[str, str]) -> None:
    code, output = _check(env)
    assert code == 0, output
    assert "no insecure settings found" in output


def test_the_defaults_are_not_fit_for_production(env: dict[str, str]) -> None:
    code, output = _check({"MRS_DATA_DIR": env["MRS_DATA_DIR"]})
    assert code == 1
    assert "S001" in output  # no secret key configured
    assert "T001" in output  # HTTPS off
    assert "insecure setting(s) found" in output


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"MRS_SECRET_KEY": "short-key"}, "S002"),
        ({"MRS_SECRET_KEY": "changeme"}, "S002"),
        ({"MRS_SECRET_KEY": "test-secret-key-0123456789-0123456789-0123"}, "S003"),
        ({"MRS_PREVIOUS_SECRET_KEYS": "old"}, "S004"),
        ({"MRS_ACCESS_TOKEN_MINUTES": "10080"}, "S005"),
        ({"MRS_CERTFILE": "", "MRS_KEYFILE": ""}, "T001"),
        ({"MRS_CERTFILE": "", "MRS_KEYFILE": "", "MRS_HTTPS": "true"}, "T002"),
        ({"MRS_FORWARDED_ALLOW_IPS": "*"}, "P001"),
        ({"MRS_FORWARDED_ALLOW_IPS": "10.0.0.2, 0.0.0.0/0"}, "P001"),
        ({"MRS_TRUSTED_ORIGINS": "http://mrs.example.test"}, "C001"),
        ({"MRS_DEBUG": "true"}, "D001"),
        ({"MRS_ENABLE_TEST_ROUTES": "true"}, "D002"),
        ({"MRS_LOG_LEVEL": "debug"}, "D003"),
        ({"MRS_DATABASE_URL": "postgresql+psycopg://mrs:pw@db.example.test/mrs"}, "B001"),
        ({"MRS_SMTP_HOST": "mail.example.test", "MRS_SMTP_STARTTLS": "false"}, "M001"),
        ({"MRS_SMTP_HOST": ""}, "M002"),
        ({"MRS_SECRET_KEY": "a" * 64}, "S006"),
        ({"MRS_SECRET_KEY": "passwordpassword" * 3}, "S006"),
    ],
)
def test_each_insecure_setting_is_reported(
    env: dict[str, str], change: dict[str, str], finding: str
) -> None:
    code, output = _check({**env, **change})
    assert code == 1
    assert f"{finding}:" in output
    assert "fix:" in output


def test_tls_behind_a_trusted_proxy_is_accepted(env: dict[str, str]) -> None:
    code, output = _check(
        {**env, "MRS_CERTFILE": "", "MRS_KEYFILE": "", "MRS_FORWARDED_ALLOW_IPS": "10.0.0.2"}
    )
    assert code == 0, output


def test_certificate_problems_are_reported(env: dict[str, str], tmp_path: Path) -> None:
    self_signed = create_self_signed(tmp_path / "self")
    code, output = _check(
        {**env, "MRS_CERTFILE": str(self_signed.certfile), "MRS_KEYFILE": str(self_signed.keyfile)}
    )
    assert code == 1
    assert "T002:" in output

    expiring_cert, expiring_key = ca_signed_pair(tmp_path / "self", days=10)
    code, output = _check(
        {**env, "MRS_CERTFILE": str(expiring_cert), "MRS_KEYFILE": str(expiring_key)}
    )
    assert code == 1
    assert "T004:" in output

    Path(env["MRS_KEYFILE"]).chmod(0o644)
    code, output = _check(env)
    assert code == 1
    assert "T006:" in output


def test_a_secure_database_connection_is_not_reported(env: dict[str, str]) -> None:
    url = "postgresql+psycopg://mrs:pw@db.example.test/mrs?sslmode=verify-full"
    code, output = _check({**env, "MRS_DATABASE_URL": url})
    assert "B001" not in output
    # Unreachable from here: the check says it could not look inside, rather than pass.
    assert code == 1
    assert "B003:" in output


@pytest.mark.parametrize("tls", ["MRS_SMTP_STARTTLS", "MRS_SMTP_SSL"])
def test_smtp_with_tls_passes(env: dict[str, str], tls: str) -> None:
    code, output = _check({**env, "MRS_SMTP_HOST": "mail.example.test", tls: "true"})
    assert code == 0, output


def test_a_superuser_database_role_is_reported(env: dict[str, str], database_url: str) -> None:
    code, output = _check({**env, "MRS_DATABASE_URL": database_url})  # as postgres
    assert code == 1
    assert "B002:" in output


def test_active_demo_accounts_are_reported(env: dict[str, str], database_url: str) -> None:
    from mrs.cli import app as mrs

    loaded = CliRunner().invoke(mrs, ["demo"], env={**env, "MRS_DATABASE_URL": database_url})
    assert loaded.exit_code == 0, loaded.output
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("UPDATE usr SET status = 'DISABLED' WHERE user_id = 'bob'")
        admin.execute("UPDATE usr SET password_hash = 'changed' WHERE user_id = 'alice'")

    code, output = _check(env)

    assert code == 1
    assert "A001: Demo accounts are active: " in output
    assert "admin (demo password)" in output
    assert "alice" in output
    assert "alice (demo password)" not in output
    assert "bob" not in output


def test_https_given_on_the_command_line_counts(env: dict[str, str], tmp_path: Path) -> None:
    plain = {**env, "MRS_CERTFILE": "", "MRS_KEYFILE": ""}
    code, output = _check(plain, "--https")
    assert "T001" not in output  # HTTPS is on, with the self-signed pair
    assert "T002:" in output
    code, output = _check(plain, "--certfile", env["MRS_CERTFILE"], "--keyfile", env["MRS_KEYFILE"])
    assert code == 0, output


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_loose_modes_of_data_and_backups_are_reported(
    env: dict[str, str], tmp_path: Path, umask: int
) -> None:
    data = Path(env["MRS_DATA_DIR"])
    backups = data / "backups"
    backups.mkdir(parents=True)
    old = os.umask(umask)
    try:
        (backups / "mrs-20300101T000000000000Z.dump").write_bytes(b"dump")
        (data / "secret_key").write_text("x" * 64)
    finally:
        os.umask(old)
    data.chmod(0o755)
    backups.chmod(0o777 & ~umask)

    code, output = _check(env)

    assert code == 1
    assert "F001:" in output
    assert "F002:" in output
    assert "F003:" in output
    assert "mrs-20300101T000000000000Z.dump" in output
    assert "secret_key" in output
