"""The OpenAPI document of the HTTP API.

It tells the truth about errors: FastAPI documents 422 with its own `HTTPValidationError`
body, which we never send; `install_error_documentation` replaces it with our error shape
and adds it as the `default` response of every operation, so clients (and schemathesis)
know what a 401/403/404/409/429 looks like. `write`/`is_current` export the document of
an app they are given (`mrs.app.spec_app` builds the one to publish) deterministically
to docs/openapi.json; this module never imports the app, which imports it.
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


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 kept readable, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(app: FastAPI, path: Path = DEFAULT_OUTPUT) -> bool:
    """Write the spec of `app` to `path`; True when the file changed."""
    text = render(app.openapi())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def is_current(app: FastAPI, path: Path = DEFAULT_OUTPUT) -> bool:
    """True when `path` holds exactly what `write` would produce for `app`."""
    return path.exists() and path.read_text(encoding="utf-8") == render(app.openapi())
