"""What a reviewer's password must be: long, not a common one, not built on the username.

One rule for every way a password is set (``evidencia user add``, ``evidencia up``'s demo
reviewer, any future page), applied by ``access.create_user``. Length does most of the work
(NIST SP 800-63B, ASVS 2.1): 12 characters at least, so a phrase of a few words qualifies, and
no composition rules. The list of common passwords (``data/common-passwords.txt.gz``, see its
README) catches the long ones people still pick ("qwertyuiop123", "password1234"), also with
digits or symbols added at the end.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

__all__ = ["MIN_LENGTH", "MAX_LENGTH", "password_problem", "check_password"]

#: Characters at least: a short phrase, beyond offline guessing at argon2's cost.
MIN_LENGTH = 12
#: Characters at most: hashing is costly (argon2, 64 MiB), and nobody types more.
MAX_LENGTH = 256
#: Words of this service an attacker would try first.
_CONTEXT_WORDS = ("evidencia", "compromisomigrante", "compromiso migrante", "sermig")
_COMMON = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(gzip.decompress(_COMMON.read_bytes()).decode("utf-8").split())


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used (a key of ``messages.PASSWORD_PROBLEMS``), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    if "\x00" in password:
        return "control"
    folded = password.casefold()
    name = username.strip().casefold()
    if name and (folded in name or len(folded.replace(name, "")) < MIN_LENGTH):
        return "username"  # what is left without the username must still be long enough
    if len(set(folded)) < 4:
        return "repetitive"
    compact = folded.replace(" ", "")
    if any(word.replace(" ", "") in compact for word in _CONTEXT_WORDS):
        return "context"
    common = _common_passwords()
    stem = _TRAILING.sub("", folded)
    if folded in common or compact in common or (stem and stem in common):
        return "common"
    return None


def check_password(password: str, username: str = "") -> None:
    """Refuse a password the policy does not allow (``ValidationError``, Spanish, says why)."""
    from service.domain.errors import ValidationError
    from service.domain.messages import PASSWORD_PROBLEMS

    problem = password_problem(password, username)
    if problem is not None:
        raise ValidationError(
            PASSWORD_PROBLEMS[problem].format(min=MIN_LENGTH, max=MAX_LENGTH),
            code="weak_password", field="password",
        )
