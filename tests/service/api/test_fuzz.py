"""Fuzzing in the suite (issue 12, item 6): every operation of the OpenAPI schema, whatever
routes exist, called with generated valid and invalid input as an applicant, as a reviewer and
anonymously, on SQLite and PostgreSQL: no answer may be a 5xx, none may break its declared
response schema.

Bounded: ``MAX_EXAMPLES`` cases per operation and mode, derandomized (the same cases every
run, so a failure reproduces), no shrinking (failures are collected with the request that made
them). Path parameters are the real submission and document half the time, so bodies and
queries reach the code behind the 404s.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

#: Cases per operation and generation mode: ~23 operations x 2 modes x 3 callers' worth.
MAX_EXAMPLES = 8
CALLERS = ("revisor", "postulante", "anónimo")


@pytest.fixture
def world(client, text_pdf):
    """A submission with a document, a reviewer, and how each caller authenticates."""
    from service.db import SessionLocal
    from service.domain.access import create_user

    sub = client.post("/api/submissions", json={"organization": "Fundación Puentes del Sur",
                                                "rut": "76.543.210-3"}).json()
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    docs = client.post(f"/api/submissions/{sub['id']}/documents", headers=applicant,
                       files=[("files", ("plan.pdf", text_pdf(["Plan de capacitación."]),
                                         "application/pdf"))]).json()["documents"]
    with SessionLocal() as session:
        reviewer = create_user(session, "revisora.fuzz", "una-clave-de-prueba", "admin")
    return {"submission_id": sub["id"], "document_id": docs[0]["id"], "applicant": applicant,
            "reviewer": reviewer}


def _headers(caller: str, world: dict) -> dict:
    if caller == "postulante":
        return dict(world["applicant"])
    if caller == "revisor":  # a fresh session each case: a fuzzed logout must not end the rest
        from service.db import SessionLocal
        from service.domain.access import open_session

        with SessionLocal() as session:
            return {"Authorization": f"Bearer {open_session(session, world['reviewer'])}"}
    return {}


def test_no_generated_request_gives_a_5xx_or_breaks_the_schema(client, world):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    cases = [0]

    for result in schema.get_all_operations():
        _fuzz(result.ok(), world, failures, cases)

    print(f"fuzz: {cases[0]} cases, {len(failures)} failed")
    assert cases[0] >= 23 * MAX_EXAMPLES, cases[0]
    assert not failures, f"{len(failures)} of {cases[0]} cases failed:\n\n" + "\n\n".join(
        failures[:15])


def _fuzz(operation, world: dict, failures: list[str], cases: list[int]) -> None:
    """Run one operation's cases, collecting what failed."""
    strategy = (operation.as_strategy(GenerationMode.POSITIVE)
                | operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy, caller=st.sampled_from(CALLERS), real_ids=st.booleans())
    @settings(max_examples=MAX_EXAMPLES * 2, deadline=None, derandomize=True,
              database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case, caller, real_ids):
        cases[0] += 1
        if real_ids and case.path_parameters:
            for name in ("submission_id", "document_id"):
                if name in case.path_parameters:
                    case.path_parameters[name] = world[name]
        headers = {**(case.headers or {}), **_headers(caller, world)}
        try:
            case.call_and_validate(headers=headers, checks=[
                not_a_server_error, response_schema_conformance])
        except Exception as exc:  # collected, not shrunk: the request says what failed
            failures.append(f"{operation.label} as {caller}: {exc}\n"
                            f"{case.as_curl_command(headers=headers)}"[:1500])

    run()


#: What the issue's 13,000 cases found, aimed at every parameter and field the schema declares:
#: a NUL byte, control characters, and numbers past 64 bits.
HOSTILE_STRINGS = ("a\x00b", "acta\x07\x1b[31m\x0b.pdf")
HOSTILE_NUMBERS = (2**64, -(2**63) - 1)


def test_nul_bytes_control_characters_and_huge_numbers_never_give_a_5xx(client, world):
    """Schema-driven: every query, path and JSON field of every operation, one at a time."""
    spec = client.app.openapi()
    tried, failures = 0, []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for where, name, kind in _inputs(op, spec):
                for value in HOSTILE_NUMBERS if kind == "integer" else HOSTILE_STRINGS:
                    for caller in ("revisor", "postulante"):
                        tried += 1
                        r = _call(client, world, method, path, where, name, value, caller)
                        if r.status_code >= 500:
                            failures.append(f"{method.upper()} {path} {where}.{name}={value!r} "
                                            f"as {caller}: {r.status_code} {r.text[:300]}")
    print(f"hostile inputs: {tried} requests, {len(failures)} failed")
    assert tried > 100
    assert not failures, "\n".join(failures)


def _inputs(op: dict, spec: dict):
    """(where, name, type) of each parameter and top-level JSON field of an operation."""
    for p in op.get("parameters", []):
        kind = _type(p.get("schema", {}), spec)
        if kind in ("string", "integer"):
            yield p["in"], p["name"], kind
    body = op.get("requestBody", {}).get("content", {})
    schema = body.get("application/json", {}).get("schema")
    if schema:
        schema = _resolve(schema, spec)
        for name, prop in schema.get("properties", {}).items():
            kind = _type(prop, spec)
            if kind in ("string", "integer"):
                yield "json", name, kind


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _type(schema: dict, spec: dict) -> str | None:
    schema = _resolve(schema, spec)
    if "type" in schema:
        return schema["type"]
    for option in schema.get("anyOf", []):
        kind = _type(option, spec)
        if kind in ("string", "integer"):
            return kind
    return None


def _call(client, world, method, path, where, name, value, caller):
    from urllib.parse import quote

    ids = {"submission_id": world["submission_id"], "document_id": world["document_id"]}
    query, body = {}, None
    if where == "path":
        ids[name] = str(value)
    elif where == "query":
        query[name] = str(value)
    elif where == "json":
        body = {name: value, "organization": "Org", "rut": "76.543.210-3",
                "commitment": "c1", "action": "confirm", "username": "x", "password": "y"}
        body[name] = value
    url = path
    for key, val in ids.items():
        url = url.replace("{" + key + "}", quote(val, safe=""))
    headers = _headers(caller, world)
    if where == "header":
        headers[name] = str(value).replace("\x00", "")
    return client.request(method.upper(), url, params=query, json=body, headers=headers)
