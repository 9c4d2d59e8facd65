"""The OpenAPI document of the HTTP API.

It tells the truth about errors: FastAPI documents 422 with its own `HTTPValidationError`
body, which we never send; `install_error_documentation` replaces it with our error shape
and adds it as the `default` response of every operation, so clients (and schemathesis)
know what a 401/403/404/409/429 looks like. `write`/`is_current` export it
deterministically to docs/openapi.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA_NAME = "ErrorBody"
_ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string", "description": "Translated, human-readable."},
                "details": {"description": "Field errors or other context; may be null."},
            },
        }
    },
}
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _error_response(description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAPI document in place so that every error response has our shape."""
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = _ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _error_response("The input is not valid.")
            responses.setdefault("default", _error_response("An error (see error.code)."))
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    return schema


def install_error_documentation(app: FastAPI) -> None:
    """Make `app.openapi()` return the document with our error shape."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
