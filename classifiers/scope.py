"""Scope of negation and intention inside one unit.

A unit is cut into clauses at ``; : ( )`` and at BOUNDARY cues ("pero", "sin embargo", ...); a
clause opened by a CONCESSIVE cue ("aunque", "si bien") also ends at the next comma. A commitment
match is cancelled when a scope cue (NEG, INTENT, FUTURE) lies in its clause, so "Contamos con un
comité de inclusión, pero aún no tenemos un plan de capacitación" keeps c1 and cancels c2.
"""

from __future__ import annotations

__all__ = ["SCOPE_CUES", "clause_ids"]

#: cue labels that cancel evidence in their clause (a rule may tolerate FUTURE, never NEG/INTENT)
SCOPE_CUES = ("NEG", "INTENT", "FUTURE")
_HARD_PUNCT = frozenset({";", ":", "(", ")", "?", "¿"})


def clause_ids(span, boundary_starts: set[int], concessive_starts: set[int]) -> list[int]:
    """Clause number of each token of ``span`` (indices relative to the span start)."""
    ids = []
    clause = 0
    in_concessive = False
    for i, token in enumerate(span):
        doc_i = token.i
        if doc_i in boundary_starts or doc_i in concessive_starts:
            clause += 1
            in_concessive = doc_i in concessive_starts
        ids.append(clause)
        if token.text in _HARD_PUNCT or (in_concessive and token.text == ","):
            clause += 1
            in_concessive = False
        del i
    return ids
