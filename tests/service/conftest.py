"""Fixtures of the service's tests: an in-process client and a reviewer account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(service_env):
    from service.app import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def reviewer(service_env):
    """(username, password) of a reviewer, for HTTP Basic."""
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, "ana.revisora", "clave-segura-1", "reviewer")
    return ("ana.revisora", "clave-segura-1")

