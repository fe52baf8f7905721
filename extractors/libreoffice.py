"""Legacy Word (DOC) and RTF: converted to DOCX by LibreOffice headless, then read as a DOCX.

No maintained Python library reads Word 97-2003 binaries with their tables; LibreOffice's import
filters do, and its DOCX output goes through the same reader (body order, tables as rows) as a
DOCX upload. Each conversion runs with its own throw-away user profile
(``-env:UserInstallation``), so parallel conversions never share a profile or its lock; in its own
process group, killed whole on timeout; under an address-space cap; and within a machine-wide
number of concurrent conversions (lock files), because each one holds ~200 MB and a core.
Where LibreOffice is not installed the file gets a Spanish set-up message, not a crash.
"""

from __future__ import annotations

import fcntl
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from extractors.document import ExtractedDocument
from extractors.errors import ConverterUnavailableError, CorruptFileError, ExtractionError
from extractors.options import ExtractOptions

__all__ = ["parse_legacy_word", "convert", "soffice_path"]


def parse_legacy_word(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    from extractors.docx_reader import parse_docx

    with tempfile.TemporaryDirectory(prefix="evidencia-lo-") as tmp:
        converted = convert(Path(path), "docx", Path(tmp), options)
        document = parse_docx(converted, options=options, progress=progress)
    return replace(document, extractor=f"libreoffice+{document.extractor}")


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, target_format: str, workdir: Path, options: ExtractOptions) -> Path:
    """Convert ``source`` with LibreOffice into ``workdir``; the path of the converted file."""
    exe = soffice_path()
    if exe is None:
        raise ConverterUnavailableError(detail="soffice not found on PATH")
    # LibreOffice names its output after the input, and picks the import filter more reliably
    # with an extension: hand it a link with a fixed name and the extension of the content.
    source_link = workdir / f"documento{_extension(source)}"
    os.symlink(Path(source).resolve(), source_link)
    outdir = workdir / "salida"
    profile = workdir / "perfil"
    command = [
        exe, "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to", target_format, "--outdir", str(outdir), str(source_link),
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(workdir)}
    with _conversion_slot(options):
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir,
            start_new_session=True,  # its own process group: oosplash and soffice.bin die together
            preexec_fn=lambda: _limit_resources(options),  # noqa: PLW1509 - setrlimit only
        )
        try:
            _, stderr = process.communicate(timeout=options.libreoffice_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise ExtractionError(
                f"La conversión del documento con LibreOffice no terminó en "
                f"{options.libreoffice_timeout:g} segundos. Ábralo en Word o LibreOffice, guárdelo "
                "como DOCX o PDF y súbalo de nuevo.",
                detail=f"soffice timed out after {options.libreoffice_timeout} s",
            ) from None
        finally:
            _kill_group(process)  # whatever it left behind
    result = outdir / f"{source_link.stem}.{target_format}"
    if process.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
        raise CorruptFileError(
            "El documento no se pudo convertir: está dañado, protegido con contraseña o no es un "
            "documento de Word o RTF válido. Ábralo en su programa original, guárdelo como DOCX o "
            "PDF y súbalo de nuevo.",
            detail=f"soffice exit {process.returncode}: {stderr[-500:]!r}",
        )
    return result


def _extension(source: Path) -> str:
    with open(source, "rb") as handle:
        head = handle.read(8)
    return ".rtf" if head.startswith(b"{\\rtf") else ".doc"


def _limit_resources(options: ExtractOptions) -> None:
    """In the child, before exec: an address-space cap (a crafted file cannot take the
    machine's memory) and a CPU-seconds cap that ends it even if the kill were missed."""
    memory = options.libreoffice_max_memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(options.libreoffice_timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def _conversion_slot(options: ExtractOptions) -> Iterator[None]:
    """Hold one of ``libreoffice_max_processes`` lock files shared by every process on the machine
    (flock is released by the kernel if the holder dies), waiting while all are taken."""
    folder = Path(tempfile.gettempdir()) / "evidencia-libreoffice-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    deadline = time.monotonic() + options.libreoffice_slot_wait
    while True:
        for slot in range(options.libreoffice_max_processes):
            fd = os.open(folder / f"slot-{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() > deadline:
            raise ExtractionError(
                "El servidor está ocupado convirtiendo otros documentos. Vuelva a subir este "
                "archivo en unos minutos, o súbalo como DOCX o PDF.",
                detail=f"no LibreOffice slot free in {options.libreoffice_slot_wait} s",
            )
        time.sleep(0.2)
