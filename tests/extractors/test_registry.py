"""The formats applicants are told about (extractors.registry.FORMATS) and the readers that
exist (PARSERS) agree, and every list shown to people derives from FORMATS."""

from __future__ import annotations

from extractors.detect import EMAIL_MIME, ZIP_MIME
from extractors.errors import UnsupportedTypeError
from extractors.registry import (
    FORMATS,
    accepted_extensions,
    accepted_formats_text,
    claimed_kind,
    parser_for,
)


def test_every_accepted_format_has_a_reader_or_is_expanded():
    for fmt in FORMATS:
        assert fmt.mime in (ZIP_MIME, EMAIL_MIME) or parser_for(fmt.mime) is not None, fmt
    assert parser_for("application/vnd.ms-excel").name == "spreadsheet"


def test_lists_shown_to_people_derive_from_the_formats():
    sentence = accepted_formats_text()
    for fmt in FORMATS:
        assert fmt.kind in sentence, fmt.kind
        assert set(fmt.extensions) <= set(accepted_extensions())
    assert "planillas Excel (XLSX, XLS)" in sentence
    assert UnsupportedTypeError().message == f"Tipo de archivo no soportado. {sentence}"
    without = accepted_formats_text(libreoffice=False)
    assert "DOC)" not in without and "RTF" not in without and "XLS" in without
    assert ".doc" not in accepted_extensions(libreoffice=False)


def test_a_name_claims_a_kind_only_for_bytes_nothing_reads():
    assert claimed_kind("NOMINA.XLS", "application/octet-stream") == "XLS"
    assert claimed_kind("programa.exe", "application/octet-stream") is None
    assert claimed_kind("acta.html", "application/octet-stream") is None  # any bytes may be text
    assert claimed_kind("nomina.xls", "application/x-ole-storage") == "XLS"  # OLE, no directory
    assert claimed_kind("nomina.xls", "application/octet-stream") == "XLS"
    assert claimed_kind("nomina.xls", "application/x-dosexec") is None  # another type: unsupported
