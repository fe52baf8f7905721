"""Server-rendered Spanish pages: ``applicant``, ``reviewer`` and ``login`` routers, rendered by
``pages`` (templates and the HTML error page), with ``highlight`` and ``page_images`` for the
document view.

Applicants (no account, a secret link):
    ``/``                       create a submission (organisation, RUT)
    ``/s/{id}?t={token}``       upload (drag and drop, ZIP, progress bar), live document stages,
                                the five-commitment checklist with excerpts or what is missing
Reviewers (``evidencia user add``):
    ``/revision/ingresar``      log in (signed ``evidencia_session`` cookie, shared with the API)
    ``/revision``               triage list: filters, sorting, pagination
    ``/revision/s/{id}``        evidence matrix, confirm/reject/attach (click or keyboard), history
    ``/revision/d/{doc}``       page image with highlighted evidence next to the extracted text
    ``/revision/s/{id}/informe.pdf``  printable report; CSV/XLSX come from the API

htmx 2 is vendored in ``static/`` (see ``static/VENDORED.md``); every page also works without
JavaScript. Browser tests: ``pytest tests/web -m browser``.
"""
