"""Issue 11, item 9: pages and exports in Chilean time, exports with an ISO 8601 offset."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from service.domain import clock
from service.domain.messages import format_datetime

#: ISO 8601 with Chile's offset (-03:00 in summer, -04:00 in winter), to the second.
CHILE_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[34]:00$")


def test_chilean_time_follows_the_season_and_reads_naive_values_as_utc():
    summer = datetime(2026, 12, 4, 22, 30, 5, tzinfo=UTC)
    winter = datetime(2026, 7, 4, 22, 30, 5)  # naive, as SQLite hands it back: UTC
    assert clock.iso(summer) == "2026-12-04T19:30:05-03:00"
    assert clock.iso(winter) == "2026-07-04T18:30:05-04:00"
    assert format_datetime(summer) == "04-12-2026 19:30"
    assert format_datetime(winter) == "04-07-2026 18:30"
    assert clock.iso(None) is None and format_datetime(None) == ""
    # the same instant, whatever the notation
    assert datetime.fromisoformat(clock.iso(summer)) == summer


def test_exports_carry_the_offset(db_session, seeded):
    from openpyxl import load_workbook

    from service.domain.matrix import load_matrix
    from service.outputs.exports import MATRIX_HEADERS, matrix_csv, matrix_xlsx

    m = load_matrix(db_session, seeded["full"].id)
    rows = list(csv.reader(io.StringIO(matrix_csv(m).decode("utf-8-sig")), delimiter=";"))
    column = MATRIX_HEADERS.index("Fecha decisión")
    assert rows[0] == MATRIX_HEADERS
    assert all(CHILE_ISO.match(row[column]) for row in rows[1:]), rows
    book = load_workbook(io.BytesIO(matrix_xlsx(m, with_history=True)))
    dates = [row[0] for row in book["Historial"].iter_rows(min_row=2, values_only=True)]
    assert len(dates) == 10 and all(CHILE_ISO.match(d) for d in dates), dates
    sheet = [r[column] for r in book["Matriz"].iter_rows(min_row=3, values_only=True)]
    assert all(CHILE_ISO.match(d) for d in sheet), sheet


def test_api_json_times_carry_the_offset(client):
    r = client.post("/api/submissions", json={"organization": "ONG Tiempo", "rut": "76086428-5"})
    created = r.json()["created_at"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?-0[34]:00$", created), created
    token = r.json()["token"]
    status = client.get(f"/api/submissions/{r.json()['id']}",
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert datetime.fromisoformat(status["created_at"]) == datetime.fromisoformat(created)


def test_this_week_starts_on_monday_midnight_in_chile():
    from datetime import UTC, datetime

    from service.domain.clock import week_start

    # Sunday 6 December 2026, 23:00 in Chile (-03:00) is still the week of Monday 30 November
    assert week_start(datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 3, 0, tzinfo=UTC)
    assert week_start(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 3, 0, tzinfo=UTC)
