"""Hostile files from the hardening issue, generated in milliseconds, and a peak-RSS probe.

The bombs are written without ever holding their expanded content: a deflate stream of one
block of repeated content is compressed once (ending in a full flush, which makes it
self-contained) and written as many times as needed, so a 1.1 GB PNG or 1 GB of ZIP members cost
the test a few megabytes and milliseconds.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO


@dataclass(frozen=True)
class Segment:
    data: bytes
    repeat: int = 1


def _deflate_units(segments: list[Segment]) -> list[tuple[bytes, int]]:
    """Raw deflate bytes per segment (each self-contained), to be written ``repeat`` times."""
    units = []
    for seg in segments:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        units.append((comp.compress(seg.data) + comp.flush(zlib.Z_FULL_FLUSH), seg.repeat))
    final = zlib.compressobj(9, zlib.DEFLATED, -15)
    units.append((final.flush(), 1))  # the empty last block
    return units


def zip_file(path: Path, members: list[tuple[str, list[Segment]]]) -> Path:
    """A ZIP (deflate) whose members are repeated segments; no ZIP64, members under 4 GB."""
    central = b""
    with open(path, "wb") as out:
        for name, segments in members:
            raw_name = name.encode()
            crc = size = 0
            for seg in segments:
                for _ in range(seg.repeat):
                    crc = zlib.crc32(seg.data, crc)
                size += len(seg.data) * seg.repeat
            units = _deflate_units(segments)
            packed = sum(len(u) * r for u, r in units)
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, packed,
                                  size, len(raw_name), 0) + raw_name)  # fmt: skip
            for unit, repeat in units:
                for _ in range(repeat):
                    out.write(unit)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                                   packed, size, len(raw_name), 0, 0, 0, 0, 0,
                                   offset) + raw_name  # fmt: skip
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                              len(central), start, 0))  # fmt: skip
    return path


def zip_of_zeros(path: Path, members: int, size: int) -> Path:
    """``members`` files of ``size`` zero bytes each (1 MB of zeros packs into ~1 KB)."""
    zeros = [Segment(b"\0" * size)]  # one block shared by every member
    return zip_file(path, [(f"doc{i:04d}.txt", zeros) for i in range(members)])


def png_bomb(path: Path, width: int = 25_000, height: int = 15_000) -> Path:
    """A white RGB PNG: 375 megapixels (1.1 GB decoded) in about 1.1 MB by default."""
    rows = 200
    row = b"\x00" + b"\xff" * (3 * width)
    block = row * rows

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    adler = 1
    for _ in range(height // rows):
        adler = zlib.adler32(block, adler)
    tail = row * (height % rows)
    adler = zlib.adler32(tail, adler)
    units = _deflate_units([Segment(block, height // rows), Segment(tail)])
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        out.write(chunk(b"IDAT", b"\x78\xda"))
        for unit, repeat in units:
            data = chunk(b"IDAT", unit)
            for _ in range(repeat):
                out.write(data)
        out.write(chunk(b"IDAT", struct.pack(">I", adler)))
        out.write(chunk(b"IEND", b""))
    return path


_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)
_DOC_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"></Relationships>'
)


def docx_bomb(path: Path, xml_bytes: int = 100_000_000) -> Path:
    """A DOCX whose ``word/document.xml`` is ``xml_bytes`` of paragraphs (100 MB in ~0.4 MB)."""
    head = b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + _W + b"><w:body>"
    para = "<w:p><w:r><w:t>Política de inclusión de personas migrantes.</w:t></w:r></w:p>"
    block = para.encode() * 1000
    tail = b"</w:body></w:document>"
    return zip_file(path, [
        ("[Content_Types].xml", [Segment(_CONTENT_TYPES)]),
        ("_rels/.rels", [Segment(_RELS)]),
        ("word/_rels/document.xml.rels", [Segment(_DOC_RELS)]),
        ("word/document.xml",
         [Segment(head), Segment(block, max(1, xml_bytes // len(block))), Segment(tail)]),
    ])  # fmt: skip


PEAK_MARK = "PEAK_RSS_MB="


def run_measured(code: str, *, timeout: float = 600) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter (the repository on its path, the caller's
    environment); return its stdout and its own peak resident memory in MB.

    The peak is the kernel's high-water mark of the interpreter's own memory (``VmHWM``):
    ``getrusage``'s ``ru_maxrss`` would also carry the forking test process's size across exec.
    """
    script = (
        code
        + "\nimport re as _re\n"
        + "_hwm = _re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        + f"print({PEAK_MARK!r} + str(int(_hwm) / 1024))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, _, peak = proc.stdout.rpartition(PEAK_MARK)
    return out, float(peak)
