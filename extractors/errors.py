"""One exception hierarchy for the whole pipeline.

Each error carries a stable ``code`` (for logs, metrics and API bodies) and a Spanish ``message``
that tells the user what happened and how to fix it. They become exit codes (CLI) or HTTP statuses
(API) at exactly one boundary each; stages only raise them.
"""

from __future__ import annotations

from extractors.registry import accepted_formats_text

__all__ = [
    "EvidenciaError",
    "ExtractionError",
    "EmptyFileError",
    "UnsupportedTypeError",
    "EncryptedError",
    "CorruptFileError",
    "DamagedFileError",
    "TooLargeError",
    "UnsafeArchiveError",
    "OCRUnavailableError",
    "ConverterUnavailableError",
    "UnsupportedEncryptionError",
    "WrongPasswordError",
    "format_limit",
]


class EvidenciaError(Exception):
    """Base of every error the project raises on purpose."""

    code = "error"
    default_message = "Ocurrió un error al procesar el archivo."

    def __init__(self, message: str | None = None, *, detail: str | None = None):
        self.message = message or self.default_message
        #: English technical detail for logs; never shown to users.
        self.detail = detail
        super().__init__(self.message)


class ExtractionError(EvidenciaError):
    """A file could not be read; the other files of a batch or submission go on."""

    code = "extraction_failed"
    default_message = "No se pudo leer el archivo."


class EmptyFileError(ExtractionError):
    code = "empty_file"
    default_message = "El archivo está vacío (0 bytes). Vuelva a exportarlo o súbalo de nuevo."


class UnsupportedTypeError(ExtractionError):
    code = "unsupported_type"
    default_message = "Tipo de archivo no soportado. " + accepted_formats_text()


class EncryptedError(ExtractionError):
    code = "encrypted"
    default_message = (
        "El PDF está protegido con contraseña. Súbalo sin contraseña "
        "(por ejemplo, imprimiéndolo a un PDF nuevo)."
    )


class WrongPasswordError(EncryptedError):
    code = "wrong_password"
    default_message = (
        "La contraseña indicada para el PDF no es correcta. Revísela o suba el PDF sin contraseña."
    )


class UnsupportedEncryptionError(EncryptedError):
    """Encrypted with a scheme no installed reader implements: no password will help."""

    code = "encryption_unsupported"
    default_message = (
        "El PDF usa un cifrado no soportado y no se puede leer, ni siquiera con contraseña. "
        "Ábralo en su programa original y guárdelo o imprímalo como un PDF nuevo sin cifrado."
    )


class CorruptFileError(ExtractionError):
    code = "corrupt"
    default_message = (
        "El archivo está dañado o incompleto y no se pudo leer. Vuelva a exportarlo desde el "
        "programa original."
    )


class DamagedFileError(CorruptFileError):
    """Bytes that are no known format under a name that says what they should be: a file
    damaged on the way (a failed download, a truncated copy), not an unsupported type."""

    def __init__(self, kind: str, *, detail: str | None = None):
        self.kind = kind
        super().__init__(
            f"El archivo {kind} está dañado o incompleto y no se puede leer (quizá la descarga "
            f"o la copia no terminó). Ábralo en su computador y, si se ve bien, guárdelo o "
            f"expórtelo de nuevo como {kind} y súbalo otra vez.",
            detail=detail,
        )


class TooLargeError(ExtractionError):
    code = "too_large"
    default_message = "El archivo supera el tamaño máximo permitido."


class UnsafeArchiveError(ExtractionError):
    code = "unsafe_archive"
    default_message = (
        "El archivo ZIP contiene rutas no permitidas o una compresión anómala y fue rechazado."
    )


class OCRUnavailableError(EvidenciaError):
    """Tesseract or its Spanish data is missing: a set-up problem, not a bad file."""

    code = "ocr_unavailable"
    default_message = (
        "El reconocimiento de texto (OCR) no está disponible en el servidor: falta Tesseract "
        "o su idioma español (paquetes tesseract-ocr y tesseract-ocr-spa)."
    )


class ConverterUnavailableError(EvidenciaError):
    """LibreOffice is not installed: this deployment does not read DOC or RTF (the lean image
    leaves it out on purpose). The document fails saying what to send instead; no retry."""

    code = "converter_unavailable"
    default_message = (
        "Este servidor no convierte documentos Word antiguos (DOC) ni RTF: para eso usa "
        "LibreOffice, que no está instalado. Guarde el documento como DOCX o PDF y súbalo de "
        "nuevo."
    )


def format_limit(n: int) -> str:
    """A size limit as people read it, never said as more room than there is (rounded down):
    "100 MB", "1,9 MB", "500 KB". A 2,000,000-byte limit said as "1 MB" refused a 1.5 MB file
    the page said fits nowhere, and accepted one it said did not fit. The one wording: the
    service's messages (``service.domain.messages.format_limit``) say limits with it too."""
    mib = n / (1024 * 1024)
    if n < 1024:
        return f"{n} B"
    if mib < 1:
        return f"{n // 1024} KB"
    if mib < 10:
        return f"{int(mib * 10) / 10:g} MB".replace(".", ",")
    return f"{int(mib)} MB"
