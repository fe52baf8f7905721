"""E-mails (EML): a container like a ZIP. Its message is one document, each attachment another.

An organisation often forwards its evidence by e-mail: "adjunto la nómina del comité". The
message is listed as a member ``mensaje.txt`` (subject, sender, date and the body: the plain-text
part, or the HTML part read as the HTML reader reads web pages, tables as rows), and every
attachment as a member named after its file (``correo.eml/nomina.xlsx``), with the same member
limits and per-member errors as a ZIP's (``extractors.archive``); a forwarded e-mail attached to
another is listed in turn (``correo.eml/reenviado.eml/acta.pdf``). Small inline images (logos and
signatures embedded in the HTML) are left out: they are decoration, not documents.

Sizes come from the encoded parts (base64 holds 3 bytes in 4 characters), so nothing is decoded
before the whole listing is known; an attachment is decoded when its member is opened.
"""

from __future__ import annotations

import io
import mimetypes
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from extractors import defaults
from extractors.errors import CorruptFileError, TooLargeError, format_limit
from extractors.members import EMAIL_BODY_NAME, ArchiveMember, ListingContext

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["sniff_email", "list_email", "message_text", "BODY_NAME"]

#: Name of the member that holds the message itself.
BODY_NAME = EMAIL_BODY_NAME

#: Header fields that, with one of the others, make the first bytes an e-mail (RFC 5322).
_HEADER = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{0,40}):[ \t]", re.M)
_MAIL_FIELDS = {b"from", b"to", b"subject", b"date", b"message-id", b"received", b"return-path",
                b"mime-version", b"delivered-to", b"x-mailer", b"reply-to", b"cc"}  # fmt: skip
_UNSAFE_NAME = re.compile(r'[\x00-\x1f<>:"\\|?*]')


def sniff_email(head: bytes, path: Path | None = None) -> bool:
    """An e-mail: it opens with header fields, among them From and one more a mailer writes."""
    lines = head.lstrip(b"\r\n")[:4096]
    if not lines or lines[:1] in (b"{", b"<", b"%", b"\x89") or b"\0" in lines:
        return False
    names = {m.group(1).lower() for m in _HEADER.finditer(lines.split(b"\r\n\r\n")[0].split(
        b"\n\n")[0])}  # fmt: skip
    return b"from" in names and len(names & _MAIL_FIELDS) >= 3


def list_email(
    path: Path, prefix: str, depth: int, context: ListingContext
) -> Iterator[ArchiveMember]:
    """The message as ``mensaje.txt``, then every attachment, as container members."""
    import email.policy  # here, not at the top: every command imports the archive reader (the
    # errors' package), few read mail

    try:
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
    except (OSError, ValueError, LookupError) as exc:
        yield ArchiveMember(prefix.rstrip("/") or path.name, 0, CorruptFileError(
            "El correo (EML) está dañado y no se pudo leer.", detail=repr(exc),
        ))  # fmt: skip
        return
    body = message_text(message).encode("utf-8")
    name = prefix + BODY_NAME
    yield ArchiveMember(name, len(body), context.count(name, len(body)), _opener(body))
    taken = {BODY_NAME}
    for index, part in enumerate(_attachments(message), start=1):
        member = prefix + _unique(_file_name(part, index), taken)
        size = _decoded_size(part)
        problem = context.count(member, size)
        if problem is None and size > context.options.max_file_bytes:
            problem = TooLargeError(
                f"Un adjunto del correo supera el tamaño máximo "
                f"({format_limit(context.options.max_file_bytes)}).",
                detail=f"attachment of about {size} bytes",
            )
        yield ArchiveMember(member, size, problem, None if problem else _part_opener(part))


def message_text(message: EmailMessage) -> str:
    """Subject, sender, recipients and date, then the body (HTML read as visible text)."""
    from extractors.html_reader import html_text
    from extractors.normalize import normalize_text

    subject = " ".join(str(message.get("subject", "") or "").split())
    lines = [f"Asunto: {subject or '(sin asunto)'}"]  # never a header an e-mail sniff would see
    for field, label in (("from", "De"), ("to", "Para"), ("cc", "CC"), ("date", "Fecha")):
        value = " ".join(str(message.get(field, "") or "").split())
        if value:
            lines.append(f"{label}: {value}")
    body = message.get_body(preferencelist=("html", "plain"))
    text = ""
    if body is not None:
        if body.get_content_type() == "text/html":
            text = html_text(body.get_payload(decode=True) or b"", _charset(body))
        else:
            text = _text_content(body)
    return normalize_text("\n".join([*lines, "", text.strip()])).strip()


def _charset(part) -> str | None:
    charset = part.get_content_charset()
    return charset if charset and _known_codec(charset) else None


def _known_codec(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _text_content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        from extractors.plaintext import decode_text

        return decode_text(part.get_payload(decode=True) or b"")[0]


def _attachments(message: EmailMessage) -> Iterator:
    """Attached files in order, then pictures embedded in the HTML body (a photographed list
    pasted into the message), small ones (logos, signatures) left out."""
    for part in message.iter_attachments():
        if part.get_content_maintype() == "multipart":
            yield from _attachments(part)  # e.g. a second multipart/mixed
        else:
            yield part
    related = message.get_body(preferencelist=("related",))
    if related is not None:
        for part in related.iter_attachments():
            if (part.get_content_maintype() != "image"
                    or _decoded_size(part) >= defaults.EMAIL_MIN_INLINE_IMAGE_BYTES):  # fmt: skip
                yield part


def _file_name(part, index: int) -> str:
    name = part.get_filename() or ""
    name = posixpath.basename(name.replace("\\", "/")).strip()
    name = _UNSAFE_NAME.sub("_", name)[:200].strip(". ")
    if name:
        return name
    if part.get_content_type() == "message/rfc822":  # a forwarded e-mail: named by its subject
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        subject = _UNSAFE_NAME.sub("_", " ".join(str(inner.get("subject", "")).split()))
        return f"{subject.replace('/', '_')[:120].strip('. ') or f'adjunto-{index}'}.eml"
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return f"adjunto-{index}{extension}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    stem, dot, ext = name.rpartition(".")
    while candidate in taken:
        candidate = f"{stem} ({number}).{ext}" if dot else f"{name} ({number})"
        number += 1
    taken.add(candidate)
    return candidate


def _decoded_size(part) -> int:
    """Bytes of the attachment once decoded, estimated from its encoded form."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        return len(inner.as_bytes()) if hasattr(inner, "as_bytes") else 0
    raw = part.get_payload(decode=False)
    if not isinstance(raw, str):
        return 0
    if (part.get("Content-Transfer-Encoding") or "").strip().lower() == "base64":
        return len(re.sub(r"\s", "", raw)) * 3 // 4
    return len(raw.encode("utf-8", "surrogateescape"))


def _opener(data: bytes):
    return lambda: io.BytesIO(data)


def _part_opener(part):
    def opener():
        if part.get_content_type() == "message/rfc822":  # a forwarded e-mail, as its own EML
            import email.policy

            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) else payload
            return io.BytesIO(inner.as_bytes(policy=email.policy.default))
        data = part.get_payload(decode=True)
        if data is None:
            raise CorruptFileError(
                "Un adjunto del correo está dañado y no se pudo leer.",
                detail=f"undecodable part {part.get_content_type()}",
            )
        return io.BytesIO(data)

    return opener
