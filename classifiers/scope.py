"""Scope of negation and intention inside one unit.

A unit is cut into clauses at ``; : ( )`` and at BOUNDARY cues ("pero", "sin embargo", ...); a
clause opened by a CONCESSIVE cue ("aunque", "si bien") also ends at the next comma. A commitment
match is cancelled when a scope cue (NEG, INTENT, FUTURE) lies in its clause, so "Contamos con un
comité de inclusión, pero aún no tenemos un plan de capacitación" keeps c1 and cancels c2.

A quotation with a verb in it (quoted testimony: «no sabíamos si nos iban a aceptar», recuerda
Yohana) is a clause of its own, so its cues and the text around it do not reach each other; a
quoted name («Comisión de Trabajadores Migrantes») stays part of its clause.
"""

from __future__ import annotations

__all__ = ["SCOPE_CUES", "QUOTES", "clause_ids", "quoted_spans"]

#: cue labels that cancel evidence in their clause (a rule may tolerate FUTURE, never NEG/INTENT)
SCOPE_CUES = ("NEG", "INTENT", "FUTURE")
_HARD_PUNCT = frozenset({";", ":", "(", ")", "?", "¿"})
#: quotation marks: «testimony», “quoted”, "quoted"; the straight ones open and close alike
QUOTES = frozenset({"«", "»", "“", "”", '"', "„"})
_OPENING = frozenset({"«", "“", "„"})


def quoted_spans(span) -> list[tuple[int, int]]:
    """(first, last) doc indices of the quotation marks around each quoted stretch of ``span``."""
    out, start = [], None
    for token in span:
        text = token.text
        if text not in QUOTES:
            continue
        if start is None and (text in _OPENING or text == '"'):
            start = token.i
        elif start is not None and text not in _OPENING:
            out.append((start, token.i))
            start = None
    return out


def clause_ids(span, boundary_starts: set[int], concessive_starts: set[int]) -> list[int]:
    """Clause number of each token of ``span`` (indices relative to the span start)."""
    ids = []
    clause = 0
    in_concessive = False
    testimony = set()
    for first, last in quoted_spans(span):
        doc = span.doc
        if any(doc[k].pos_ in ("VERB", "AUX") for k in range(first + 1, last)):
            testimony.update((first, last + 1))
    for i, token in enumerate(span):
        doc_i = token.i
        if doc_i in boundary_starts or doc_i in concessive_starts or doc_i in testimony:
            clause += 1
            in_concessive = doc_i in concessive_starts
        ids.append(clause)
        if token.text in _HARD_PUNCT or (in_concessive and token.text == ","):
            clause += 1
            in_concessive = False
        del i
    return ids
