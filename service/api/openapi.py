"""The OpenAPI document and its two readers, Swagger UI (``/docs``) and ReDoc (``/redoc``), served
from files installed with the service: no page loads anything from another host, so the API
page works on a machine without internet.

The JavaScript and CSS come from the ``fastapi-offline`` package (Swagger UI 5, Apache-2.0;
ReDoc 2, MIT; the package itself MIT), which ships them as files; only its ``static`` folder is
used, the pages are FastAPI's own. The document is FastAPI's, with what it says in English by
default said in Spanish and the error body the API really sends (``ErrorBody``) in place of
FastAPI's ``HTTPValidationError``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["install", "ASSETS_DIR", "ASSETS_URL"]

#: Swagger UI's and ReDoc's files, as the fastapi-offline package installs them.
ASSETS_DIR = Path(__import__("fastapi_offline").__file__).resolve().parent / "static"
ASSETS_URL = "/docs/static"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"

#: What FastAPI writes in English when a route says nothing.
_DEFAULT_DESCRIPTIONS = {
    "Successful Response": "Respuesta correcta",
    "Validation Error": "Datos no válidos",
}

#: The pages may load from this server only: a part that would still reach out (ReDoc's footer
#: logo is an image on Redocly's CDN) is refused by the browser instead of waiting on a network
#: that is not there.
_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "worker-src 'self' blob:; connect-src 'self'")

_SWAGGER_PARAMETERS = {
    "validatorUrl": None,  # Swagger UI would ask validator.swagger.io for a badge
    "docExpansion": "list",
    "defaultModelsExpandDepth": 0,
    "displayRequestDuration": True,
    "tryItOutEnabled": True,
}


def install(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their files to an app created with both turned off."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-static")
    app.openapi = lambda: _openapi(app)

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _own_host_only(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API (Swagger UI)",
            oauth2_redirect_url=f"{root}{DOCS_URL}/oauth2-redirect",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        ))

    @app.get(f"{DOCS_URL}/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _own_host_only(get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API (ReDoc)",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        ))


def _own_host_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = _CSP
    return page


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, built once, with its English defaults in Spanish and 422 answers
    described as the ``ErrorBody`` the API sends."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description,
        routes=app.routes, tags=app.openapi_tags,
    )
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                text = response.get("description", "")
                response["description"] = _DEFAULT_DESCRIPTIONS.get(text, text)
                if status == "422":
                    response["content"] = {"application/json": {"schema": ref}}
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    app.openapi_schema = schema
    return schema
