"""Rendering the pages: the Jinja2 templates, their Spanish helpers, and the HTML error page.

Every string a user reads is Spanish (the templates' own sentences, ``service.domain.messages``
for codes); extracted text and file names go through Jinja's autoescape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from classifiers.result import COMMITMENT_IDS
from service.domain import clock, messages, workflow
from service.domain.matrix import DocumentEntry
from service.domain.messages import format_datetime
from service.domain.rut import format_rut
from service.security import template_context
from service.web import hints

__all__ = ["templates", "render", "error_page", "is_htmx", "LINK_NOTICES", "notice_url",
           "link_notice"]

#: Every page gets ``csrf_token`` (the meta tag htmx and fetch read) and ``csrf_field`` (the
#: hidden input each POST form carries): see ``service.security``.
templates = Jinja2Templates(
    directory=str(Path(__file__).resolve().parent / "templates"),
    context_processors=[template_context],
)


def _percent(value: float | None) -> str:
    return f"{round(100 * (value or 0))}\u00a0%"


def _stage_text(doc: DocumentEntry) -> str:
    if doc.status == "error":
        return "Error"
    text = doc.stage_label
    return text[:1].upper() + text[1:]


def _legacy_word() -> bool:
    """DOC and RTF can be read here: LibreOffice is installed (the API and the workers run
    from the same image, so what this process finds is what the workers have)."""
    from extractors.libreoffice import soffice_path

    return soffice_path() is not None


templates.env.globals.update(
    accepted_types=lambda: messages.accepted_types(_legacy_word()),
    accept_list=lambda: messages.accept_list(_legacy_word()),
    COMMITMENT_IDS=COMMITMENT_IDS,
    commitment_name=messages.commitment_name,
    commitment_short=messages.commitment_short,
    confidence_label=messages.confidence_label,
    rule_families=messages.rule_families,
    doc_type_name=messages.doc_type_name,
    missing_hint=hints.missing_hint,
    example_documents=lambda cid: hints.EXAMPLE_DOCUMENTS.get(cid, ()),
    stage_text=_stage_text,
    format_age=messages.format_age,
    queue_age=workflow.queue_age,
    review_status_label=messages.review_status_label,
)
templates.env.filters.update(fecha=format_datetime, iso=clock.iso, tamano=messages.format_size,
                             pct=_percent, rut=format_rut, duracion=messages.format_age)


def render(request: Request, name: str, status_code: int = 200, *, reviewer=None,
           **context) -> HTMLResponse:
    """``reviewer``: the logged-in reviewer the header names, if the page knows one."""
    return templates.TemplateResponse(
        request, name, {"reviewer": reviewer, **context}, status_code=status_code
    )


#: Notices a page shows after a redirect, and the kind of their parameter. The link names a
#: notice by its code (``?aviso=files_received&n=3&archivos=1``), never by its words: an
#: unknown code shows nothing, so nobody can put text on a page through a link. A parameter is
#: read back as its kind (the documents received and the files they came from, a workflow
#: status, a document of the submission by its id).
LINK_NOTICES: dict[str, str | None] = {
    "files_received": "received",
    "submitted": None,
    "submitted_not_emailed": None,
    "reviewed": "status",
    "nothing_pending": None,
    "document_removed": "document",
    "document_replaced": "document",
}
#: Each kind of parameter: its field in the link and its name in the notice's template
#: (``received``: documents in ``n``, files in ``archivos``, worded by
#: ``messages.files_received``).
_LINK_PARAMS = {"received": ("n", "documents"), "status": ("estado", "status"),
                "document": ("documento", "name")}
_MAX_COUNT = 100_000


def _count(raw: str | None) -> int | None:
    raw = raw or ""
    return int(raw) if raw.isdigit() and 0 < int(raw) <= _MAX_COUNT else None


def notice_url(path: str, code: str, value: object = None) -> str:
    """The link that shows notice ``code`` (with its parameter ``value``; for ``received``, the
    pair (documents, files)) on the page ``path``."""
    kind = LINK_NOTICES[code]
    query = {"aviso": code}
    if kind == "received":
        documents, files = value
        query.update(n=str(documents), archivos=str(files))
    elif kind is not None:
        query[_LINK_PARAMS[kind][0]] = str(value)
    return f"{path}?{urlencode(query)}"


def link_notice(request: Request,
                document_name: Callable[[str], str | None] | None = None) -> str | None:
    """The notice the link asks for, in its fixed Spanish words; None for an unknown code or a
    parameter that is not of its kind. ``document_name``: a document id of the page's
    submission → its name (None if it is not one)."""
    code = request.query_params.get("aviso")
    if code not in LINK_NOTICES:
        return None
    kind = LINK_NOTICES[code]
    if kind is None:
        return messages.notice(code)
    field, name = _LINK_PARAMS[kind]
    raw = request.query_params.get(field) or ""
    if kind == "received":  # every file gives one document at least
        documents, files = _count(raw), _count(request.query_params.get("archivos"))
        if documents is None or files is None or files > documents:
            return None
        return messages.files_received(documents, files)
    if kind == "status":
        known = raw in workflow.ReviewStatus.__members__
        value = workflow.ReviewStatus(raw).label if known else None
    else:
        value = document_name(raw) if document_name and raw else None
    return None if value is None else messages.notice(code, **{name: value})


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    """The HTML error page; the app's one error boundary (``service.api.errors``) calls it."""
    # a 5xx may be the database itself (down, or its pool exhausted): no second wait for it
    reviewer = _reviewer(request) if status < 500 else None
    href, label = _way_back(request, reviewer, ask_database=status < 500)
    return render(request, "error.html", status_code=status, reviewer=reviewer,
                  title=messages.error_title(code, status), message=message,
                  back_href=href, back_label=label)


#: An applicant's pages: ``/s/<submission id>`` and what lies under it.
_APPLICANT_PATH = re.compile(r"/s/([0-9a-f]{32})(?:/|$)")


def _way_back(request: Request, reviewer=None, *, ask_database: bool = True
              ) -> tuple[str | None, str | None]:
    """Where an error page leads back to: a reviewer to their panel; an applicant (a page of a
    submission's secret link) to their submission when the link they hold opens it, else
    nowhere in particular (not to the home page, which creates a new submission); anyone else
    to the home page. Without ``ask_database`` the link and the session are not checked."""
    path = request.url.path
    if path == "/revision" or path.startswith("/revision/"):
        return "/revision", "Volver al panel de revisión"
    found = _APPLICANT_PATH.match(path)
    if found:
        if ask_database and _holds_link(request, found.group(1)):
            return f"/s/{found.group(1)}", "Volver a su postulación"
        return None, None
    if reviewer is not None:
        return "/revision", "Volver al panel de revisión"
    return "/", "Volver al inicio"


def _holds_link(request: Request, submission_id: str) -> bool:
    """The request carries the submission's token (its link's ``t`` or the cookie it left)."""
    from service.db import SessionLocal
    from service.domain.access import APPLICANT_COOKIE, check_submission_token
    from service.domain.models import Submission

    token = request.query_params.get("t") or request.cookies.get(APPLICANT_COOKIE)
    if not token:
        return False
    try:
        with SessionLocal() as session:
            submission = session.get(Submission, submission_id)
            return submission is not None and check_submission_token(submission, token)
    except Exception:  # noqa: BLE001 — the database may be why this page is shown
        return False


def _reviewer(request: Request) -> SimpleNamespace | None:
    """The reviewer logged in on this browser (their session cookie), for the error page's
    header and way back: a reviewer who meets an error on their pages still sees themselves
    logged in, not the applicants' "Ingreso revisores" as if their session had ended."""
    from service.db import SessionLocal
    from service.domain.access import SESSION_COOKIE, load_session

    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with SessionLocal() as session:
            user = load_session(session, token)
            return None if user is None else SimpleNamespace(
                id=user.id, username=user.username, role=user.role)
    except Exception:  # noqa: BLE001 — the database may be why this page is shown
        return None
