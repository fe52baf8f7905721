"""Reading back the CSV reports the commands write (the batch summary, the change report), in
the product's one CSV dialect."""

from __future__ import annotations

import csv
from pathlib import Path

from service.outputs.exports import CSV_ENCODING, CsvDialect


def report_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a report the product wrote, each a dict by its header."""
    with Path(path).open(encoding=CSV_ENCODING, newline="") as fh:
        return list(csv.DictReader(fh, dialect=CsvDialect))
