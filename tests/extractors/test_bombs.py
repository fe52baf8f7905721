"""The memory bombs of the hardening issue, each answered with a Spanish error, memory bounded.

Each hostile file is read in a fresh interpreter whose own peak RSS is measured (a bare
``import extractors`` interpreter peaks at ~40 MB). Before the fix the same files took: PNG
3.5 GB, DOCX 1.4 GB, ZIP of 1,000 members 1.0 GB.
"""

from __future__ import annotations

import random
import struct
import zipfile

import pytest

from extractors import ExtractOptions
from extractors.archive import iter_archive, open_archive
from extractors.errors import CorruptFileError, TooLargeError, UnsafeArchiveError
from tests.bombs import Segment, docx_bomb, png_bomb, run_measured, zip_file, zip_of_zeros


def _extract_in_child(path) -> tuple[str, float]:
    return run_measured(f"""
import extractors
from extractors.errors import ExtractionError
try:
    extractors.extract({str(path)!r})
    print("read")
except ExtractionError as exc:
    print(type(exc).__name__, exc.message)
""")


def test_375_megapixel_png_of_1_mb_is_refused_before_decoding(tmp_path):
    path = png_bomb(tmp_path / "plano.png")
    assert path.stat().st_size < 1_200_000
    out, peak = _extract_in_child(path)
    assert out.startswith("TooLargeError La imagen mide 25000 × 15000 píxeles (375 megapíxeles)")
    assert "Redúzcala" in out
    assert peak < 200, f"peak RSS {peak:.0f} MB"


def test_image_within_the_budget_is_still_read_and_one_above_is_refused():
    from PIL import Image

    from extractors.images import decode_within

    options = ExtractOptions(max_decode_pixels=1_000_000)
    small, scale = decode_within(Image.new("RGB", (1000, 1000), "white"), 250_000, options)
    assert small.size == (500, 500) and scale == pytest.approx(0.5)
    with pytest.raises(TooLargeError, match="megapíxeles"):
        decode_within(Image.new("RGB", (1001, 1000)), 250_000, options)


def test_docx_with_a_100_mb_document_xml_is_refused_from_its_directory(tmp_path):
    path = docx_bomb(tmp_path / "informe.docx")
    assert path.stat().st_size < 600_000
    out, peak = _extract_in_child(path)
    assert out.startswith("TooLargeError El documento Word es demasiado grande")
    assert "sin comprimir" in out and "Divídalo" in out
    assert peak < 150, f"peak RSS {peak:.0f} MB"


def test_docx_of_ordinary_size_is_read(tmp_path):
    path = docx_bomb(tmp_path / "informe.docx", xml_bytes=300_000)
    out, _peak = _extract_in_child(path)
    assert out.strip() == "read"


def test_archive_of_1000_megabyte_members_is_listed_without_expanding_any(tmp_path):
    path = zip_of_zeros(tmp_path / "lote.zip", 1000, 1_000_000)
    out, peak = run_measured(f"""
from extractors.archive import open_archive
with open_archive({str(path)!r}) as archive:
    print(len(archive), sum(m.error is not None for m in archive))
""")
    assert out.split() == ["1000", "1000"]  # each member 1 MB of zeros packed ~1000x: refused
    assert peak < 120, f"peak RSS {peak:.0f} MB"


def test_members_are_streamed_not_held(tmp_path):
    """Ten 50 MB members of real-looking content (ratio under the limit) stream in chunks."""
    block = random.Random(0).randbytes(1 << 20)  # 1 MiB that deflate cannot squeeze
    path = zip_file(tmp_path / "grande.zip",
                    [(f"escaneo{i}.tif", [Segment(block, 50)]) for i in range(10)])  # fmt: skip
    out, peak = run_measured(f"""
from extractors.archive import open_archive
total = 0
with open_archive({str(path)!r}) as archive:
    for member in archive:
        with member.open() as stream:
            while chunk := stream.read(1 << 20):
                total += len(chunk)
print(total)
""")
    assert int(out) == 10 * 50 * len(block)
    assert peak < 120, f"peak RSS {peak:.0f} MB"


def test_many_small_members_compressed_beyond_reason_are_refused_together(tmp_path):
    """Members under the per-member ratio floor, each harmless, add up to a bomb."""
    path = zip_file(tmp_path / "lote.zip",
                    [(f"nota{i}.txt", [Segment(b"\0" * 60_000)]) for i in range(200)])  # fmt: skip
    members = list(iter_archive(path))
    assert len(members) == 1 and isinstance(members[0].error, UnsafeArchiveError)
    assert "bomba ZIP" in members[0].error.message


def test_one_bomb_member_is_refused_and_its_neighbours_read(tmp_path):
    path = zip_file(tmp_path / "entrega.zip", [
        ("acta.txt", [Segment("Acta de constitución del comité de inclusión".encode())]),
        ("ceros.txt", [Segment(b"\0" * 1_000_000)]),
        ("plan.txt", [Segment("Plan de capacitación 2025".encode())]),
    ])  # fmt: skip
    with open_archive(path) as archive:
        found = {m.name: m for m in archive}
        assert found["acta.txt"].read().decode().startswith("Acta")
        assert found["plan.txt"].read().decode().startswith("Plan")
    assert isinstance(found["ceros.txt"].error, UnsafeArchiveError)


def test_member_that_lies_about_its_size_is_a_member_error(tmp_path):
    path = tmp_path / "mentira.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("acta.txt", "Acta de la sesión ordinaria del comité " * 200)
        zf.writestr("plan.txt", "Plan de capacitación")
    data = bytearray(path.read_bytes())
    for marker, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # declare 100 bytes
        at = data.find(marker)
        data[at + size_at : at + size_at + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))
    with open_archive(path) as archive:
        found = {m.name: m for m in archive}
        with pytest.raises(CorruptFileError):
            found["acta.txt"].read()
        assert found["plan.txt"].read() == b"Plan de capacitaci\xc3\xb3n"


def test_nested_archives_are_listed_level_by_level_within_the_same_budget(tmp_path):
    inner = zip_of_zeros(tmp_path / "interno.zip", 3, 1_000_000)
    middle = zip_file(tmp_path / "medio.zip", [
        ("interno.zip", [Segment(inner.read_bytes())]),
        ("acta.txt", [Segment(b"Acta")]),
    ])  # fmt: skip
    path = zip_file(tmp_path / "externo.zip", [("medio.zip", [Segment(middle.read_bytes())])])
    members = {m.name: m for m in iter_archive(path)}
    assert set(members) == {
        "medio.zip/acta.txt", *(f"medio.zip/interno.zip/doc{i:04d}.txt" for i in range(3))
    }
    assert members["medio.zip/acta.txt"].error is None
    assert all(isinstance(m.error, UnsafeArchiveError) for n, m in members.items() if "doc" in n)
    shallow = list(iter_archive(path, options=ExtractOptions(max_archive_depth=1)))
    assert [m.name for m in shallow] == ["medio.zip/interno.zip", "medio.zip/acta.txt"]
    assert "anidados" in shallow[0].error.message
