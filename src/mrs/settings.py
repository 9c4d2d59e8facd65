"""One Settings object for the whole service; nothing else reads the environment."""

from __future__ import annotations

import json
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
SQLITE_FILE = "mrs.sqlite3"


class Settings(BaseSettings):
    """Service settings, read from `MRS_*` environment variables and an optional `.env`."""

    model_config = SettingsConfigDict(env_prefix="MRS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("mrs")))
    database_url: str = ""
    slot_minutes: int = 30
    timezone: str = "Asia/Tokyo"
    secret_key: str = ""
    access_token_minutes: int = Field(default=60 * 8, ge=1, le=60 * 24 * 30)
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=200)
    # One time budget per request, the request deadline (MRS_REQUEST_TIMEOUT_SECONDS, 10 s):
    # a statement is cancelled by the server before it (so a request stuck behind a lock
    # gets a clear answer and gives its connection back), and a request waits for a pooled
    # connection as long as the deadline allows; a shorter wait turned busy moments, when
    # another request legitimately held the connection, into 503s.
    pool_timeout_seconds: float = Field(default=10.0, gt=0)
    statement_timeout_ms: int = Field(default=8_000, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    debug: bool = False
    # Periodic jobs (outbox, alerts, backups) run inside `mrs serve`; tests drive them directly.
    run_background_jobs: bool = True
    # Test hooks are only ever enabled by the test suite.
    enable_test_routes: bool = False

    # --- accounts ---
    # Sessions: a token dies after this long without a request, or this long after login.
    session_idle_minutes: int = Field(default=120, ge=1, le=60 * 24 * 30)
    session_absolute_minutes: int = Field(default=60 * 12, ge=1, le=60 * 24 * 90)
    # Login throttling: this many failed logins within the window refuse further attempts
    # (per account, and per client address) until the window has passed.
    login_max_failures_per_account: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_address: int = Field(default=20, ge=1, le=100_000)
    login_failure_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Login attempts and ended sessions are kept this long (statistics), then pruned.
    login_history_days: int = Field(default=90, ge=1, le=3650)
    # Audit log rows are kept at least this long; `mrs audit prune` removes older ones.
    audit_retention_days: int = Field(default=730, ge=1, le=36500)
    # Mail (SMTP). No host: messages stay in the outbox and are logged, never lost.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "mrs@localhost"
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False)  # never shown in logs or reprs
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # Comma-separated; empty means the email addresses of the active ADMIN users.
    admin_notification_emails: str = ""
    mail_outbox_interval_seconds: float = Field(default=10.0, gt=0, le=3600)
    mail_max_attempts: int = Field(default=12, ge=1, le=100)
    mail_retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    mail_retry_max_seconds: float = Field(default=3600.0, gt=0, le=86400)
    mail_batch_size: int = Field(default=50, ge=1, le=1000)
    # --- accounts: hardening (registration flood, mail bomb, unclear mail outcomes) ---
    # Self-registration: off entirely, or only for these email domains (comma-separated,
    # e.g. "example.com,example.co.jp"; empty = any domain).
    registration_enabled: bool = True
    registration_allowed_domains: str = ""
    # Registration attempts (any outcome, including "ID taken") per client address and per
    # email domain within the window; more get 429. Generous per domain: a whole company
    # registers under one domain when MRS is rolled out.
    registration_max_per_address: int = Field(default=10, ge=1, le=100_000)
    registration_max_per_domain: int = Field(default=50, ge=1, le=1_000_000)
    registration_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # Password reset by mail: a link is valid this long; "forgot password" requests are
    # throttled per client address and per account (the id or email typed, existing or
    # not) within the window.
    password_reset_minutes: int = Field(default=30, ge=1, le=24 * 60)
    password_reset_max_per_address: int = Field(default=10, ge=1, le=100_000)
    password_reset_max_per_account: int = Field(default=3, ge=1, le=1000)
    password_reset_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # At most this many mails are queued for one recipient within the window; the rest
    # are dropped (logged and counted in mrs_mail_suppressed_total), never sent.
    mail_max_per_recipient: int = Field(default=20, ge=1, le=100_000)
    mail_recipient_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # A message whose DATA had been sent but got no final answer (timeout, dropped
    # connection) has probably arrived: it is sent at most this many times in all.
    mail_max_unclear_attempts: int = Field(default=2, ge=1, le=10)

    # --- end accounts ---

    # --- security ---
    # TLS: a certificate and key (PEM); `https` alone serves a self-signed pair kept in
    # the data directory. With TLS on, `https_port` serves the app and `redirect_port`
    # (0 = off) answers plain HTTP with a 308 to HTTPS.
    https: bool = False
    certfile: Path | None = None
    keyfile: Path | None = None
    https_port: int = Field(default=8443, ge=1, le=65535)
    redirect_port: int = Field(default=8080, ge=0, le=65535)
    # Addresses (IPs or CIDR networks, comma-separated) of reverse proxies whose
    # X-Forwarded-Proto/-For headers are trusted. Empty: trust nobody.
    forwarded_allow_ips: str = ""
    # Older secret keys (comma-separated) still accepted to verify tokens after a rotation,
    # until the tokens they signed expire. Only the current key signs.
    previous_secret_keys: str = ""
    # Extra origins (scheme://host[:port], comma-separated) allowed to post forms, e.g. the
    # public URL when a proxy rewrites the Host header.
    trusted_origins: str = ""
    # HSTS max-age in seconds (two years, as Mozilla recommends).
    hsts_max_age: int = Field(default=63_072_000, ge=0)

    @field_validator("certfile", "keyfile", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        # MRS_CERTFILE= (empty) means "no certificate", not the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def tls_enabled(self) -> bool:
        return self.https or self.certfile is not None

    @property
    def previous_secret_key_list(self) -> list[str]:
        return [key.strip() for key in self.previous_secret_keys.split(",") if key.strip()]

    @property
    def trusted_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.trusted_origins.split(",") if o.strip()]

    # --- end security ---

    # --- HTTP edge: request limits, trusted hosts, API docs ---
    # Largest request body (bytes). A bigger declared one gets 413 before it is read; a
    # streamed (chunked) one is cut off with 413 as soon as it passes the limit. No route
    # takes uploads, so one limit fits every route.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)
    # Seconds a connection may take to send a request's headers (from connecting, or from
    # the previous response); then it is closed. Stops slow-loris clients holding sockets.
    header_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # Largest request head (request line + headers, bytes) before the connection is closed.
    max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    # Seconds a client may take to send a request's whole body once its headers arrived;
    # then 408 and the connection is closed.
    body_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Seconds an idle keep-alive connection stays open between requests.
    keep_alive_seconds: int = Field(default=5, ge=1, le=600)
    # Connections (or requests in progress) per worker beyond which new requests get 503.
    max_connections: int = Field(default=1000, ge=1, le=100_000)
    # Host names (comma-separated; `*.example.com` for subdomains) this site answers to.
    # Set: a request for any other Host gets 400. Empty: every Host is served, but only
    # MRS_HOST, localhost, 127.0.0.1, ::1, the certificate's names and the hosts of
    # MRS_TRUSTED_ORIGINS are ever written into a redirect.
    allowed_hosts: str = ""
    # The API docs (/api/docs, /api/openapi.json). Unset: on, unless the service is
    # exposed (see `exposed`), where they only help strangers map the API.
    api_docs: bool | None = None

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def exposed(self) -> bool:
        """True when others can reach the service: it listens beyond the loopback
        interface, or a reverse proxy forwards to it (MRS_FORWARDED_ALLOW_IPS)."""
        local = self.host.strip().lower() in ("localhost", "127.0.0.1", "::1", "[::1]")
        return not local or bool(self.forwarded_allow_ips.strip())

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.exposed

    # --- end HTTP edge ---

    # --- monitoring ---
    # A bearer token for machines (load balancers, Prometheus) to read /health details and
    # /metrics without a user account. Empty: only admins can.
    management_token: str = Field(default="", repr=False)
    # HTTP request metrics on the hot path; off only to measure their overhead.
    http_metrics_enabled: bool = True
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True
    health_db_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    alert_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    # No repeat of the same alert within this many seconds (reminders while it stays firing).
    alert_cooldown_seconds: float = Field(default=3600.0, ge=0)
    # The window for error rate and p95 response time.
    alert_window_seconds: float = Field(default=300.0, gt=0, le=86_400)
    alert_memory_percent: float = Field(default=90.0, gt=0, le=100)
    alert_response_seconds: float = Field(default=5.0, gt=0)
    alert_error_rate: float = Field(default=0.05, gt=0, le=1)
    # The error-rate rule needs this many requests in the window (no alert on 1 of 2 failing).
    alert_error_min_requests: int = Field(default=20, ge=1)
    alert_disk_free_percent: float = Field(default=10.0, ge=0, le=100)
    alert_backup_max_age_hours: float = Field(default=26.0, gt=0)
    alert_webhook_url: str = ""
    alert_webhook_retries: int = Field(default=3, ge=0, le=10)
    alert_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Comma-separated addresses that get alert mail through the outbox.
    alert_email_to: str = ""
    # Samples of the request metrics kept for the dashboard's charts and windows.
    monitoring_sample_retention_hours: float = Field(default=48.0, gt=0)
    # --- end monitoring ---

    # --- database faults and request deadlines ---
    # Every request is answered within this many seconds: past it, 503 with Retry-After
    # (a database that stops answering must not hold requests for minutes).
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # libpq connect_timeout: how long opening a connection may take (libpq's minimum is 2).
    database_connect_timeout_seconds: int = Field(default=3, ge=2, le=300)
    # TCP keepalive on every database connection: first probe after this many idle seconds,
    # then every this many seconds, 3 probes: a silently dead peer is noticed in ~4x this.
    database_keepalive_seconds: int = Field(default=10, ge=1, le=3600)
    # TCP_USER_TIMEOUT: a connection whose sent data stays unacknowledged this long is
    # closed by the kernel (packets dropped on the way); 0 leaves the kernel default.
    database_tcp_user_timeout_ms: int = Field(default=10_000, ge=0, le=3_600_000)
    # The request path's pool stops retrying a failed connection after this many seconds
    # and connects afresh on the next request, so it recovers as soon as the database is
    # back instead of after a growing back-off (1, 2, 4, 8 s ...).
    database_reconnect_seconds: float = Field(default=0.5, gt=0, le=300)
    # --- end database faults ---

    # --- ops: backups and data copy ---
    # Where backups go; empty means `backups/` in the data directory.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=5, ge=1, le=1000)
    # Cron syntax, evaluated in MRS_TIMEZONE (the site's local time).
    backup_schedule: str = "0 3 * * *"
    backup_drill_schedule: str = "30 4 1 * *"
    backup_enabled: bool = True
    # After a failed scheduled backup, try again this many minutes later (not every minute).
    backup_retry_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # The database to back up; empty means MRS_DATABASE_URL (set it to use a dedicated role).
    backup_database_url: str = ""
    # Directory holding pg_dump/pg_restore; empty means the newest installed, then PATH.
    pg_bin_dir: Path | None = None
    # A backup_run still RUNNING after this long belongs to a process that died (on this
    # host a dead process is noticed at once): it is marked FAILED, so the alert fires.
    backup_stale_run_minutes: int = Field(default=360, ge=1, le=7 * 24 * 60)
    # Test hook only: comma-separated pause points (mrs.ops.pause) where an operation
    # stops so a test can kill it there. Never set in production.
    test_pause_at: str = ""

    @field_validator("backup_schedule", "backup_drill_schedule")
    @classmethod
    def _cron_expression(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r} (e.g. '0 3 * * *')")
        return value

    @property
    def effective_backup_dir(self) -> Path:
        """Where backups are written: MRS_BACKUP_DIR or `backups/` in the data directory."""
        return self.backup_dir or self.data_dir / "backups"

    def ensure_backup_dir(self) -> Path:
        """The backup directory, created if needed, readable by the service's user only."""
        return private_directory(self.effective_backup_dir)

    @property
    def effective_backup_database_url(self) -> str:
        return self.backup_database_url or self.effective_database_url

    # --- end ops ---

    # --- web ---
    # The hours a room's day grid shows by default; reservations outside still appear.
    web_day_start_hour: int = Field(default=8, ge=0, le=23)
    web_day_end_hour: int = Field(default=20, ge=1, le=24)

    # --- end web ---

    # --- reservations ---
    # An Idempotency-Key on POST /api/rooms/{id}/reservations is remembered this many hours:
    # a retry within it gets the first answer, never a second booking. Older keys are pruned
    # (hourly) and a reused old key counts as a new request.
    idempotency_key_hours: int = Field(default=24, ge=1, le=24 * 30)
    # A recurring series may reach this many days past its first date, and hold at most
    # this many occurrences; a rule asking for more is refused (422), never cut short.
    series_horizon_days: int = Field(default=730, ge=1, le=3660)
    series_max_occurrences: int = Field(default=500, ge=1, le=5000)
    # A booking waiting for approval this long reminds the room's managers (admins when
    # it has none), at most once per such period.
    approval_remind_after_minutes: int = Field(default=1440, ge=1, le=60 * 24 * 30)
    # --- end reservations ---

    # --- calendars: invitation mail, reminders, feeds ---
    # How often the invitation job turns recorded reservation changes into mail (outbox).
    calendar_mail_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    # How often the reminder job looks for meetings about to start.
    reminder_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Invitations and reminders have their own per-recipient cap within
    # MRS_MAIL_RECIPIENT_WINDOW_MINUTES: a busy person's day of bookings must not meet the
    # cap meant for registration mail, yet a mail bomb through meetings still ends.
    calendar_mail_max_per_recipient: int = Field(default=200, ge=1, le=100_000)
    # A calendar feed holds meetings from this many days back (and everything ahead).
    calendar_feed_days_back: int = Field(default=30, ge=0, le=366)
    # The address people open MRS at (e.g. https://rooms.example.com), for links in mail
    # sent by jobs, which have no request to take it from. Empty: this server's own
    # address (scheme, host and port of `mrs serve`).
    public_url: str = ""
    # --- end calendars ---

    # --- rooms: opening rules ---
    # Public holidays of this country (ISO 3166 code, e.g. "JP") stay closed in rooms whose
    # rule says so; empty: no public holidays at all.
    holiday_country: str = "JP"
    # The daily job keeps rooms that open automatically opened this many days ahead.
    open_days_ahead: int = Field(default=180, ge=1, le=366)
    # The opening rule a NEW room gets unless the admin gives another: ISO weekdays as
    # digits (1 = Monday), and the bookable hours ("HH:MM", 24:00 allowed as the end).
    room_default_weekdays: str = "12345"
    room_default_open: str = "08:00"
    room_default_close: str = "20:00"
    # --- end rooms ---

    # --- policies: site-wide booking limits (a room's policy may depart from them) ---
    # Longest booking in minutes; unset: no limit.
    policy_max_minutes: int | None = Field(default=None, ge=1, le=60 * 24)
    # How many days ahead a booking may start (0: today only); unset: no limit beyond the
    # dates a room is open (MRS_OPEN_DAYS_AHEAD opens them automatically, but an admin
    # may open dates further ahead by hand, and those stay bookable as before).
    policy_max_days_ahead: int | None = Field(default=None, ge=0, le=3660)
    # How many minutes before its start a booking must be made.
    policy_min_notice_minutes: int = Field(default=0, ge=0, le=60 * 24 * 366)
    # Quotas per user (a group's quota or an admin's override takes their place); unset:
    # no limit. Future reservations counts active ones not yet ended; hours are per ISO
    # week (Monday to Sunday in MRS_TIMEZONE).
    policy_max_future_reservations: int | None = Field(default=None, ge=0, le=100_000)
    policy_max_hours_per_week: int | None = Field(default=None, ge=0, le=7 * 24)
    # Check-in in rooms whose policy requires it: minutes after the start a booking stays
    # held without a check-in (a room's policy may give its own), after which the release
    # job frees the slot; and how many minutes before the start check-in opens.
    policy_checkin_grace_minutes: int = Field(default=15, ge=0, le=24 * 60)
    checkin_opens_minutes: int = Field(default=10, ge=0, le=24 * 60)
    # --- end policies ---

    @field_validator("slot_minutes")
    @classmethod
    def _slot_divides_day(cls, value: int) -> int:
        if value <= 0 or 1440 % value != 0 or value % 5 != 0:
            raise ValueError(
                "MRS_SLOT_MINUTES must be a multiple of 5 that divides a day (e.g. 15, 30, 60)"
            )
        return value

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        value = value.strip().upper()
        if value:
            from holidays import list_supported_countries

            if value not in list_supported_countries():
                raise ValueError(f"no public holidays known for country {value!r} (e.g. JP)")
        return value

    @field_validator("room_default_weekdays")
    @classmethod
    def _iso_weekday_digits(cls, value: str) -> str:
        days = sorted(set(value.strip()))
        if not days or any(day not in "1234567" for day in days):
            raise ValueError("MRS_ROOM_DEFAULT_WEEKDAYS: ISO weekday digits, e.g. 12345")
        return "".join(days)

    @field_validator("room_default_open", "room_default_close")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"not a time {value!r} (HH:MM, e.g. 08:00)")
        if int(minutes) > 59 or int(hours) * 60 + int(minutes) > 1440:
            raise ValueError(f"not a time of day {value!r} (00:00 to 24:00)")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _site_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return ""
        scheme, _, rest = value.partition("://")
        if scheme.lower() not in ("http", "https") or not rest or any(c in rest for c in "?# "):
            raise ValueError(f"MRS_PUBLIC_URL: not a site address {value!r} (https://host[/path])")
        return value

    @property
    def site_url(self) -> str:
        """The site's base address for links in mail, without a trailing slash."""
        if self.public_url:
            return self.public_url
        if self.tls_enabled:
            return f"https://{self.host}:{self.https_port}"
        return f"http://{self.host}:{self.port}"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / SQLITE_FILE}"

    def ensure_data_dir(self) -> Path:
        """The data directory, created if needed, readable by the service's user only."""
        return private_directory(self.data_dir)

    @cached_property
    def effective_secret_key(self) -> str:
        """The secret key: from settings, or generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / SECRET_KEY_FILE
        if not path.exists():
            # O_EXCL: two processes starting together must not both write a key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            except FileExistsError:
                pass
            else:
                os.fchmod(fd, PRIVATE_FILE_MODE)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


# Backups hold password hashes, emails and session ids; the data directory holds the
# secret key and the SQLite database: nobody but the service's user may read them.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700, whatever the umask.

    A directory that exists with looser modes is tightened too; one we may not change
    (another owner) is left for `mrs check --deploy` to report.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    try:
        if path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
            path.chmod(PRIVATE_DIR_MODE)
    except PermissionError:
        pass
    return path


def create_private_file(path: Path) -> None:
    """Create `path` empty (or truncate it) with mode 0600, whatever the umask.

    Made before a tool such as pg_dump writes into it, so its content is never readable
    by others, not even for the moment before a chmod.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)


# `mrs serve` writes its command-line options here for its worker processes: uvicorn
# starts workers from an import string, so they cannot be handed a Settings object, and
# the options must not leak into the environment of everything else the process runs.
SERVE_OPTIONS_FILE = "serve-options.json"


def write_serve_options(settings: Settings, overrides: dict[str, object]) -> None:
    """Keep `mrs serve`'s options (0600: paths only, but beside the secrets) for its workers."""
    path = settings.ensure_data_dir() / SERVE_OPTIONS_FILE
    text = json.dumps({name: str(value) for name, value in overrides.items()}, sort_keys=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def serve_settings() -> Settings:
    """The settings of a `mrs serve` worker: the environment plus the options it was given."""
    settings = load_settings()
    path = settings.data_dir / SERVE_OPTIONS_FILE
    if not path.exists():
        return settings
    return load_settings(**json.loads(path.read_text(encoding="utf-8")))


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
