"""Every file of the peer corpus (../shared/corpus/peers) behaves as its MANIFEST.md says.

Expectations are the MANIFEST's, kept as data here: ``text`` (words from the text layer, no OCR
needed), ``ocr`` (robust words that survive OCR noise), ``error`` (a clean ExtractionError with a
Spanish message). Only the files the MANIFEST says need OCR are OCR'd.
"""

from __future__ import annotations

import functools

import pytest

import extractors
from extractors.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedError,
    ExtractionError,
    UnsupportedEncryptionError,
)
from tests.conftest import PEERS
from tests.extractors.helpers import assert_contains

TEXT = "text"
OCR = "ocr"
ERROR = "error"
ERROR_OR_EMPTY = "error-or-empty"

# file -> (kind, words or error class, extra checks)
EXPECTED: dict[str, tuple] = {
    "ocrmypdf-scan-ccitt-g4.pdf": (OCR, ["LinnSequencer", "Sequence Recorder"]),
    "ocrmypdf-scan-jbig2.pdf": (OCR, ["LinnSequencer", "Sequence Recorder"]),
    "ocrmypdf-scan-2400dpi-tiny-page.pdf": (OCR, ["Linzen", "liter water"]),
    "ocrmypdf-vector-text-as-curves.pdf": (OCR, ["Sample Vector PDF for Testing"]),
    "ocrmypdf-huge-jbig2-35000px.pdf": (OCR, ["very big image", "tiny amount of text"]),
    "ocrmypdf-enormous-page.pdf": (OCR, ["9000x9000"]),
    "pypdf-samples-image-only-cmyk-zero-pages.pdf": (OCR, []),  # aerial photo: no words
    "ocrmypdf-scan-four-rotations.pdf": (OCR, ["LinnSequencer"]),
    "ocrmypdf-scan-rotate90-skewed.pdf": (OCR, ["LinnSequencer"]),
    "tesseract-phototest-upside-down.png": (OCR, ["quick brown dog", "lazy fox"]),
    "pdfplumber-text-rotated-landscape-table.pdf": (TEXT, ["background checks", "Alabama"]),
    "pypdf-samples-arabic-rotated-pages.pdf": (TEXT, ["habibi", "حبيبي"]),
    "pypdf-mixed-ocr-scan-and-text.pdf": (TEXT, ["SIEGE OF VICKSBURG", "crazy ones"]),
    "pdfplumber-encrypted-password-test.pdf": (ERROR, EncryptedError),
    "pypdf-encrypted-aes256-r6-user-foo.pdf": (ERROR, EncryptedError),
    "pypdf-encrypted-owner-only-rc4.pdf": (TEXT, ["pdf encryption test password: asdfzxcv"]),
    "pdfjs-encrypted-unicode-password.pdf": (ERROR, EncryptedError),
    "pdfjs-encrypted-unsupported-crypt-filter.pdf": (ERROR, UnsupportedEncryptionError),
    "unstructured-copy-protected.pdf": (TEXT, ["LayoutParser"]),
    "pdfplumber-empty-zero-bytes.pdf": (ERROR, EmptyFileError),
    "ocrmypdf-header-only-invalid.pdf": (ERROR, CorruptFileError),
    "pdfminer-corrupted-zen-of-python.pdf": (TEXT, ["Beautiful is better than ugly"]),
    "qpdf-bad-lzw-stream.pdf": (ERROR_OR_EMPTY, CorruptFileError),
    "qpdf-pages-null-kids-typeerror.pdf": (ERROR, CorruptFileError),
    "qpdf-page-without-contents-typeerror.pdf": (TEXT, ["Potato"]),
    "pdfjs-operator-list-cycle-typeerror.pdf": (ERROR_OR_EMPTY, CorruptFileError),
    "qpdf-leading-junk-misreported.pdf": (TEXT, ["Potato 0", "Potato 29"]),
    "pdfjs-asciihex-odd-length.pdf": (TEXT, ["ASCIIHexDecode filter, small Length"]),
    "unstructured-bad-color-space.pdf": (
        TEXT, ["Our ambition", "Intergovernmental Panel on Climate Change"]
    ),
    "pdfjs-jbig2-decompression-bomb.pdf": (TEXT, ["GIANT JBIG2 BOMB"]),
    "qpdf-xref-loop-recursion.pdf": (TEXT, ["Potato 0 new", "Potato 29"]),
    "qpdf-xref-stream-in-objstm-recursion.pdf": (TEXT, ["Potato 0", "Potato 29"]),
    "qpdf-fuzz-broken-xref-zero-pages.pdf": (TEXT, ["Potato 0", "Potato 29"]),
    "qpdf-bad-xref-entry.pdf": (TEXT, ["Potato"]),
    "pdfjs-irs-f1040-zero-pages.pdf": (TEXT, ["Form 1040", "Individual Income Tax Return"]),
    "qpdf-pages-missing-type-zero-pages.pdf": (TEXT, ["Potato"]),
    "ocrmypdf-scan-skewed.pdf": (OCR, ["LinnSequencer"]),
    "unstructured-400-pages-irs-manual.pdf": (
        TEXT, ["MANUAL TRANSMITTAL", "Internal Revenue Service"]
    ),
    "tabula-spanish-voting-record-garbled-font.pdf": (
        TEXT, ["Votación Nominal", "Período Ordinario"]
    ),
    "ocrmypdf-type3-font-no-tounicode.pdf": (OCR, ["ua"]),
    "pdfjs-french-diacritics-cid-garbage.pdf": (TEXT, ["à À â Â ä Ä ç Ç é É è È"]),
    "pdfjs-ligatures.pdf": (TEXT, ["abcdeffffiflffifflststghijklmno"]),
    "pdfjs-text-lost-operator-in-tj.pdf": (
        TEXT, ["Grandes Clientèles, Financements et Marchés"]
    ),
    "pdfminer-czech-non-unicode-cmap.pdf": (TEXT, ["Peněžní prostředky na účtech"]),
    "pdfplumber-chinese-duplicate-chars.pdf": (TEXT, ["项目描述"]),
    "pdfminer-japanese-vertical.pdf": (TEXT, ["わたくしといふ現象は", "ひとつの青い照明です"]),
    "tabula-arabic-election-results.pdf": (TEXT, ["ورقة كشف نتائج دائرة مدنين"]),
    "pdfjs-form-field-text-only.pdf": (TEXT, ["tx annotation", "Line2"]),
    "tabula-spanish-fishery-exports-table.pdf": (
        TEXT, ["PARTICIPACIÓN DE LAS EXPORTACIONES PESQUERAS", "Clasificación"]
    ),
    "camelot-spanish-mexican-towns.pdf": (
        TEXT, ["Aguascalientes", "Bajío de Montoro", "Buenavista de Peñuelas"]
    ),
    "tesseract-eurotext-spanish-line.tif": (OCR, ["zorro", "perro", "perezoso"]),
    "ocrmypdf-rgba-alpha.png": (OCR, ["BAIONA", "Komunikabideak"]),
    "ocrmypdf-cmyk.jpg": (OCR, ["BAIONA", "Komunikabideak"]),
    "unstructured-rgba-tiff-1dpi.tiff": (OCR, ["LayoutParser", "Unified Toolkit"]),
    "ocrmypdf-typewriter-4000px-no-dpi.png": (OCR, ["Linzensoep", "linzen"]),
    "unstructured-docx-grid-offset-error.docx": (TEXT, ["Merged B1-B3"]),
    "unstructured-docx-spanish-english.docx": (
        TEXT, ["Todos los seres humanos nacen libres e iguales en dignidad y derechos"]
    ),
    "unstructured-docx-nested-merged-tables.docx": (
        TEXT, ["Nested Table", "Table with merged cells", "Lorem ipsum"]
    ),
    "python-docx-odd-even-headers.docx": (
        TEXT, ["First Page.", "Second Page.", "Odd page header.", "Even page header."]
    ),
}  # fmt: skip


@functools.cache
def _extracted(name: str):
    """Each peer file is extracted once per session (OCR is the slow part): doc or error."""
    try:
        return extractors.extract(PEERS / name)
    except ExtractionError as exc:
        return exc


def _extract(name: str):
    result = _extracted(name)
    if isinstance(result, ExtractionError):
        raise result
    return result


def _peer_files() -> list[str]:
    return sorted(p.name for p in PEERS.iterdir() if p.name != "MANIFEST.md")


def test_every_peer_file_has_an_expectation():
    assert set(_peer_files()) == set(EXPECTED)


#: Known gaps, kept visible instead of silently dropped from the table.
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True))
        if n in KNOWN_GAPS
        else n
        for n in sorted(EXPECTED)
    ],
)
def test_peer_file_behaves_as_manifest_says(name):
    kind, expected = EXPECTED[name][0], EXPECTED[name][1]
    path = PEERS / name
    if kind in (ERROR, ERROR_OR_EMPTY):
        try:
            doc = _extract(name)
        except ExtractionError as exc:
            assert isinstance(exc, expected), f"{type(exc).__name__}: {exc.message}"
            _assert_spanish(exc.message)
            return
        assert kind == ERROR_OR_EMPTY, f"expected {expected.__name__}, got a document"
        assert doc.pages and not doc.text.strip()
        assert doc.warnings, "an empty result must carry a warning"
        return
    assert path.exists()
    doc = _extract(name)
    assert doc.pages, "never a silent 0-page document"
    assert_contains(doc.text, *expected)
    if kind == TEXT:
        assert doc.ocr_pages == 0, f"{name} has a usable text layer: no OCR needed"
    else:
        assert doc.ocr_pages >= 1
        for page in doc.pages:
            if page.ocr and page.text:
                assert page.ocr_confidence is not None and page.ocr_confidence > 30
                assert page.words, "OCR pages carry word boxes"
                _assert_boxes_inside(page)
    for page in doc.pages:
        assert page.text == _nfc(page.text)


def _nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)


def _assert_spanish(message: str) -> None:
    padded = f" {message.lower()} "
    assert any(w in padded for w in (" el ", " la ", " de ", " no ", " se ", " está ")), message


def _assert_boxes_inside(page) -> None:
    slack = 2.0
    for w in page.words:
        assert -slack <= w.x0 <= w.x1 <= page.width + slack, w
        assert -slack <= w.top <= w.bottom <= page.height + slack, w


# --- Extra checks the MANIFEST asks for ---------------------------------------------------------


def test_four_rotations_every_page_reads_and_rotation_is_detected():
    doc = _extract("ocrmypdf-scan-four-rotations.pdf")
    assert len(doc.pages) == 4
    for page in doc.pages:
        assert_contains(page.text, "LinnSequencer")
    assert {p.rotation for p in doc.pages} == {0, 90, 180, 270}


def test_upside_down_photo_is_detected_as_rotated():
    doc = _extract("tesseract-phototest-upside-down.png")
    assert doc.pages[0].rotation == 180


def test_mixed_pdf_keeps_existing_ocr_layer_and_born_digital_page():
    doc = _extract("pypdf-mixed-ocr-scan-and-text.pdf")
    assert len(doc.pages) == 7 and doc.ocr_pages == 0
    assert_contains(doc.pages[1].text, "crazy ones")


def test_cmyk_image_pdf_is_one_ocr_page_not_an_empty_document():
    doc = _extract("pypdf-samples-image-only-cmyk-zero-pages.pdf")
    assert len(doc.pages) == 1 and doc.pages[0].ocr


@pytest.mark.parametrize(
    "name,password,words",
    [
        ("pdfplumber-encrypted-password-test.pdf", "test", ["Backup4all"]),
        ("pypdf-encrypted-aes256-r6-user-foo.pdf", "foo", ["pdf encryption test"]),
        ("pypdf-encrypted-aes256-r6-user-foo.pdf", "bar", ["pdf encryption test"]),
        ("pdfjs-encrypted-unicode-password.pdf", "pässwört", ["decryption succeeded"]),
    ],
)
def test_encrypted_pdf_opens_with_its_password(name, password, words):
    doc = extractors.extract(PEERS / name, password=password)
    assert_contains(doc.text, *words)


def test_wrong_password_says_so():
    from extractors.errors import WrongPasswordError

    with pytest.raises(WrongPasswordError) as info:
        extractors.extract(PEERS / "pdfplumber-encrypted-password-test.pdf", password="nope")
    assert "contraseña" in info.value.message


def test_missing_password_says_protected():
    with pytest.raises(EncryptedError) as info:
        _extract("pypdf-encrypted-aes256-r6-user-foo.pdf")
    assert not isinstance(info.value, UnsupportedEncryptionError)
    assert "protegido con contraseña" in info.value.message


def test_unsupported_crypt_filter_fails_even_with_password():
    with pytest.raises(UnsupportedEncryptionError) as info:
        extractors.extract(PEERS / "pdfjs-encrypted-unsupported-crypt-filter.pdf", password="Hello")
    assert "no soportado" in info.value.message


@pytest.mark.parametrize(
    "name,pages",
    [
        ("qpdf-leading-junk-misreported.pdf", 30),
        ("qpdf-fuzz-broken-xref-zero-pages.pdf", 30),
        ("qpdf-xref-loop-recursion.pdf", 30),
        ("pdfjs-irs-f1040-zero-pages.pdf", 2),
        ("unstructured-400-pages-irs-manual.pdf", 400),
    ],
)
def test_page_count_is_recovered(name, pages):
    doc = _extract(name)
    assert len(doc.pages) == pages


def test_table_rows_come_out_one_per_line():
    doc = _extract("camelot-spanish-mexican-towns.pdf")
    rows = [line for line in doc.text.splitlines() if "Bajío de Montoro" in line]
    assert rows and "Aguascalientes" in rows[0], rows


def test_text_layer_words_have_boxes_in_page_points():
    doc = _extract("tabula-spanish-fishery-exports-table.pdf")
    page = doc.pages[0]
    assert page.words and not page.ocr
    _assert_boxes_inside(page)
    word = next(w for w in page.words if w.text == "Clasificación")
    assert word.x1 > word.x0 and word.bottom > word.top
