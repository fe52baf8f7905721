"""ExtractOptions: the deployment's limits reach every parser, and only through the call."""

from __future__ import annotations

import pytest

import extractors
from extractors import ExtractOptions, defaults
from extractors.errors import TooLargeError


def test_defaults_come_from_the_defaults_module():
    options = ExtractOptions()
    assert options.max_file_bytes == defaults.MAX_FILE_BYTES
    assert options.ocr_workers == defaults.OCR_WORKERS
    assert options.max_decode_pixels == defaults.MAX_DECODE_PIXELS


@pytest.mark.parametrize("field", ["max_file_bytes", "ocr_workers", "ocr_page_timeout"])
@pytest.mark.parametrize("value", [0, -1, True, "10"])
def test_nonsensical_values_fail_at_construction(field, value):
    with pytest.raises(ValueError, match=field):
        ExtractOptions(**{field: value})


def test_two_callers_in_one_process_keep_their_own_limits(tmp_path):
    path = tmp_path / "nota.txt"
    path.write_text("Acta de constitución del comité de inclusión", encoding="utf-8")
    with pytest.raises(TooLargeError):
        extractors.extract(path, options=ExtractOptions(max_file_bytes=10))
    assert extractors.extract(path).pages[0].text.startswith("Acta")
    assert defaults.MAX_FILE_BYTES == ExtractOptions().max_file_bytes


def test_a_file_over_the_limit_is_told_both_sizes_as_they_are(tmp_path):
    """QA 2026-12-07: `evidencia analyze` with a 2,000,000-byte limit (1.9 MiB) said of a 3 MB
    file "pesa 2.9 MB y supera el máximo permitido de 2 MB": a decimal point, not Spanish's
    comma, and a limit rounded up, so a 1.95 MB file "under 2 MB" was refused."""
    path = tmp_path / "escaneo.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(3_000_000))
    with pytest.raises(TooLargeError) as refused:
        extractors.extract(path, options=ExtractOptions(max_file_bytes=2_000_000))
    assert refused.value.message == (
        "El archivo pesa 2,9 MB y supera el máximo permitido de 1,9 MB. Divídalo o comprímalo "
        "antes de subirlo.")
