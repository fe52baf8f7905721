"""One table of error codes: how each surface reports a code, and its Spanish words."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from extractors import errors
from service.domain.errors import ErrorCode, NotFoundError, ValidationError, fault_of
from service.domain.messages import ERROR_MESSAGES, error_message


def _pipeline_error_classes():
    """Every error class of the pipeline below its base."""
    pending, found = list(errors.EvidenciaError.__subclasses__()), []
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [c for c in found if c.__module__ == errors.__name__]


def test_pipeline_error_codes_keep_their_own_message_not_the_internal_one():
    # a damaged ZIP once came back as "error interno… el equipo fue notificado"
    assert error_message("corrupt") == errors.CorruptFileError.default_message
    for cls in (errors.EmptyFileError, errors.UnsupportedTypeError, errors.EncryptedError,
                errors.UnsafeArchiveError, errors.OCRUnavailableError):
        assert error_message(cls.code) == cls.default_message
        assert error_message(cls.code) != ERROR_MESSAGES["internal"]


def test_unknown_codes_fall_back_to_the_internal_message():
    assert error_message("no-such-code") == ERROR_MESSAGES["internal"]


def test_every_code_has_spanish_words():
    for code in ErrorCode:
        assert error_message(code) != ERROR_MESSAGES["internal"] or code == ErrorCode.internal, code


@pytest.mark.parametrize("cls", _pipeline_error_classes())
def test_every_pipeline_error_has_a_code_in_the_table(cls):
    code = ErrorCode.of(cls.code)
    assert code is not None, f"{cls.__name__}.code {cls.code!r} is missing from ErrorCode"
    if issubclass(cls, errors.ExtractionError):
        assert code.document_fault and not code.retryable
    elif cls is errors.ConverterUnavailableError:  # DOC/RTF where LibreOffice was left out
        assert code.document_fault and not code.retryable and code.http_status == 415
    else:  # Tesseract missing: the server's set-up, worth another attempt
        assert code.retryable and code.http_status == 503 and not code.document_fault


def test_what_each_fault_is():
    assert fault_of(errors.CorruptFileError()) is ErrorCode.corrupt
    assert fault_of(errors.OCRUnavailableError()) is ErrorCode.ocr_unavailable
    transient = fault_of(OperationalError("SELECT 1", {}, Exception("gone")))
    assert transient is ErrorCode.transient and transient.retryable
    assert fault_of(KeyError("bug")) is ErrorCode.internal

    class NewExtractorError(errors.ExtractionError):
        code = "brand_new"

    assert fault_of(NewExtractorError()) is ErrorCode.extraction_failed

    class Timeout(Exception):
        pass

    assert fault_of(Timeout(), timeout_errors=(Timeout,)) is ErrorCode.timeout


def test_service_errors_carry_their_status_and_exit_code():
    e = ValidationError(code="invalid_rut")
    assert (e.status_code, e.code.exit_code) == (422, 2) and "RUT" in e.message
    assert NotFoundError(code="submission_not_found").status_code == 404
    assert ErrorCode.too_many_files.http_status == 413  # the request; a too large file is 422


def test_every_error_that_asks_for_a_new_upload_has_words_for_a_closed_submission():
    """Once a submission takes no uploads, nobody must read "súbalo de nuevo": every error a
    document can end with whose stored words ask for an upload has closed-submission words;
    the pipeline's, and the service's own (a hostile name refused at upload; a timeout, an
    interrupted or an internal failure of its job, ``pipeline._on_failure``), which said
    "súbalo de nuevo" or "puede intentar subirlo de nuevo" after the verdict."""
    import re

    from service.domain.messages import CLOSED_DOCUMENT_ERRORS, document_error

    asks_upload = re.compile(r"\bs[uú]b[ae]|\bsuba\b|\bsubir|vuelva a (exportar|subir)",
                             re.IGNORECASE)
    service_codes = [c for c in ErrorCode if c.document_fault] + [
        ErrorCode.timeout, ErrorCode.interrupted, ErrorCode.internal]
    stored = [(c.code, c.default_message) for c in _pipeline_error_classes()] + [
        (c.value, error_message(c, attempts=5, limit=255)) for c in service_codes]
    asking = [(code, words) for code, words in stored if asks_upload.search(words)]
    assert {"encrypted", "invalid_name", "internal"} <= {code for code, _ in asking}, (
        "the pattern no longer finds the upload wording")
    for code, words in asking:
        closed = document_error(code, words, closed=True)
        assert code in CLOSED_DOCUMENT_ERRORS, code
        assert not asks_upload.search(closed), (code, closed)
        assert document_error(code, words) == words
