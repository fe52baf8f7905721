"""The API page (issue 13): every route documented in Spanish, the main bodies with examples,
and ``/docs`` and ``/redoc`` built from files the service ships (nothing from another host).

A route added without a Spanish summary and description fails here; the browser test in
``tests/service/web/test_api_docs.py`` proves the pages render offline.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

#: Words that are English and never Spanish: one of them in a summary or description means an
#: untranslated text (code spans in backticks are left out first).
_ENGLISH = frozenset(
    "the of and with is are for from this that which when returns return its their one each "
    "every only by or an if not into response successful list create get upload reviewer "
    "submission document documents file files processes process".split()
)


def _english_words(text: str) -> set[str]:
    prose = re.sub(r"`[^`]*`", " ", text or "")
    return {w for w in re.findall(r"[A-Za-z]+", prose.lower()) if w in _ENGLISH}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The application as ``serve`` builds it (no database needed to describe it)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EVIDENCIA_DATA_DIR", str(tmp_path_factory.mktemp("openapi-data")))
    from service.settings import get_settings

    get_settings.cache_clear()
    from service.app import create_app

    yield create_app()
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def schema(app) -> dict:
    return app.openapi()


def test_every_route_has_a_spanish_summary_and_description(schema):
    problems = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            summary, description = op.get("summary", ""), op.get("description", "")
            # FastAPI's own summary is the function's name, title-cased ("Create Decision")
            if op["operationId"].startswith(summary.lower().replace(" ", "_") + "_"):
                problems.append(f"{where}: no summary (FastAPI made «{summary}»)")
            elif _english_words(summary):
                problems.append(f"{where}: summary in English? {summary!r}")
            if len(description) < 20:
                problems.append(f"{where}: no description")
            elif _english_words(description):
                problems.append(f"{where}: description in English? "
                                f"{sorted(_english_words(description))}")
    assert schema["paths"], "no route described"
    assert not problems, "\n".join(problems)


def test_every_text_of_the_document_is_spanish(schema):
    """Tags, responses, parameters and fields: what Swagger UI and ReDoc show besides names."""
    declared = {t["name"] for t in schema["tags"]}
    problems = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            if not set(op.get("tags", [])) <= declared or not op.get("tags"):
                problems.append(f"{where}: tags {op.get('tags')} not among {sorted(declared)}")
            for status, response in op["responses"].items():
                if _english_words(response.get("description", "")):
                    problems.append(f"{where} {status}: {response['description']!r}")
            for parameter in op.get("parameters", []):
                if not parameter.get("description"):
                    problems.append(f"{where}: parameter {parameter['name']} has no description")
                elif _english_words(parameter["description"]):
                    problems.append(f"{where}: parameter {parameter['name']}: "
                                    f"{parameter['description']!r}")
    for name, component in schema["components"]["schemas"].items():
        texts = [component.get("description", "")]
        texts += [p.get("description", "") for p in component.get("properties", {}).values()]
        problems += [f"schema {name}: {t!r}" for t in texts if _english_words(t)]
    for name, scheme in schema["components"].get("securitySchemes", {}).items():
        if _english_words(scheme.get("description", "")):
            problems.append(f"security {name}: {scheme['description']!r}")
    assert not problems, "\n".join(problems)


def test_the_main_bodies_have_examples(schema):
    components = schema["components"]["schemas"]

    def example_of(content: dict) -> list:
        ref = content["schema"].get("$ref", "")
        return components.get(ref.rsplit("/", 1)[-1], {}).get("examples", [])

    missing = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not example_of(body):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"JSON request bodies without an example: {missing}"
    for name in ("SubmissionCreated", "UploadAccepted", "ErrorBody"):
        assert components[name].get("examples"), name


def test_docs_and_redoc_load_only_files_the_service_ships(app):
    from service.api.openapi import ASSETS_DIR

    client = TestClient(app)
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200, page
        assert "default-src 'self'" in html.headers["content-security-policy"]
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.text), html.text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
        assert assets, html.text
        for asset in assets:
            answer = client.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= {
        p.name for p in ASSETS_DIR.iterdir()}
    assert '"validatorUrl": null' in client.get("/docs").text  # no badge from swagger.io
