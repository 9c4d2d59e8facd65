"""The `mrs` command line. Each subcommand calls into the package that owns the work."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from mrs.console import fail, settings_or_exit
from mrs.ops import cli as ops_cli
from mrs.settings import Settings, load_settings, write_serve_options

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="MRS: meeting-room reservations."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema and data.")
user_app = typer.Typer(no_args_is_help=True, help="User accounts.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
cert_app = typer.Typer(no_args_is_help=True, help="TLS certificates.")
app.add_typer(cert_app, name="cert")
mail_app = typer.Typer(no_args_is_help=True, help="Mail: test the SMTP set-up, see the outbox.")
app.add_typer(mail_app, name="mail")
audit_app = typer.Typer(no_args_is_help=True, help="The audit log: prune old rows.")
app.add_typer(audit_app, name="audit")
reports_app = typer.Typer(no_args_is_help=True, help="Reports: their summary of reservations.")
app.add_typer(reports_app, name="reports")
app.add_typer(ops_cli.backup_app, name="backup")
ops_cli.register_db_commands(db_app)


def _upgrade(settings: Settings) -> None:
    from sqlalchemy.exc import OperationalError

    from mrs.db.engine import make_sync_engine
    from mrs.db.errors import first_line
    from mrs.db.migrate import upgrade
    from mrs.db.urls import redacted

    engine = make_sync_engine(settings)
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise fail(
            f"cannot reach the database {redacted(settings.effective_database_url)}: "
            f"{first_line(exc)}"
        ) from exc
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    settings = settings_or_exit()
    _upgrade(settings)
    typer.echo("database schema is up to date")


def _load_demo(settings: Settings) -> bool:
    from mrs.clock import system_clock
    from mrs.db.engine import make_sync_engine
    from mrs.demo import load_demo_data

    engine = make_sync_engine(settings)
    try:
        return load_demo_data(engine, settings, now=system_clock())
    finally:
        engine.dispose()


def _print_demo_logins(settings: Settings) -> None:
    """Print the demo logins that still work (none once their passwords were changed)."""
    from mrs.db.engine import make_sync_engine
    from mrs.demo import working_demo_logins

    engine = make_sync_engine(settings)
    try:
        logins = working_demo_logins(engine)
    finally:
        engine.dispose()
    if not logins:
        return
    typer.echo("Demo logins:")
    for login in logins:
        typer.echo(
            f"  {login.role.value:<5}  user id: {login.user_id:<6}  password: {login.password}"
        )


@app.command()
def demo() -> None:
    """Load demo rooms (open for the coming weeks) and demo users into an empty database."""
    settings = settings_or_exit()
    _upgrade(settings)
    if _load_demo(settings):
        typer.echo("demo data loaded")
        _print_demo_logins(settings)
    else:
        typer.echo("the database already has users; demo data not loaded")


def _prepare_metrics_dir(settings: Settings) -> None:
    """A fresh prometheus-client multiprocess directory, so /metrics counts every worker.

    Set before uvicorn starts (and before anything imports prometheus_client): the
    library picks its storage at import, and the workers inherit the environment.
    """
    from mrs.monitoring.multiproc import prepare_multiprocess_dir

    prepare_multiprocess_dir(settings.ensure_data_dir() / "metrics")


def _port_problem(host: str, port: int) -> str | None:
    """Why `port` on `host` cannot be listened on (in use, not allowed), or None."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except OSError as exc:
        return f"cannot listen on {host}: {exc.strerror or exc}"
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by an earlier run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use by another program"
            if exc.errno == errno.EACCES:
                return (
                    f"port {port} on {host} is not allowed for this user "
                    "(ports below 1024 need CAP_NET_BIND_SERVICE)"
                )
            return f"cannot listen on {host} port {port}: {exc.strerror or exc}"
    return None


def _check_ports_free(settings: Settings) -> None:
    """Fail with the busy port and the option that moves it, before saying we run."""
    if settings.tls_enabled:
        listeners = [(settings.https_port, "--port N (or MRS_HTTPS_PORT)")]
        if settings.redirect_port:
            listeners.append(
                (
                    settings.redirect_port,
                    "--redirect-port N, or --redirect-port 0 for no redirect "
                    "(or MRS_REDIRECT_PORT)",
                )
            )
    else:
        listeners = [(settings.port, "--port N (or MRS_PORT)")]
    for port, option in listeners:
        problem = _port_problem(settings.host, port)
        if problem is not None:
            raise fail(f"{problem}; pick another port with {option}")


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on (0.0.0.0: every interface).",
            show_default="127.0.0.1, or MRS_HOST",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on (with TLS: the HTTPS port).",
            show_default="8000, with TLS 8443; or MRS_PORT / MRS_HTTPS_PORT",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes.", show_default="1, or MRS_WORKERS"),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data into an empty database.")
    ] = False,
    https: Annotated[
        bool,
        typer.Option(
            "--https", help="Serve HTTPS; without --certfile a self-signed pair is made once."
        ),
    ] = False,
    certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate chain (PEM); turns HTTPS on.")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    redirect_port: Annotated[
        int | None,
        typer.Option(
            help="With TLS: plain-HTTP port that redirects to HTTPS (0: none).",
            show_default="8080, or MRS_REDIRECT_PORT",
        ),
    ] = None,
) -> None:
    """Run the service (migrating the database first)."""
    base = settings_or_exit()
    tls = https or certfile is not None or base.tls_enabled
    flags: dict[str, object] = {
        "host": host,
        "https_port" if tls else "port": port,
        "workers": workers,
        "https": True if https else None,
        "certfile": certfile.resolve() if certfile else None,
        "keyfile": keyfile.resolve() if keyfile else None,
        "redirect_port": redirect_port,
    }
    overrides = {name: value for name, value in flags.items() if value is not None}
    try:
        settings = load_settings(**overrides)
    except ValueError as exc:
        raise fail(f"invalid settings: {exc}", 2) from exc
    # The workers read these back (mrs.app.app_from_environment) instead of inheriting
    # them through os.environ.
    write_serve_options(settings, overrides)
    if settings.certfile is not None and settings.keyfile is None:
        raise fail("--keyfile is needed with --certfile", 2)
    _check_ports_free(settings)
    ops_cli.recover_on_start(settings)
    _upgrade(settings)
    from mrs.db.urls import redacted

    _prepare_metrics_dir(settings)
    typer.echo(f"database: {redacted(settings.effective_database_url)}")
    if demo:
        if not _load_demo(settings):
            typer.echo("demo data not loaded: the database already has users")
        _print_demo_logins(settings)
    if settings.tls_enabled:
        from mrs.security.serving import serve_https

        redirect = (
            f"http://{settings.host}:{settings.redirect_port}/ redirects to it"
            if settings.redirect_port
            else ""
        )
        typer.echo(
            f"MRS is running at https://{settings.host}:{settings.https_port}/"
            f"{_docs_note(settings, redirect)}"
        )
        sys.stdout.flush()
        serve_https(settings)
        return
    import uvicorn

    from mrs.security.serving import APP_FACTORY, uvicorn_options

    typer.echo(f"MRS is running at http://{settings.host}:{settings.port}/{_docs_note(settings)}")
    sys.stdout.flush()
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        **uvicorn_options(settings),
    )


def _docs_note(settings: Settings, extra: str = "") -> str:
    docs = "API docs: /api/docs" if settings.api_docs_enabled else ""
    text = "; ".join(part for part in (docs, extra) if part)
    return f"  ({text})" if text else ""


@app.command()
def openapi(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the spec.")] = Path(
        "docs/openapi.json"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the file is up to date.")
    ] = False,
) -> None:
    """Write the HTTP API's OpenAPI spec as JSON (deterministic output)."""
    from mrs.app import spec_app
    from mrs.http import openapi as spec

    api = spec_app()
    if check:
        if not spec.is_current(api, output):
            raise fail(f"{output} is stale: run `mrs openapi --output {output}`")
        typer.echo(f"{output} is up to date")
        return
    changed = spec.write(api, output)
    typer.echo(f"{output} {'written' if changed else 'already up to date'}")


@user_app.command("create")
def user_create(
    user_id: Annotated[str, typer.Argument(help="The new user's id.")],
    email: Annotated[str, typer.Option(help="Email address.")],
    first_name: Annotated[str, typer.Option(help="First name.")],
    last_name: Annotated[str, typer.Option(help="Last name.")],
    role: Annotated[str, typer.Option(help="ADMIN or USER.")] = "USER",
) -> None:
    """Create an active user. The password comes from MRS_PASSWORD or a prompt, never argv."""
    from mrs.accounts import users
    from mrs.accounts.models import Role
    from mrs.clock import system_clock
    from mrs.db.engine import Database
    from mrs.errors import DomainError

    try:
        role_value = Role(role.upper())
    except ValueError as exc:
        raise fail("--role must be ADMIN or USER", 2) from exc
    password = os.environ.get("MRS_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = settings_or_exit()
    _upgrade(settings)

    async def run() -> None:
        db = Database(settings)
        try:
            await users.create_user(
                db,
                user_id=user_id,
                password=password,
                email=email,
                first_name=first_name,
                last_name=last_name,
                role=role_value,
                now=system_clock(),
            )
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except DomainError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"user {user_id.lower()} created ({role_value.value})")


@cert_app.command("create")
def cert_create(
    out: Annotated[Path, typer.Option("--out", help="Directory for cert.pem and key.pem.")],
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Host name or IP address (repeatable)."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of validity.")] = 397,
    p12: Annotated[bool, typer.Option("--p12", help="Also write keystore.p12 (PKCS#12).")] = False,
) -> None:
    """Create a self-signed certificate (default hosts: localhost and 127.0.0.1).

    The PKCS#12 password comes from MRS_KEYSTORE_PASSWORD or a prompt, never argv.
    """
    from mrs.security.certificates import DEFAULT_HOSTS, create_self_signed

    password = None
    if p12:
        password = os.environ.get("MRS_KEYSTORE_PASSWORD") or typer.prompt(
            "Keystore password", hide_input=True, confirmation_prompt=True
        )
    try:
        pair = create_self_signed(
            out, hosts=tuple(host or DEFAULT_HOSTS), days=days, p12_password=password
        )
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"certificate: {pair.certfile}")
    typer.echo(f"private key: {pair.keyfile} (mode 600)")
    if pair.p12file:
        typer.echo(f"PKCS#12 keystore: {pair.p12file} (mode 600)")


@app.command()
def check(
    deploy: Annotated[
        bool, typer.Option("--deploy", help="Also list settings unsafe for production.")
    ] = False,
    https: Annotated[
        bool, typer.Option("--https", help="The service runs as `mrs serve --https`.")
    ] = False,
    certfile: Annotated[
        Path | None, typer.Option(help="The --certfile the service is started with.")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option(help="The --keyfile the service is started with.")
    ] = None,
) -> None:
    """Check the settings; with --deploy, exit non-zero when any is insecure.

    Give it the TLS options `mrs serve` is started with: they count like settings.
    """
    given = {"https": https or None, "certfile": certfile, "keyfile": keyfile}
    try:
        settings = load_settings(**{k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise fail(f"invalid settings: {exc}", 2) from exc
    if not deploy:
        typer.echo("settings are valid")
        return
    from mrs.security.deploy_check import deploy_findings

    findings = deploy_findings(settings)
    for finding in findings:
        typer.secho(f"{finding.id}: {finding.message}", fg=typer.colors.YELLOW)
        typer.echo(f"      fix: {finding.hint}")
    if findings:
        typer.secho(f"{len(findings)} insecure setting(s) found.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo("no insecure settings found")


@mail_app.command("test")
def mail_test(
    address: Annotated[str, typer.Argument(help="Where to send the test message.")],
) -> None:
    """Send a test message now, directly over SMTP (not through the outbox)."""
    from mrs.clock import system_clock
    from mrs.notifications.sender import Mail, MailError, send_now, smtp_configured

    settings = settings_or_exit()
    if not smtp_configured(settings):
        raise fail("no SMTP server is configured: set MRS_SMTP_HOST (and MRS_SMTP_PORT, ...)", 2)
    mail = Mail(
        mail_id=None,
        recipient=address,
        subject="MRS test message",
        body="This is a test message from MRS. Mail delivery works.\n",
    )
    try:
        asyncio.run(send_now(settings, mail, now=system_clock()))
    except MailError as exc:
        raise fail(f"sending failed: {exc}") from exc
    typer.echo(f"test message sent to {address} via {settings.smtp_host}:{settings.smtp_port}")


@mail_app.command("status")
def mail_status() -> None:
    """Show the outbox: messages by state and the age of the oldest unsent one."""
    from mrs.db.engine import Database
    from mrs.notifications.service import outbox_summary

    settings = settings_or_exit()
    _upgrade(settings)

    async def run() -> dict[str, int]:
        db = Database(settings)
        try:
            return await outbox_summary(db)
        finally:
            await db.dispose()

    for key, value in asyncio.run(run()).items():
        typer.echo(f"{key:<24} {value}")


@user_app.command("set-password")
def user_set_password(
    user_id: Annotated[str, typer.Argument(help="The user whose password to set.")],
) -> None:
    """Set a user's password and end all their sessions (audited as done by the CLI).

    The password comes from MRS_PASSWORD or a prompt, never argv."""
    from mrs.accounts import password_reset
    from mrs.clock import system_clock
    from mrs.db.engine import Database
    from mrs.errors import DomainError

    password = os.environ.get("MRS_PASSWORD") or typer.prompt(
        "New password", hide_input=True, confirmation_prompt=True
    )
    settings = settings_or_exit()
    _upgrade(settings)

    async def run() -> int:
        db = Database(settings)
        try:
            return await password_reset.set_password(
                db, user_id=user_id, password=password, now=system_clock()
            )
        finally:
            await db.dispose()

    try:
        ended = asyncio.run(run())
    except DomainError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"password of {user_id.lower()} set; {ended} session(s) ended")


@audit_app.command("prune")
def audit_prune(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=1,
            help="Delete rows older than this many days (default: MRS_AUDIT_RETENTION_DAYS).",
        ),
    ] = None,
) -> None:
    """Delete audit rows older than the retention period; the prune is itself recorded."""
    from mrs.audit import service as audit
    from mrs.clock import system_clock
    from mrs.db.engine import Database

    settings = settings_or_exit()
    _upgrade(settings)
    days = older_than_days or settings.audit_retention_days

    async def run() -> int:
        db = Database(settings)
        try:
            return await audit.prune(db, older_than_days=days, now=system_clock())
        finally:
            await db.dispose()

    removed = asyncio.run(run())
    typer.echo(f"audit log: {removed} rows older than {days} days deleted")


@reports_app.command("rebuild")
def reports_rebuild() -> None:
    """Recompute the reports' summary from every reservation (triggers keep it exact;
    this is for after a repair by hand). Bookings wait while it runs."""
    from mrs.db.engine import make_sync_engine
    from mrs.reports import summary

    settings = settings_or_exit()
    _upgrade(settings)
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as connection:
            rebuilt = summary.rebuild(connection)
    finally:
        engine.dispose()
    typer.echo(
        f"reports summary rebuilt: {rebuilt.room_days} room-days, "
        f"{rebuilt.user_days} user-days, {rebuilt.hour_days} hour-days"
    )


def main() -> None:
    app()
