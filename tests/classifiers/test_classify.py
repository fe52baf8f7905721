"""Behaviour of classify() on documents written for the test (never corpus sentences)."""

from __future__ import annotations

from classifiers.result import COMMITMENT_IDS


def supported(result) -> set[str]:
    return {c.id for c in result.commitments if c.supported}


def evidence_texts(result, cid: str) -> list[str]:
    return [e.text for e in result.commitment(cid).evidence]


def test_contract_shape_and_confidences(classify, doc):
    r = classify(doc("Texto sin relación con nada: factura de arriendo de andamios."))
    assert [c.id for c in r.commitments] == list(COMMITMENT_IDS)
    assert r.classifier_version
    for c in r.commitments:
        assert 0.0 <= c.confidence <= 1.0
        assert not c.supported and c.evidence == ()


def test_constitution_minutes_support_c1_with_the_sentence_not_the_heading(classify, doc):
    text = (
        "ACTA DE CONSTITUCIÓN\n"
        "Mesa de Trabajo Intercultural\n\n"
        "En Rancagua, a 4 de agosto de 2025, se constituye la Mesa de Trabajo Intercultural de "
        "Frutícola Los Olmos, encargada de promover la inclusión de las personas migrantes y "
        "prevenir toda discriminación por nacionalidad.\n"
        "La mesa sesionará cada dos meses.\n"
    )
    r = classify(doc(text))
    assert "c1" in supported(r)
    top = r.commitment("c1").evidence[0]
    assert top.text.startswith("En Rancagua")
    assert top.page == 1 and top.pattern_ids
    assert r.doc_type == "acta"


def test_negated_structure_is_not_evidence(classify, doc):
    r = classify(doc(
        "Informe de avance\n\n"
        "Aún no contamos con un comité de inclusión ni con una encargada de interculturalidad "
        "para nuestros trabajadores extranjeros.\n"
    ))
    assert "c1" not in supported(r)
    assert evidence_texts(r, "c1") == []


def test_intentions_are_not_evidence(classify, doc):
    r = classify(doc(
        "Carta de la gerencia\n\n"
        "Se evaluará crear una comisión de interculturalidad el próximo año.\n"
        "Pretendemos capacitar a las jefaturas en no discriminación hacia personas migrantes.\n"
        "Nos gustaría organizar una feria intercultural con las familias de los trabajadores "
        "extranjeros.\n"
        "La política de diversidad para trabajadores migrantes está en elaboración.\n"
    ))
    assert supported(r) == set()


def test_but_clause_keeps_the_fact_and_drops_the_intention(classify, doc):
    r = classify(doc(
        "Acta de reunión\n\n"
        "El Comité de Inclusión y Diversidad sesionó el 3 de marzo con sus siete integrantes "
        "para revisar la situación de los trabajadores migrantes, pero aún no tenemos un plan "
        "de capacitación en interculturalidad.\n"
    ))
    assert "c1" in supported(r)
    assert "c2" not in supported(r)


def test_safety_committee_is_not_c1_but_a_foreign_member_makes_it_c5(classify, doc):
    text = (
        "Acta de elección del Comité Paritario de Higiene y Seguridad\n\n"
        "El 12 de mayo de 2025 se eligieron los representantes de los trabajadores ante el "
        "Comité Paritario de Higiene y Seguridad de la obra.\n\n"
        "Nombre | Nacionalidad | Cargo en el comité\n"
        "Pedro Soto Lagos | Chilena | Titular\n"
        "Jean Baptiste Louis | Haitiana | Titular, representante de los trabajadores\n"
        "Rosa Mamani Choque | Boliviana | Suplente\n"
    )
    r = classify(doc(text))
    assert "c1" not in supported(r)
    assert "c5" in supported(r)
    rows = evidence_texts(r, "c5")
    assert rows[0] in (
        "Jean Baptiste Louis | Haitiana | Titular, representante de los trabajadores",
        "Rosa Mamani Choque | Boliviana | Suplente",
    )
    assert all("Chilena" not in t for t in rows)


def test_training_committee_is_not_c1(classify, doc):
    r = classify(doc(
        "Acta de constitución\n\n"
        "Se constituye el Comité Bipartito de Capacitación, que aprobará el plan anual y velará "
        "por la inclusión de todos los trabajadores, chilenos y extranjeros.\n"
    ))
    assert "c1" not in supported(r)


def test_safety_only_training_is_not_c2(classify, doc):
    r = classify(doc(
        "Registro de asistencia\n\n"
        "Tema: uso de extintores y evacuación ante incendios.\n"
        "Fecha: 3 de junio de 2025. Relator: prevencionista de riesgos.\n\n"
        "N° | Nombre | Nacionalidad | Firma\n"
        "1 | Carla Muñoz | Chilena | \n"
        "2 | Yorman Pérez | Venezolana | \n"
    ))
    assert "c2" not in supported(r)
    assert "c5" not in supported(r)  # an attendance list is not a roster of an internal body


def test_attendance_sheet_of_intercultural_training_is_c2_not_c5(classify, doc):
    r = classify(doc(
        "REGISTRO DE ASISTENCIA\n\n"
        "Charla: Derechos laborales de las personas migrantes y trato no discriminatorio\n"
        "Fecha: 9 de septiembre de 2025 — Sala de reuniones — Relatora: Inspección del Trabajo\n\n"
        "N° | Nombre | Nacionalidad | Área | Firma\n"
        "1 | Dayana Rojas | Colombiana | Bodega | \n"
        "2 | Luis Cáceres | Chilena | Ventas | \n"
        "3 | Wisly Pierre | Haitiana | Producción | \n"
    ))
    assert r.doc_type == "registro_asistencia"
    assert "c2" in supported(r)
    assert "c5" not in supported(r)
    assert evidence_texts(r, "c2")[0].startswith("Charla:")


def test_disability_only_policy_is_not_c3(classify, doc):
    r = classify(doc(
        "Política de Inclusión Laboral\n\n"
        "La empresa promueve la inclusión laboral de personas con discapacidad conforme a la "
        "Ley N° 21.015 y prohíbe toda discriminación arbitraria en la selección.\n"
        "Se designa un gestor de inclusión laboral para acompañar a los trabajadores con "
        "discapacidad.\n"
    ))
    assert supported(r) == set()


def test_policy_clause_on_nationality_is_c3_and_future_training_clause_is_not_c2(classify, doc):
    r = classify(doc(
        "Política de Diversidad e Inclusión\n\n"
        "Ningún trabajador podrá ser discriminado por su nacionalidad, su origen o su situación "
        "migratoria en la contratación, las remuneraciones ni los ascensos.\n"
        "Recursos Humanos incorporará en el próximo plan de capacitación un módulo sobre "
        "interculturalidad.\n"
    ))
    assert "c3" in supported(r)
    assert "c2" not in supported(r)
    assert r.doc_type == "politica"


def test_community_language_workshop_is_c4_not_c2(classify, doc):
    r = classify(doc(
        "Informe de actividades 2025\n\n"
        "Entre abril y junio realizamos clases de español abiertas a la comunidad para vecinos "
        "haitianos, con 35 participantes.\n"
    ))
    assert "c4" in supported(r)
    assert "c2" not in supported(r)


def test_workforce_table_by_nationality_is_not_c5(classify, doc):
    r = classify(doc(
        "Reporte de dotación por nacionalidad\n\n"
        "Nacionalidad | Trabajadores | %\n"
        "Chilena | 310 | 72%\n"
        "Venezolana | 64 | 15%\n"
        "Peruana | 41 | 10%\n"
        "Haitiana | 13 | 3%\n"
    ))
    assert "c5" not in supported(r)


def test_evidence_buried_on_page_three_of_a_long_document(classify, doc):
    filler = (
        "El presente reglamento regula las condiciones de orden, higiene y seguridad en las "
        "faenas de la empresa y es obligatorio para todo el personal.\n"
    ) * 12
    page3 = (
        "Artículo 41.- Se prohíbe cualquier discriminación basada en la nacionalidad, la raza o "
        "el origen de los trabajadores, en particular en la asignación de turnos.\n"
    )
    r = classify(doc("Reglamento Interno\n\n" + filler, filler, filler + page3))
    assert "c3" in supported(r)
    top = r.commitment("c3").evidence[0]
    assert top.page == 3 and top.text.startswith("Artículo 41")


def test_several_commitments_in_one_report(classify, doc):
    r = classify(doc(
        "Informe anual de interculturalidad\n\n"
        "Durante 2024 el Comité de Interculturalidad sesionó seis veces y acordó el calendario "
        "de actividades.\n"
        "En octubre se realizó el taller de sesgos inconscientes y no discriminación para 48 "
        "supervisores.\n"
        "El 18 de diciembre celebramos el Día Internacional del Migrante con una feria "
        "gastronómica de comida peruana, venezolana y haitiana.\n"
    ))
    assert {"c1", "c2", "c4"} <= supported(r)
    assert "c5" not in supported(r)


def test_ocr_roster_fragments_still_show_a_foreign_member(classify, doc):
    page = (
        "ACTA DE ELECCIÓN DIRECTIVA SINDICAL\n\n"
        "El 2 de junio de 2025 fueron electos los siguientes socios:\n\n"
        "Nombre Nacionalidad | Cargo\n"
        "Marta Rivas Chilena Presidenta\n"
        "Yulisa Torres Venezolana Tesorera\n\n"
    )
    r = classify(doc(page, ocr=True))
    assert "c5" in supported(r)
    assert "Venezolana" in evidence_texts(r, "c5")[0]


def test_english_policy(classify, doc):
    r = classify(doc(
        "Global Inclusion Policy\n\n"
        "We do not tolerate discrimination based on nationality, national origin or immigration "
        "status in hiring, pay or promotion.\n"
    ))
    assert "c3" in supported(r)


def test_foreign_union_officer_elected_in_a_sentence_is_c5(classify, doc):
    r = classify(doc(
        "Acta de asamblea sindical\n\n"
        "En la asamblea del 3 de octubre de 2025 fue electa como secretaria del sindicato la "
        "trabajadora venezolana Daniela Rojas, con 88 votos.\n"
    ))
    assert "c5" in supported(r)


def test_conditional_wish_is_not_a_policy(classify, doc):
    r = classify(doc(
        "Carta al directorio\n\n"
        "Sería deseable contar con una política que prohíba la discriminación por nacionalidad.\n"
    ))
    assert "c3" not in supported(r)


def test_translated_signs_installed_are_c4_evidence(found):
    assert "c4" in found(
        "Boletín interno", "",
        "En diciembre se instalaron letreros en creole y español en todos los baños y comedores "
        "de la planta.",
    )


def test_safety_committee_meeting_mentioning_migrants_is_not_c1(classify, doc):
    r = classify(doc(
        "Acta\n\n"
        "El comité paritario de higiene y seguridad sesionó el 4 de abril y revisó los accidentes "
        "del mes, incluidos dos trabajadores haitianos lesionados.\n"
    ))
    assert "c1" not in supported(r)
