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
