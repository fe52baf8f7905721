"""Chilean RUT: its format and modulo-11 check digit, decided in one place.

Pure functions with no imports from the rest of the project, so the API, the web forms and the
corpus renderer (a script) all use the same rule.
"""

from __future__ import annotations

import re

__all__ = ["RutError", "check_digit", "format_rut", "normalize_rut", "rut_fragment"]

_SEPARATORS = re.compile(r"[.\s\-‐‑–]")
_COMPACT = re.compile(r"^(\d{1,8})([0-9K])$")
_FRAGMENT = re.compile(r"^\d{3,9}K?$")


class RutError(ValueError):
    """``reason`` is "empty", "format" or "check_digit"."""

    def __init__(self, reason: str, rut: str):
        self.reason = reason
        super().__init__(f"invalid RUT ({reason}): {rut!r}")


def check_digit(body: str) -> str:
    """Modulo-11 check digit of the number part: "76543210" -> "3"."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    dv = 11 - total % 11
    return {11: "0", 10: "K"}.get(dv, str(dv))


def normalize_rut(rut: str) -> str:
    """``"76.543.210-3"`` -> ``"76543210-3"``; raises RutError when malformed or wrong."""
    compact = _SEPARATORS.sub("", rut or "").upper()
    if not compact:
        raise RutError("empty", rut)
    match = _COMPACT.match(compact)
    if not match:
        raise RutError("format", rut)
    body, dv = match.groups()
    if check_digit(body) != dv:
        raise RutError("check_digit", rut)
    return f"{int(body)}-{dv}"


def format_rut(value: str | None) -> str:
    """'77214538-1' → '77.214.538-1' (how Chileans write it); anything else as it is."""
    if not value:
        return "—"
    m = re.fullmatch(r"(\d+)-([\dkK])", value)
    if not m:
        return value
    return f"{int(m.group(1)):,}".replace(",", ".") + "-" + m.group(2).upper()


def rut_fragment(text: str) -> str | None:
    """What a search for a RUT, whole or in part and in any format, looks for in stored RUTs
    without their dash: "76.086.428-5", "76086428-5" and "760864285" all give "760864285";
    None when the text is not digits (and a final K) with separators."""
    compact = _SEPARATORS.sub("", text or "").upper()
    return compact if _FRAGMENT.match(compact) else None
