"""Fixtures for the extraction tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _single_threaded_tesseract(monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
