"""The ops package's shape: one backup flow over per-dialect strategies, one helper for
each shared job (driver error lines, file locks), and no package below ops reaching up."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

import mrs
from mrs.settings import Settings

# The package under test, wherever it is imported from.
SRC = Path(mrs.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_security_does_not_import_ops() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(m for m in _imports(path) if m.startswith("mrs.ops"))
        for path in (SRC / "security").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_file_lock_module_calls_flock() -> None:
    users = sorted(
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if "fcntl" in _imports(path)
    )
    assert users == ["db/filelock.py"]


def test_first_line_is_defined_once() -> None:
    definitions = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == "first_line"
    )
    assert definitions == ["db/errors.py"]


def test_first_line_of_a_real_driver_error_is_one_line_without_the_sql() -> None:
    from mrs.db.errors import first_line

    # A port nobody listens on: a real connection refusal from psycopg.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=2")
    try:
        with pytest.raises(OperationalError) as failure, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    line = first_line(failure.value)
    assert isinstance(failure.value.orig, psycopg.OperationalError)
    assert "\n" not in line
    assert str(port) in line
    assert "SELECT" not in line
    assert "Background on this error" not in line
    assert first_line(ValueError("")) == "ValueError"


def test_each_dialect_has_its_strategy_behind_one_protocol(
    pg_settings: Settings, sqlite_settings: Settings
) -> None:
    from mrs.ops import backup as backups
    from mrs.ops.backup.strategy import DialectBackups

    postgresql = backups.strategy_for(pg_settings)
    sqlite = backups.strategy_for(sqlite_settings)
    assert isinstance(postgresql, DialectBackups)
    assert isinstance(sqlite, DialectBackups)
    assert (postgresql.dialect, postgresql.extension) == ("postgresql", ".dump")
    assert (sqlite.dialect, sqlite.extension) == ("sqlite", ".sqlite3")
    # A PostgreSQL backup is verified by the PostgreSQL strategy whatever is configured.
    assert backups.strategy_for(sqlite_settings, "postgresql").dialect == "postgresql"


def test_the_backup_flow_has_no_dialect_branches() -> None:
    flow = (SRC / "ops" / "backup" / "flow.py").read_text(encoding="utf-8")
    assert '== "postgresql"' not in flow
    assert '== "sqlite"' not in flow
