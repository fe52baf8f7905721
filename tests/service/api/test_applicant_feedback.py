"""What the applicant's page says after a reviewer acted, on real sample documents (no browser:
the page as served)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[3] / "samples" / "demo"


def _summary(html: str) -> str:
    text = re.search(r'<p class="summary"[^>]*>(.*?)</p>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def _ticks(html: str) -> int:
    return len(re.findall(r'class="check-item covered"', html))


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_count_of_covered_commitments_follows_the_reviewers_decisions(
        client, reviewer, run_worker_burst):
    """QA 2026-12-06: after a reviewer rejected a detected commitment the applicant read
    "5 de 5 compromisos con evidencia" above a checklist showing it "No acreditado" (the count
    was the classifier's, the ticks the reviewer's)."""
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    files = [("files", (name, (DEMO / name).read_bytes()))
             for name in ("politica-inclusion.docx", "informe-actividades-2025.pdf")]
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    client.post(f"/api/submissions/{sub['id']}/documents", files=files, headers=applicant)
    run_worker_burst()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    detected = _ticks(page)
    assert detected >= 2  # c3 from the policy, c4 from the report
    assert _summary(page).startswith(f"{detected} de 5 compromisos con evidencia")

    decisions = f"/api/submissions/{sub['id']}/decisions"
    r = client.post(decisions, auth=reviewer, json={"commitment": "c3", "action": "reject",
                                                    "comment": "No es una política vigente."})
    assert r.status_code == 201, r.text
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "No acreditado por el equipo revisor" in page
    assert _ticks(page) == detected - 1
    assert _summary(page).startswith(f"{detected - 1} de 5 compromisos con evidencia")
