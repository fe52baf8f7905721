"""A committee roster kept as a spreadsheet, uploaded alone and inside a ZIP, reaches the matrix
with its row as the evidence (real Redis, both databases)."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from tests.extractors.format_makers import roster_xlsx


def test_spreadsheet_roster_alone_and_in_a_zip_gives_c5_with_its_row(
    service_env, run_worker_burst, tmp_path
):
    from service.db import SessionLocal
    from service.domain.matrix import load_matrix
    from service.domain.models import Document
    from service.domain.submissions import add_files, create_submission

    roster = roster_xlsx(tmp_path / "nomina-comite.xlsx").read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("comite/nomina-comite.xlsx", roster)
    with SessionLocal() as session:
        submission, _ = create_submission(session, "Constructora Andes", "76.543.210-3")
        add_files(session, submission, [("nomina-comite.xlsx", roster)])
        other, _ = create_submission(session, "Fundación Puentes del Sur", None)
        add_files(session, other, [("evidencias.zip", archive.getvalue())])
        ids = (submission.id, other.id)

    run_worker_burst()

    with SessionLocal() as session:
        documents = session.scalars(select(Document)).all()
        assert sorted((d.name, d.status) for d in documents) == [
            ("evidencias.zip/comite/nomina-comite.xlsx", "done"),
            ("nomina-comite.xlsx", "done"),
        ], [d.error for d in documents]
        for submission_id in ids:
            c5 = load_matrix(session, submission_id).commitment("c5")
            assert c5.supported, c5
            best = c5.best
            assert best.page == 1  # the sheet «Nómina»
            # a row of a foreign member, with its row number (which of the two ranks first is
            # the passage model's call)
            assert best.text.startswith(("Fila 4 | María Fernanda López | Presidenta | Venezolana",
                                         "Fila 5 | Jean Pierre Louis | Secretario | Haitiana"))


def test_email_upload_gives_its_message_and_each_attachment_as_documents(
    service_env, run_worker_burst, tmp_path
):
    from service.db import SessionLocal
    from service.domain.matrix import load_matrix
    from service.domain.models import Document
    from service.domain.submissions import add_files, create_submission
    from tests.extractors.format_makers import email_with_attachments

    roster = roster_xlsx(tmp_path / "nomina-comite.xlsx").read_bytes()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    mail = email_with_attachments(
        "Estimados: adjunto la nómina del comité de inclusión.",
        None,
        [("nomina-comite.xlsx", xlsx, roster), ("roto.pdf", "application/pdf", b"%PDF-1.7 x")],
    )
    with SessionLocal() as session:
        submission, _ = create_submission(session, "Constructora Andes", "76.543.210-3")
        add_files(session, submission, [("correo.eml", mail)])
        submission_id = submission.id

    run_worker_burst()

    with SessionLocal() as session:
        documents = {d.name: d for d in session.scalars(select(Document))}
        assert sorted(documents) == [
            "correo.eml/mensaje.txt", "correo.eml/nomina-comite.xlsx", "correo.eml/roto.pdf",
        ]  # fmt: skip
        assert documents["correo.eml/mensaje.txt"].status == "done"
        assert documents["correo.eml/nomina-comite.xlsx"].status == "done"
        assert documents["correo.eml/roto.pdf"].status == "error"  # that attachment only
        c5 = load_matrix(session, submission_id).commitment("c5")
        assert c5.supported and c5.best.document == "correo.eml/nomina-comite.xlsx"
