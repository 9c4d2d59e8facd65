"""`mrs check --deploy`: every setting that is unsafe for a production deployment."""

from __future__ import annotations

import ipaddress
import math
import stat
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from mrs.settings import SECRET_KEY_FILE, Settings

MIN_SECRET_KEY_LENGTH = 32
# Bits estimated from the key itself (see _estimated_bits): 48 random url-safe bytes, as
# the hint suggests, give over 300; `openssl rand -hex 16` about 110; a repeated word or
# one character far less. Low enough that no random key of 32+ characters falls under it.
MIN_SECRET_KEY_BITS = 96
# Values people paste from examples; a key like these is as good as public.
_WELL_KNOWN_SECRETS = {"secret", "changeme", "change-me", "password", "development", "dev", "test"}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
MAX_TOKEN_MINUTES = 60 * 24
CERT_EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    """One insecure setting: a stable id, what is wrong, and how to fix it."""

    id: str
    message: str
    hint: str


def _secret_findings(settings: Settings) -> list[Finding]:
    findings = []
    key = settings.secret_key
    if not key:
        findings.append(
            Finding(
                "S001",
                "MRS_SECRET_KEY is not set: a key generated on this host is used, so "
                "processes on other hosts reject its tokens and a lost data directory "
                "logs everyone out.",
                "Set MRS_SECRET_KEY to a random value of at least 32 characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))").',
            )
        )
    elif len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in _WELL_KNOWN_SECRETS:
        findings.append(
            Finding(
                "S002",
                f"MRS_SECRET_KEY is too short or well known (fewer than "
                f"{MIN_SECRET_KEY_LENGTH} characters, or an example value).",
                "Use a random value of at least 32 characters.",
            )
        )
    elif _estimated_bits(key) < MIN_SECRET_KEY_BITS:
        findings.append(
            Finding(
                "S006",
                f"MRS_SECRET_KEY has little entropy (about {_estimated_bits(key):.0f} bits "
                "judged by its characters): it repeats itself or uses few characters.",
                "Use a random value of at least 32 characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))").',
            )
        )
    elif "test" in key.lower() or "insecure" in key.lower() or "example" in key.lower():
        findings.append(
            Finding(
                "S003",
                "MRS_SECRET_KEY looks like a test or example value.",
                "Use a random value generated for this deployment.",
            )
        )
    if any(len(old) < MIN_SECRET_KEY_LENGTH for old in settings.previous_secret_key_list):
        findings.append(
            Finding(
                "S004",
                "MRS_PREVIOUS_SECRET_KEYS holds a key shorter than 32 characters.",
                "Drop it: tokens it signed can be forged.",
            )
        )
    if settings.access_token_minutes > MAX_TOKEN_MINUTES:
        findings.append(
            Finding(
                "S005",
                f"MRS_ACCESS_TOKEN_MINUTES is {settings.access_token_minutes}: sessions "
                "last more than a day.",
                f"Use at most {MAX_TOKEN_MINUTES} minutes.",
            )
        )
    return findings


def _estimated_bits(key: str) -> float:
    """A rough upper bound of the key's entropy: its length times the Shannon entropy of
    its characters, or what zlib leaves of it when it repeats itself, whichever is less."""
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    compressed = len(zlib.compress(key.encode(), 9)) - len(zlib.compress(b"", 9))
    return min(per_char * len(key), 8.0 * compressed)


def _tls_findings(settings: Settings, now: datetime) -> list[Finding]:
    behind_proxy = bool(settings.forwarded_allow_ips.strip())
    if not settings.tls_enabled:
        if behind_proxy:
            return []  # TLS ends at the trusted proxy, which forwards X-Forwarded-Proto
        return [
            Finding(
                "T001",
                "HTTPS is off: passwords and session cookies travel in clear text.",
                "Set MRS_CERTFILE and MRS_KEYFILE (or run behind a TLS proxy and set "
                "MRS_FORWARDED_ALLOW_IPS to its address). If the service runs as "
                "`mrs serve --https` or with --certfile/--keyfile, give the same options "
                "to `mrs check --deploy`.",
            )
        ]
    if settings.certfile is None:
        return [
            Finding(
                "T002",
                "HTTPS uses a self-signed certificate: browsers warn, and users learn to "
                "click through warnings.",
                "Use a certificate from a CA your users trust (MRS_CERTFILE/MRS_KEYFILE).",
            )
        ]
    findings = []
    findings += _certificate_findings(settings.certfile, now)
    if settings.keyfile is not None:
        findings += _key_file_findings(settings.keyfile)
    return findings


def _certificate_findings(certfile: Path, now: datetime) -> list[Finding]:
    from mrs.security.certificates import is_self_signed, load_certificate

    try:
        certificate = load_certificate(certfile)
    except (OSError, ValueError) as exc:
        return [
            Finding("T003", f"The certificate {certfile} cannot be read: {exc}", "Fix the path.")
        ]
    findings = []
    expires = certificate.not_valid_after_utc
    if expires <= now + CERT_EXPIRY_WARNING:
        findings.append(
            Finding(
                "T004",
                f"The certificate expires on {expires:%Y-%m-%d} (within 30 days or already).",
                "Renew it.",
            )
        )
    if is_self_signed(certificate):
        findings.append(
            Finding(
                "T002",
                "HTTPS uses a self-signed certificate: browsers warn, and users learn to "
                "click through warnings.",
                "Use a certificate from a CA your users trust.",
            )
        )
    return findings


def _key_file_findings(keyfile: Path) -> list[Finding]:
    try:
        mode = keyfile.stat().st_mode
    except OSError as exc:
        return [Finding("T005", f"The key file {keyfile} cannot be read: {exc}", "Fix the path.")]
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            Finding(
                "T006",
                f"The private key {keyfile} is readable by other users "
                f"(mode {stat.S_IMODE(mode):o}).",
                f"chmod 600 {keyfile}",
            )
        ]
    return []


def _proxy_findings(settings: Settings) -> list[Finding]:
    entries = [e.strip() for e in settings.forwarded_allow_ips.split(",") if e.strip()]
    for entry in entries:
        if entry == "*":
            return [_wide_proxy_finding(entry)]
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue  # a literal such as a unix socket path
        # Wider than a /16 (IPv4) or /48 (IPv6) is "anyone on a big network".
        if network.prefixlen < (16 if network.version == 4 else 48):
            return [_wide_proxy_finding(entry)]
    return []


def _wide_proxy_finding(entry: str) -> Finding:
    return Finding(
        "P001",
        f"MRS_FORWARDED_ALLOW_IPS trusts {entry!r}: anyone there can claim any client "
        "address and HTTPS.",
        "List only the reverse proxies' own addresses.",
    )


def _origin_findings(settings: Settings) -> list[Finding]:
    plain = [o for o in settings.trusted_origin_list if o.lower().startswith("http://")]
    if plain:
        return [
            Finding(
                "C001",
                f"MRS_TRUSTED_ORIGINS allows plain-HTTP origins: {', '.join(plain)}.",
                "Allow only https:// origins.",
            )
        ]
    return []


def _debug_findings(settings: Settings) -> list[Finding]:
    findings = []
    if settings.debug:
        findings.append(
            Finding("D001", "MRS_DEBUG is on: errors may reveal internals.", "Unset MRS_DEBUG.")
        )
    if settings.enable_test_routes:
        findings.append(
            Finding(
                "D002",
                "MRS_ENABLE_TEST_ROUTES is on: test-only routes are reachable.",
                "Unset MRS_ENABLE_TEST_ROUTES.",
            )
        )
    if settings.log_level == "debug":
        findings.append(
            Finding(
                "D003",
                "MRS_LOG_LEVEL is debug: logs may hold request details.",
                "Use info or warning.",
            )
        )
    return findings


def _database_findings(settings: Settings) -> list[Finding]:
    if not settings.database_url:
        return []
    try:
        url = make_url(settings.database_url)
    except Exception:  # malformed URLs are reported by the database layer
        return []
    if not url.drivername.startswith("postgresql"):
        return []
    remote = (url.host or "") not in _LOCAL_HOSTS and not (url.host or "").startswith("/")
    sslmode = str(url.query.get("sslmode", ""))
    if remote and sslmode not in ("require", "verify-ca", "verify-full"):
        return [
            Finding(
                "B001",
                f"The database at {url.host} is reached without TLS (sslmode={sslmode or 'unset'}).",
                "Add ?sslmode=verify-full (or require) to MRS_DATABASE_URL.",
            )
        ]
    return []


def _smtp_findings(settings: Settings) -> list[Finding]:
    host = settings.smtp_host.strip()
    if not host:
        return [
            Finding(
                "M002",
                "No SMTP server is configured: registration, approval and alert mail stay "
                "in the outbox and nobody is told.",
                "Set MRS_SMTP_HOST (and MRS_SMTP_PORT, MRS_SMTP_STARTTLS, MRS_SMTP_USER, "
                "MRS_SMTP_PASSWORD); test with `mrs mail test you@example.com`.",
            )
        ]
    if host in _LOCAL_HOSTS or settings.smtp_starttls or settings.smtp_ssl:
        return []
    return [
        Finding(
            "M001",
            f"Mail goes to {host} without TLS: messages and the SMTP password travel in clear.",
            "Set MRS_SMTP_STARTTLS=true (port 587) or MRS_SMTP_SSL=true (port 465).",
        )
    ]


def _loose(path: Path) -> int | None:
    """The mode of `path` when others than its owner may use it, else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & (stat.S_IRWXG | stat.S_IRWXO) else None


def _file_mode_findings(settings: Settings) -> list[Finding]:
    findings = []
    directories = [
        ("F001", "data directory", settings.data_dir),
        ("F002", "backup directory", settings.effective_backup_dir),
    ]
    for finding_id, what, directory in directories:
        mode = _loose(directory)
        if mode is not None:
            findings.append(
                Finding(
                    finding_id,
                    f"The {what} {directory} is open to other users (mode {mode:o}); it "
                    "holds the database, the secret key or backups with password hashes.",
                    f"chmod 700 {directory}",
                )
            )
    files = [settings.data_dir / SECRET_KEY_FILE]
    if settings.effective_backup_dir.is_dir():
        files += sorted(settings.effective_backup_dir.glob("mrs-*"))
    loose = [(path, mode) for path in files if (mode := _loose(path)) is not None]
    if loose:
        shown = ", ".join(f"{path.name} ({mode:o})" for path, mode in loose[:5])
        more = f" and {len(loose) - 5} more" if len(loose) > 5 else ""
        findings.append(
            Finding(
                "F003",
                f"Secret files are readable by other users: {shown}{more}.",
                f"chmod 600 {loose[0][0].parent}/<file> (MRS writes new ones with mode 600)",
            )
        )
    return findings


def _live_database_findings(settings: Settings) -> list[Finding]:
    """What only the database can tell: demo accounts left active, a superuser role."""
    from mrs.accounts.models import User, UserStatus
    from mrs.accounts.passwords import verify_password
    from mrs.db.engine import make_sync_engine
    from mrs.demo import DEMO_LOGINS

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return []  # nothing deployed yet (and checking must not create the file)
    findings = []
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as connection:
            if url.get_backend_name() == "postgresql" and connection.scalar(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ):
                findings.append(
                    Finding(
                        "B002",
                        f"The service connects to PostgreSQL as the superuser {url.username}: "
                        "any SQL injection or stolen setting owns the whole server.",
                        "Connect as a role that owns only the MRS database (CREATEDB for "
                        "backups); see docs/operations/postgresql.md.",
                    )
                )
            demo = {login.user_id: login.password for login in DEMO_LOGINS}
            rows = connection.execute(
                select(User.user_id, User.password_hash).where(
                    User.user_id.in_(demo), User.status == UserStatus.ACTIVE.value
                )
            ).all()
    except SQLAlchemyError as exc:
        from mrs.db.errors import first_line
        from mrs.db.urls import redacted

        return [
            Finding(
                "B003",
                f"The database {redacted(settings.effective_database_url)} could not be "
                f"checked (demo accounts, superuser): {first_line(exc)}",
                "Run the check where the service runs, with its settings, after `mrs db upgrade`.",
            )
        ]
    finally:
        engine.dispose()
    if rows:
        names = ", ".join(
            row.user_id
            + (" (demo password)" if verify_password(row.password_hash, demo[row.user_id]) else "")
            for row in rows
        )
        findings.append(
            Finding(
                "A001",
                f"Demo accounts are active: {names}. Their passwords are printed by "
                "`mrs demo` and published in the documentation.",
                "Disable them on the admin users page (after creating your own admin with "
                "`mrs user create`).",
            )
        )
    return findings


def deploy_findings(settings: Settings, *, now: datetime | None = None) -> list[Finding]:
    """Every insecure setting, most important first; empty when the deployment is sound."""
    now = now or datetime.now(UTC)
    return [
        *_secret_findings(settings),
        *_tls_findings(settings, now),
        *_proxy_findings(settings),
        *_origin_findings(settings),
        *_debug_findings(settings),
        *_database_findings(settings),
        *_smtp_findings(settings),
        *_file_mode_findings(settings),
        *_live_database_findings(settings),
    ]
