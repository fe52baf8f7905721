"""A long document is analysed a chunk at a time, its tagged text spilled to disk once matched
(memory flat with its length): the result is the one of analysing it in one go."""

from __future__ import annotations

from classifiers import defaults
from classifiers.units import SpilledSpan

from .conftest import make_doc

PAGES = (
    "ACTA DE CONSTITUCIÓN DEL COMITÉ DE INCLUSIÓN\n\n"
    "En Temuco, a 4 de abril de 2025, se constituye el Comité de Inclusión e Interculturalidad, "
    "integrado por cinco trabajadores.\n"
    "Aún no contamos con un plan de capacitación; se evaluará diseñarlo el próximo año.",
    "Nombre | Nacionalidad | Cargo\nYolanda Pierre | Haitiana | Secretaria del comité\n"
    "Jorge Díaz | Chilena | Presidente\n\n"
    "La empresa mantiene una política de no discriminación por nacionalidad en la selección.",
    "El 18 de diciembre celebramos el Día Internacional del Migrante con una feria "
    "gastronómica abierta a la comunidad.\n"
    "En octubre se realizó el taller de derechos laborales para trabajadores migrantes, "
    "con 31 asistentes, aunque no se «evaluó» su impacto.",
)


def test_a_document_analysed_in_chunks_gives_the_same_analysis_and_result(
        classify, monkeypatch):
    from classifiers.engine import analyse
    from classifiers.features import candidate_features

    filler = [  # pages of their own (a line repeated on several pages is a running header)
        f"En {city} la gerencia revisó los turnos de {month} y la dotación de la faena.\n"
        f"La reunión de {month} en {city} terminó con el acuerdo de revisar las bodegas."
        for city in ("Arica", "Iquique", "Calama", "Copiapó") for month in ("enero", "mayo")
    ]
    doc = make_doc(PAGES[0], *filler[:4], PAGES[1], *filler[4:], PAGES[2])

    def snapshot():
        analysis = analyse(doc)
        ctx = analysis.context
        cache: dict = {}
        return (
            analysis.doc_type, analysis.scores,
            [(u.index, u.kind, u.page, u.span.start, u.span.end, u.text, u.matches)
             for u in ctx.units],
            [dict(labels) for labels in ctx.labels],
            {cid: [(c.unit.index, c.matched, c.valid, c.blocked, c.score,
                    candidate_features(c, ctx, analysis.doc_type, False, cache))
                   for c in cands] for cid, cands in analysis.candidates.items()},
            [type(u.ref) for u in ctx.units],
        ), classify(doc)

    whole, whole_result = snapshot()
    assert SpilledSpan not in whole[-1], "a short document is analysed in one go"
    monkeypatch.setattr(defaults, "TAG_CHUNK_CHARS", 300)  # a chunk every block or two
    chunked, chunked_result = snapshot()
    assert set(chunked[-1]) == {SpilledSpan}, "every unit's tokens were moved out of memory"
    assert chunked[:-1] == whole[:-1]
    assert chunked_result == whole_result
    # not empty: the rules found c1 and c4 (what they own), and something is supported
    assert {"c1", "c4"} <= {cid for cid, cands in whole[4].items() if cands}
    assert any(c.supported for c in whole_result.commitments)
