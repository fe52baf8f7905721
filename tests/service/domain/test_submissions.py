"""Creating a submission: every problem with its fields named, in Spanish, in one place."""

from __future__ import annotations

import pytest

from service.domain.errors import ValidationError
from service.domain.submissions import normalize_rut, submission_problems


@pytest.mark.parametrize(
    ("rut", "fragment"),
    [
        ("", "Ingrese"),
        ("hola", "forma"),
        ("76.543.210-9", "dígito verificador"),
        ("76.543.210-3", None),
        ("765432103", None),
        ("65.432.109-4", None),
    ],
)
def test_rut_messages(rut, fragment):
    if fragment is None:
        assert normalize_rut(rut)
        return
    with pytest.raises(ValidationError) as raised:
        normalize_rut(rut)
    assert fragment in raised.value.message and raised.value.field == "rut"
    assert "RUT" in raised.value.message


def test_every_problem_is_reported_with_its_field():
    problems = submission_problems("", "76.543.210-9", rut_required=True)
    assert [(p.field, str(p.code)) for p in problems] == [
        ("organization", "missing_organization"), ("rut", "invalid_rut")]
    too_long = submission_problems("x" * 301, None)
    assert [str(p.code) for p in too_long] == ["organization_too_long"]
    assert submission_problems("Fundación Sol", None) == []  # the API's RUT is optional
    assert [str(p.code) for p in submission_problems("Fundación Sol", "", rut_required=True)
            ] == ["missing_rut"]
