"""The OpenAPI document of the HTTP API, exported deterministically for docs/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path("docs/openapi.json")


def openapi_document() -> dict[str, Any]:
    """The spec of the app as `create_app` builds it, independent of the environment.

    Settings are fixed (in-memory SQLite, test routes off, a placeholder secret) so the
    document only changes when the code does. No connection is opened: building the spec
    needs the routes, not the database.
    """
    from mrs.app import create_app
    from mrs.settings import Settings

    settings = Settings(
        data_dir=Path("/nonexistent/mrs-openapi"),
        database_url="sqlite:///:memory:",
        secret_key="openapi-export-placeholder",  # noqa: S106 - never used to sign anything
        enable_test_routes=False,
    )
    app = create_app(settings)
    return app.openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 kept readable, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path = DEFAULT_OUTPUT) -> bool:
    """Write the spec to `path`; True when the file changed."""
    text = render(openapi_document())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def is_current(path: Path = DEFAULT_OUTPUT) -> bool:
    """True when `path` holds exactly what `write` would produce."""
    return path.exists() and path.read_text(encoding="utf-8") == render(openapi_document())
