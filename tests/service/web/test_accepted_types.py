"""The upload pages offer DOC and RTF only where LibreOffice converts them (issue 13: the lean
container image leaves it out, and there such a file ends in error); XLS, read without
LibreOffice, everywhere. Every list comes from extractors.registry.FORMATS."""

from __future__ import annotations

import re
import shutil

import pytest


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_doc_and_rtf_are_offered_only_with_libreoffice(client, tmp_path, monkeypatch):
    from extractors.libreoffice import soffice_path

    if soffice_path() is None:
        pytest.skip("LibreOffice not installed (scripts/setup installs it)")
    page = client.get("/").text
    assert "Word (DOCX, DOC), OpenDocument (ODT), RTF, planillas Excel (XLSX, XLS)" in page

    monkeypatch.setenv("PATH", str(tmp_path))  # as in the image built with LIBREOFFICE=0
    assert shutil.which("soffice") is None
    page = client.get("/").text
    assert "Word (DOCX), OpenDocument (ODT), planillas Excel (XLSX, XLS)" in page
    assert "RTF" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    created = client.post("/s", data={"organizacion": "Fundación Acoge", "rut": "76.543.210-3",
                                      "csrf_token": token}, follow_redirects=True)
    assert created.status_code == 200
    assert 'accept=".pdf,.docx,.odt,.xlsx,.xls,.ods,' in created.text
    assert ".rtf" not in created.text
