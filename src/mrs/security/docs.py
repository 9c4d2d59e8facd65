"""The API docs page (Swagger UI) served from our own files, with no inline script.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script,
which our Content-Security-Policy forbids; this page uses the copy of Swagger UI 5 shipped
in the `fastapi-offline` package (only its files are used) and a small script of our own.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

SWAGGER_UI_DIR = files("fastapi_offline") / "static"


def _page(docs_url: str, title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} — API docs</title>
<link rel="stylesheet" href="{docs_url}/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{docs_url}/assets/swagger-ui-bundle.js"></script>
<script src="{docs_url}/init.js"></script>
</body>
</html>
"""


def _init_script(openapi_url: str) -> str:
    return (
        "window.addEventListener('load', function () {\n"
        "  window.ui = SwaggerUIBundle({\n"
        f"    url: {openapi_url!r},\n"
        "    dom_id: '#swagger-ui',\n"
        "    deepLinking: true,\n"
        "    presets: [SwaggerUIBundle.presets.apis],\n"
        "    layout: 'BaseLayout'\n"
        "  });\n"
        "});\n"
    )


def install_local_docs(app: FastAPI) -> None:
    """Replace FastAPI's CDN-based docs page with the self-hosted one (same URL)."""
    docs_url, openapi_url = app.docs_url, app.openapi_url
    if not docs_url or not openapi_url:
        return
    kept: list[BaseRoute] = [
        route for route in app.router.routes if getattr(route, "path", None) != docs_url
    ]
    app.router.routes[:] = kept
    page = _page(docs_url, app.title)
    script = _init_script(openapi_url)

    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    async def docs_script() -> Response:
        return Response(script, media_type="text/javascript")

    app.add_api_route(docs_url, docs_page, include_in_schema=False, methods=["GET"])
    app.add_api_route(f"{docs_url}/init.js", docs_script, include_in_schema=False, methods=["GET"])
    app.mount(
        f"{docs_url}/assets",
        StaticFiles(directory=str(SWAGGER_UI_DIR)),
        name="api-docs-assets",
    )
