"""Every stable error code a user can see has its own Spanish words."""

from __future__ import annotations

from extractors import errors
from service.domain.messages import ERROR_MESSAGES, error_message


def test_pipeline_error_codes_keep_their_own_message_not_the_internal_one():
    # a damaged ZIP once came back as "error interno… el equipo fue notificado"
    assert error_message("corrupt") == errors.CorruptFileError.default_message
    for cls in (errors.EmptyFileError, errors.UnsupportedTypeError, errors.EncryptedError,
                errors.UnsafeArchiveError, errors.OCRUnavailableError):
        assert error_message(cls.code) == cls.default_message
        assert error_message(cls.code) != ERROR_MESSAGES["internal"]


def test_unknown_codes_fall_back_to_the_internal_message():
    assert error_message("no-such-code") == ERROR_MESSAGES["internal"]
