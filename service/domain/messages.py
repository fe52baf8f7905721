"""Every word of Spanish the service says to people, by stable code: the one table to reword.

Code stores and compares codes (``service.domain.lifecycle``, ``service.domain.errors``,
``extractors.errors``); only pages, API bodies, exports, the report and the command line turn
them into words, through the tables and functions here. The templates hold the pages' own
sentences; the pipeline's error classes carry their default message, which
:func:`error_message` falls back to.
"""

from __future__ import annotations

import errno
import re
import tomllib
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache

from extractors.errors import format_limit

__all__ = [
    "COMMITMENT_NAMES",
    "COMMITMENT_SHORT",
    "DOC_TYPE_NAMES",
    "STATUS_LABELS",
    "STAGE_LABELS",
    "CELL_STATUS_LABELS",
    "ACTION_LABELS",
    "ACTION_MEANINGS",
    "REVIEW_STATUS_LABELS",
    "review_status_label",
    "transition_hint",
    "EMAILS",
    "format_age",
    "format_size",
    "format_limit",
    "os_reason",
    "ERROR_MESSAGES",
    "ERROR_TITLES",
    "NOTICES",
    "CLASSIFIER_FALLBACKS",
    "PROMOTED_MODEL_FALLBACK",
    "ARTEFACT_PROBLEMS",
    "classifier_fallback",
    "RUT_PROBLEMS",
    "SECRET_KEY_PROBLEMS",
    "PASSWORD_PROBLEMS",
    "commitment_name",
    "commitment_short",
    "doc_type_name",
    "status_label",
    "not_in_error_message",
    "removed_document",
    "stage_label",
    "cell_status_label",
    "action_label",
    "error_message",
    "CLOSED_DOCUMENT_ERRORS",
    "document_error",
    "error_title",
    "notice",
    "format_datetime",
    "yes_no",
    "found_word",
    "CONFIDENCE_LABELS",
    "confidence_label",
    "rule_descriptions",
    "rule_families",
    "passage_role",
    "considered_note",
    "overturned_note",
    "accepted_types",
    "accept_list",
]

# --- the domain's vocabulary ------------------------------------------------------------------

#: The five commitments as reviewers say them (domain guide).
COMMITMENT_NAMES: dict[str, str] = {
    "c1": (
        "Contar con estructuras internas encargadas de coordinar acciones que promuevan la "
        "inclusión, la interculturalidad y la no discriminación"
    ),
    "c2": "Contar con un plan de capacitación y sensibilización para su personal",
    "c3": (
        "Contar con políticas internas que aseguren buenas prácticas laborales que promuevan la "
        "inclusión, la interculturalidad y la no discriminación"
    ),
    "c4": (
        "Emprender acciones para promover la interculturalidad al interior de la institución y "
        "en la sociedad chilena"
    ),
    "c5": (
        "Fomentar la participación de personas extranjeras en las estructuras internas de la "
        "institución"
    ),
}

COMMITMENT_SHORT: dict[str, str] = {
    "c1": "Estructura interna de inclusión",
    "c2": "Plan de capacitación y sensibilización",
    "c3": "Políticas internas de buenas prácticas",
    "c4": "Acciones de interculturalidad",
    "c5": "Participación de personas extranjeras",
}

DOC_TYPE_NAMES: dict[str, str] = {
    "politica": "política",
    "protocolo": "protocolo",
    "plan_capacitacion": "plan de capacitación",
    "acta": "acta",
    "registro_asistencia": "registro de asistencia",
    "informe_actividades": "informe de actividades",
    "reglamento": "reglamento",
    "otro": "otro",
}

# --- progress, matrix cells and decisions --------------------------------------------------------

STATUS_LABELS: dict[str, str] = {
    "queued": "en cola",
    "processing": "procesando",
    "done": "listo",
    "error": "error",
}

#: what a document not in error is doing, for "Sin error, nada que reintentar: …" (words that
#: read the same for one document or a group of them)
NOT_IN_ERROR_STATES: dict[str, str] = {
    "queued": "en cola, a la espera de un worker",
    "processing": "en lectura por un worker en este momento",
    "done": "lectura terminada («listo»)",
}

STAGE_LABELS: dict[str, str] = {
    "queued": "en cola",
    "extracting": "extrayendo",
    "ocr": "OCR página {detail}",
    "classifying": "clasificando",
    "done": "listo",
    "error": "error",
}

#: A matrix cell (commitment of a submission) as every surface names it: the reviewer's last
#: decision, or what the classifier found while no reviewer has decided.
CELL_STATUS_LABELS: dict[str, str] = {
    "confirmed": "Confirmado",
    "rejected": "Rechazado",
    "detected": "Detectado, pendiente de revisión",
    "pending": "En proceso: aún se leen documentos",
    "missing": "Sin evidencia, pendiente de revisión",
}

#: What a passage is in its cell (``matrix.Passage.role``): evidence where the document supports
#: the commitment; where it does not (the decision, the learned model's, said no), a
#: passage the classifier read and found not enough, which a reviewer may still want to see.
PASSAGE_ROLES: dict[bool, str] = {True: "evidencia", False: "considerado, no suficiente"}

#: How sure the classifier is (``service.domain.matrix.confidence_level``), in words: pages
#: never print a bare percentage, which reads as "99 % there" next to "not found".
CONFIDENCE_LABELS: dict[str, str] = {"high": "alta", "medium": "media", "low": "baja"}

#: Reviewer decisions, as history tables, exports and the report show them.
ACTION_LABELS: dict[str, str] = {
    "confirm": "Confirmó",
    "reject": "Rechazó",
    "attach": "Adjuntó evidencia",
    "undo": "Deshizo la decisión anterior",
    "comment": "Comentó",
}

#: What each of the decision API's action values means, in Spanish: the values stay as the API
#: takes them (English), and every message that lists them explains them with these words.
ACTION_MEANINGS: dict[str, str] = {
    "confirm": "confirmar",
    "reject": "rechazar",
    "attach": "adjuntar evidencia",
    "undo": "deshacer la decisión vigente",
    "comment": "comentar",
}


def _explained(value: str, quote: str = "") -> str:
    """``confirm (confirmar)``: an API value followed by its meaning, when one is known."""
    meaning = ACTION_MEANINGS.get(value)
    return f"{quote}{value}{quote}" + (f" ({meaning})" if meaning else "")

#: A submission's review status (``service.domain.workflow.ReviewStatus``), as pages, e-mails
#: and the API's messages name it.
REVIEW_STATUS_LABELS: dict[str, str] = {
    "borrador": "Borrador",
    "enviada": "Enviada a revisión",
    "en_revision": "En revisión",
    "observada": "Observada: se solicitan cambios",
    "aprobada": "Aprobada",
    "no_aprobada": "No aprobada",
}

#: Why a step is refused, by the submission's current status: what happens next instead.
TRANSITION_HINTS: dict[str, str] = {
    "borrador": "La organización aún no la envía a revisión.",
    "enviada": "Espera que un revisor la tome para revisarla.",
    "en_revision": "Un revisor la está revisando.",
    "observada": "Espera que la organización agregue documentos y la vuelva a enviar.",
    "aprobada": (
        "La revisión terminó: la decisión es final. Solo un administrador puede reabrirla "
        "(vuelve a «En revisión»)."
    ),
    "no_aprobada": (
        "La revisión terminó: la decisión es final. Solo un administrador puede reabrirla "
        "(vuelve a «En revisión»)."
    ),
}

#: E-mails to applicants, by kind: subject, then the opening line of the body. The rest of the
#: body (messages, where to read more) is assembled by ``service.domain.mail``.
EMAILS: dict[str, tuple[str, str]] = {
    "observada": (
        "Compromiso Migrante: se solicitan cambios en su postulación",
        "El equipo revisor de Compromiso Migrante revisó la postulación de {organization} y "
        "solicita cambios antes de decidir. Agregue los documentos que se indican y vuelva a "
        "enviarla a revisión desde la página de su postulación.",
    ),
    "aprobada": (
        "Compromiso Migrante: su postulación fue aprobada",
        "El equipo revisor de Compromiso Migrante aprobó la postulación de {organization}. "
        "¡Felicitaciones!",
    ),
    "no_aprobada": (
        "Compromiso Migrante: su postulación no fue aprobada",
        "El equipo revisor de Compromiso Migrante revisó la postulación de {organization} y "
        "no la aprobó, por las razones que siguen.",
    ),
    "lost_link": (
        "Compromiso Migrante: nuevo enlace a su postulación",
        "Alguien pidió un nuevo enlace a la postulación de {organization} (creada el "
        "{created}). Este es el enlace secreto; el anterior dejó de funcionar:\n\n{{link}}\n\n"
        "Guárdelo y no lo comparta fuera de su organización. Si usted no lo pidió, basta con "
        "usar este enlace nuevo.",
    ),
}
EMAIL_LABELS: dict[str, str] = {
    "general": "Mensaje del equipo revisor:",
    "per_commitment": "Observaciones por compromiso:",
    "read_more": (
        "Vea el detalle en la página de su postulación, con el enlace secreto que recibió al "
        "crearla. Si lo perdió, pida uno nuevo en {url} con el RUT y este correo."
    ),
    "signature": "Compromiso Migrante — Servicio Nacional de Migraciones y Dirección del Trabajo",
}

# --- errors --------------------------------------------------------------------------------------

#: Messages for codes raised by the service itself (extractor codes carry their own message).
ERROR_MESSAGES: dict[str, str] = {
    "validation": "Los datos enviados no son válidos.",
    "validation_field": "Los datos enviados no son válidos: «{field}»: {problem}",
    "validation_problem": "Los datos enviados no son válidos: {problem}",
    "weak_password": "La contraseña no cumple la política de contraseñas.",
    "invalid_rut": "El RUT no es válido. Escríbalo como 76.543.210-3 (con dígito verificador).",
    "missing_rut": "Ingrese el RUT de la organización.",
    "missing_organization": "Indique el nombre de la organización.",
    "organization_too_long": "El nombre de la organización no puede superar 300 caracteres.",
    "duplicate_source": "Ya existe una postulación para este origen.",
    "not_found": "No se encontró el recurso solicitado.",
    "submission_not_found": "No se encontró la postulación.",
    "document_not_found": "No se encontró el documento.",
    "retry_unknown_documents": "No existe ningún documento con el id {ids}. No se reintentó "
                               "ninguno.",
    "invalid_link": (
        "No encontramos esta postulación o el enlace está incompleto. Use el enlace secreto "
        "completo que recibió al crearla (incluye «?t=…»)."
    ),
    "invalid_email": (
        "El correo electrónico no es válido. Escríbalo como nombre@organizacion.cl."
    ),
    "invalid_review_status": (
        "Estado no válido: use en_revision, observada, aprobada o no_aprobada."
    ),
    "message_required": (
        "Escriba un mensaje para la organización: «{what}» necesita una explicación (general o "
        "por compromiso)."
    ),
    "empty_archive": (
        "El archivo no contiene ningún documento: está vacío o solo tiene archivos ocultos o "
        "del sistema (como «__MACOSX» o «.DS_Store»). Comprima de nuevo la carpeta con sus "
        "documentos y súbala otra vez."
    ),
    "message_too_long": (
        "El mensaje {where} no puede superar {max} caracteres (tiene {length}). Acórtelo o "
        "repártalo entre el mensaje general y los mensajes por compromiso."
    ),
    "nothing_to_submit": (
        "Suba al menos un documento antes de enviar la postulación a revisión (no cuentan "
        "los archivos rechazados al subirlos ni los eliminados)."
    ),
    "illegal_transition": (
        "La postulación está «{current}»: no puede pasar a «{target}». {hint}"
    ),
    "not_assignee": (
        "Esta postulación está asignada a {assignee}: solo esa persona o un administrador "
        "puede cambiar su estado."
    ),
    "closed_for_upload": (
        "La postulación está «{current}»: no se pueden agregar documentos ahora. Podrá "
        "hacerlo si el equipo revisor la devuelve con observaciones."
    ),
    "decisions_locked": (
        "La postulación ya tiene su resultado final («{current}»): sus decisiones quedaron "
        "cerradas y no se pueden registrar otras, salvo que un administrador la reabra."
    ),
    "reread_locked": (
        "La postulación ya tiene su resultado final («{current}»): sus documentos no se pueden "
        "volver a leer con OCR, porque cambiarían los pasajes detectados en que se basan sus "
        "decisiones cerradas. Para hacerlo, un administrador debe reabrirla primero."
    ),
    # read as a group heading too (`evidencia retry --all`: documents of several submissions)
    "retry_locked": (
        "La postulación ya tiene su resultado final («{current}»): sus documentos con error no "
        "se pueden reintentar, porque lo que se leyera de ellos cambiaría la matriz en que se "
        "basan sus decisiones cerradas. Para hacerlo, un administrador debe reabrirla primero."
    ),
    "admin_only": "Solo un administrador puede reasignar postulaciones.",
    "admin_only_reopen": (
        "Solo un administrador puede reabrir una postulación que ya tiene su resultado final."
    ),
    "reason_required": (
        "Escriba la razón para reabrir la postulación «{current}»: queda en el historial de la "
        "revisión."
    ),
    "unknown_reviewer": "No existe un revisor con ese usuario.",
    "unauthorized": "Debe identificarse para continuar.",
    "forbidden": "No tiene permiso para ver esta postulación.",
    "bad_credentials": "Usuario o contraseña incorrectos.",
    "metrics_token": (
        "Las métricas no son públicas: envíe «Authorization: Bearer» con el token de "
        "EVIDENCIA_METRICS_TOKEN o ingrese como revisor."
    ),
    "too_many_logins": (
        "Demasiados intentos de ingreso. Por seguridad, espere {minutes} minuto(s) antes de "
        "intentarlo de nuevo."
    ),
    "too_many_link_requests": (
        "Se pidieron demasiados enlaces desde esta conexión. Espere {minutes} minuto(s) y "
        "revise su correo: quizá el enlace ya llegó."
    ),
    "too_many_submissions": (
        "Se crearon demasiadas postulaciones desde esta conexión. Espere {minutes} minuto(s) "
        "o continúe con el enlace secreto de la postulación que ya creó."
    ),
    "csrf": (
        "No se pudo verificar que la solicitud venga de esta página (el formulario caducó o "
        "proviene de otro sitio). Vuelva a cargar la página e intente de nuevo."
    ),
    "too_many_files": "Se enviaron demasiados archivos en una sola carga (máximo {limit}).",
    "documents_locked": (
        "Los documentos ya no se pueden eliminar ni reemplazar: la postulación está en revisión "
        "o ya fue decidida. Se pueden cambiar mientras es un borrador o cuando el equipo "
        "revisor solicita cambios."
    ),
    "replace_locked": (
        "La postulación ya tiene su resultado final («{current}»): sus documentos no se pueden "
        "reemplazar, porque cambiaría la matriz en que se basan sus decisiones cerradas. Para "
        "hacerlo, un administrador debe reabrirla primero."
    ),
    "remove_locked": (
        "La postulación ya tiene su resultado final («{current}»): sus documentos no se pueden "
        "retirar, porque cambiaría la matriz en que se basan sus decisiones cerradas. Para "
        "hacerlo, un administrador debe reabrirla primero."
    ),
    "add_locked": (
        "La postulación ya tiene su resultado final («{current}»): no se le pueden agregar "
        "documentos, porque cambiaría la matriz en que se basan sus decisiones cerradas. Para "
        "hacerlo, un administrador debe reabrirla primero."
    ),
    "replacement_refused": (
        "No se reemplazó «{name}»: {reason} El documento anterior se mantiene en la "
        "postulación; elija otro archivo para reemplazarlo."
    ),
    "document_busy": (
        "El documento aún se está leyendo. Espere a que termine para volver a leerlo con OCR."
    ),
    "ocr_not_applicable": (
        "El OCR forzado solo se aplica a documentos PDF y a imágenes."
    ),
    "no_files": "No se recibió ningún archivo. Adjunte uno o más archivos en el campo «files».",
    "request_too_large": (
        "La solicitud supera el máximo de {limit} por envío. Si sube varios archivos, "
        "envíelos en partes."
    ),
    "invalid_name": (
        "El nombre del archivo no es válido: contiene caracteres de control o una ruta de "
        "carpetas («..», «/» inicial). Cámbiele el nombre y súbalo de nuevo."
    ),
    "name_too_long": (
        "El nombre del archivo es demasiado largo (máximo {limit} caracteres). Acórtelo y "
        "súbalo de nuevo."
    ),
    "unstorable_input": (
        "Los datos enviados contienen caracteres nulos o números demasiado grandes; "
        "corríjalos e intente de nuevo."
    ),
    "method_not_allowed": "Esta dirección no admite esa operación (método HTTP).",
    "too_large": "El archivo supera el tamaño máximo permitido ({limit}).",
    "invalid_commitment": "El compromiso indicado no existe (use c1, c2, c3, c4 o c5).",
    "invalid_action": "La acción debe ser "
    + ", ".join(_explained(value) for value in list(ACTION_MEANINGS)[:-1])
    + f" o {_explained(list(ACTION_MEANINGS)[-1])}.",
    "confirm_needs_evidence": (
        "No se puede confirmar «{commitment}»: ningún documento muestra un pasaje que lo "
        "respalde y no se ha adjuntado un extracto. Adjunte el extracto que lo prueba "
        "(seleccione el texto en la vista del documento) o rechace el compromiso."
    ),
    "excerpt_not_found": (
        "El extracto no aparece en el texto de {where}. Cópielo o selecciónelo tal como está "
        "en el documento (no importan las mayúsculas, las tildes ni los espacios)."
    ),
    "excerpt_not_on_page": (
        "El extracto no está en la página {page} de «{document}»: está en la página {found}."
    ),
    "page_not_in_document": (
        "«{document}» no tiene página {page}: tiene {pages} página(s)."
    ),
    "document_not_read": (
        "«{document}» aún no tiene texto extraído (está en proceso o no se pudo leer): no se "
        "puede verificar el extracto."
    ),
    "nothing_to_undo": "No hay ninguna decisión que deshacer en «{commitment}».",
    "empty_comment": "Escriba el comentario antes de guardarlo.",
    "attach_needs_evidence": (
        "Para respaldar un compromiso indique el documento o el extracto que lo prueba."
    ),
    "invalid_format": "Formato no soportado: use json, csv o xlsx.",
    "not_in_csv": "El archivo no figura en el CSV de organizaciones: no se cargó.",
    "unreadable": "No se pudo abrir el archivo (permisos o ruta inválida).",
    "internal": (
        "Ocurrió un error interno al procesar el documento. El equipo fue notificado; "
        "puede intentar subirlo de nuevo más tarde."
    ),
    "internal_request": (
        "Ocurrió un error interno al atender la solicitud. El equipo fue notificado; "
        "intente nuevamente más tarde."
    ),
    "transient": (
        "El servicio no pudo completar el procesamiento por una falla temporal. "
        "Se reintentará automáticamente."
    ),
    "timeout": (
        "El documento tardó más que el máximo permitido en procesarse. Si es un escaneo muy "
        "largo, divídalo en partes más pequeñas y súbalas por separado."
    ),
    "unavailable": "El servicio no está disponible en este momento. Intente nuevamente.",
    "interrupted": (
        "El procesamiento de este archivo se interrumpió {attempts} veces sin terminar "
        "(el proceso que lo leía se detuvo, quizá por falta de memoria). Revise que no esté "
        "dañado; si es muy grande, divídalo en partes o conviértalo a PDF y súbalo de nuevo."
    ),
    "busy": (
        "El servicio está atendiendo muchas solicitudes en este momento. "
        "Intente nuevamente en unos segundos."
    ),
    "database_unavailable": (
        "No se pudo usar la base de datos ({reason}). ¿Ejecutó «evidencia db upgrade»?"
    ),
    "usage": "Revise los argumentos del comando (evidencia --help).",
    "no_such_path": "No existe: {path}",
    "no_files_found": "No se encontraron archivos en las rutas dadas.",
    "passwords_differ": "Las contraseñas no coinciden.",
    "empty_password": "La contraseña no puede estar vacía.",
    "no_such_user": "No existe el usuario «{username}».",
    "bad_username_blank": "El nombre de usuario no puede estar vacío.",
    "bad_username_long": "El nombre de usuario no puede tener más de {max} caracteres.",
    "bad_username_control": (
        "El nombre de usuario no puede llevar tabuladores, saltos de línea ni otros caracteres "
        "de control: nadie podría escribirlo al ingresar."
    ),
    "insecure_secret_key": (
        "El servicio no arranca así: EVIDENCIA_SECRET_KEY {problem}. Genere una clave con "
        "«openssl rand -hex 32» y defínala en el entorno (con compose, en .env). Para probar en "
        "este equipo use ./scripts/run (evidencia up), que crea una clave propia en la carpeta "
        "de datos."
    ),
    "port_in_use": "El puerto {port} ya está en uso; elija otro con --port.",
    "redis_not_local": "Redis no responde en {url} y no es local: no se puede iniciar.",
    "redis_server_missing": "Redis no responde y falta redis-server (paquete redis-server).",
    "redis_did_not_start": "Redis no arrancó; vea {log}",
    "api_did_not_start": "La API no arrancó; vea los mensajes anteriores.",
    # read by staff as a group heading (`evidencia retry`: "2  Sin error, …") as well as about
    # one document (the API, the reviewer pages): no word that agrees in number ("este está")
    "not_in_error": "Sin error, nada que reintentar: {status}.",
    "nothing_stored": (
        "El archivo no se guardó porque se rechazó al subirlo ({reason}): no hay nada que "
        "reintentar. Solo la organización puede subirlo de nuevo, corregido."
    ),
    # the same, for a file of an archive loaded with `evidencia batch`: no organisation uploads
    # it again; staff correct it where the archive is and run the load again (it resumes)
    "nothing_stored_batch": (
        "El archivo no se guardó porque se rechazó al cargarlo en lote ({reason}): no hay nada "
        "que reintentar. Corríjalo en el archivo de origen y vuelva a ejecutar «evidencia "
        "batch» sobre él: se carga lo corregido y lo ya cargado se omite."
    ),
    # a PDF with a password, to `evidencia analyze`, which opens it given --password (the
    # extractor's own words ask an applicant to upload it without one)
    "encrypted_analyze": (
        "El PDF está protegido con contraseña. Indíquela con --password, o analice una copia "
        "sin contraseña (por ejemplo, imprimiéndolo a un PDF nuevo)."
    ),
    "wrong_password_analyze": (
        "La contraseña dada con --password no abre este PDF. Revísela, o analice una copia "
        "sin contraseña."
    ),
    "invalid_page": "La página indicada no existe (use un número de 1 a 100.000).",
    "invalid_idempotency_key": (
        "La cabecera Idempotency-Key no es válida: use de 1 a 200 letras, dígitos, «-», «_», "
        "«.» o «:» (por ejemplo, un UUID)."
    ),
    "idempotency_conflict": (
        "Esta clave Idempotency-Key ya se usó con otra solicitud. Para repetir una solicitud "
        "envíela idéntica con la misma clave; para una nueva, use una clave nueva."
    ),
    "retry_unavailable": (
        "No se pudo reintentar: la cola de trabajos no responde. Intente en unos minutos."
    ),
    "queue_unreachable": "No se pudo reencolar: la cola de trabajos no responde ({reason}).",
    "reclassify_left_for_newer": (
        "Los workers en marcha ejecutan una versión anterior ({versions}) y dejan la "
        "reclasificación en la cola para uno que ejecute la actual: reinícielos para que la "
        "carguen (se sigue esperando), o interrumpa con Ctrl-C y use --inline."
    ),
    "workers_other_version": (
        "{n} documento(s) no se reclasificaron: los workers usan otra versión del clasificador "
        "({versions}). Reinícielos para que carguen la versión actual y vuelva a ejecutar el "
        "comando, o use --inline."
    ),
    "batch_no_files": "No se encontraron archivos que cargar en {paths}.",
    "batch_bad_rut": (
        "Aviso: {where} trae en su nombre el RUT {rut}, cuyo dígito verificador no "
        "corresponde: no se tomó como RUT y sus documentos se cargaron igual, sin RUT, como "
        "«{organization}». Revise el RUT de esa organización."
    ),
    "batch_unmade_source": (
        "Aviso: no se pudo crear la postulación de «{organization}» ({where}): sus {n} "
        "archivo(s) no se cargaron ({reason}). Vuelva a ejecutar el lote una vez resuelto."
    ),
    "batch_empty_source": (
        "Aviso: {where} no tiene ningún documento que cargar (nada, o solo archivos ocultos "
        "o del sistema): no se creó postulación para «{organization}». Revise si faltó "
        "copiar sus documentos."
    ),
    "batch_replaced": (
        "Se reemplazó «{name}»: el archivo cambió desde la carga anterior; el documento "
        "anterior dejó de contar."
    ),
    "batch_replacement_refused": (
        "No se reemplazó «{name}»: {reason} Se mantiene el documento cargado antes; corrija "
        "el archivo y vuelva a ejecutar el lote."
    ),
    "batch_replacement_refused_reason": (
        "Cambió desde la carga anterior y el archivo nuevo se rechazó: {reason} Se mantiene el "
        "documento cargado antes; corrija el archivo y vuelva a ejecutar el lote."
    ),
    "batch_replace_locked": (
        "No se reemplazó «{name}», que cambió desde la carga anterior: la postulación ya tiene "
        "su resultado final («{current}»), y sus documentos no cambian salvo que un "
        "administrador la reabra; después, vuelva a ejecutar el lote. Se mantiene el "
        "documento cargado antes."
    ),
    "batch_replace_locked_reason": (
        "Cambió desde la carga anterior y no se reemplazó: la postulación ya tiene su "
        "resultado final («{current}»), y sus documentos no cambian salvo que un "
        "administrador la reabra; después, vuelva a ejecutar el lote."
    ),
    "batch_add_locked": (
        "No se agregó «{name}»: la postulación tiene veredicto final («{current}»); un "
        "administrador debe reabrirla antes de volver a ejecutar el lote."
    ),
    "batch_add_locked_reason": (
        "Archivo nuevo, no se agregó: la postulación tiene veredicto final («{current}»); un "
        "administrador debe reabrirla antes de volver a ejecutar el lote."
    ),
    "batch_missing": (
        "{n} documento(s) ya no están en la carpeta: {names}. Siguen contando en la "
        "postulación; para retirarlos, vuelva a ejecutar el lote con --retire-missing."
    ),
    "batch_retired": (
        "Se retiraron {n} documento(s) que ya no están en la carpeta: {names}; dejaron de "
        "contar."
    ),
    "batch_retire_locked": (
        "No se retiraron {n} documento(s) que ya no están en la carpeta: {names}. La "
        "postulación tiene veredicto final («{current}»); un administrador debe reabrirla "
        "antes de volver a ejecutar el lote. Siguen contando."
    ),
    "batch_retire_locked_reason": (
        "Ya no está en la carpeta y no se retiró: la postulación tiene veredicto final "
        "(«{current}»); un administrador debe reabrirla antes de volver a ejecutar el lote."
    ),
    "batch_missing_total": "{n} ya no están en la carpeta",
    "batch_still_refused": "{n} siguen rechazado(s), sin cambios desde la carga anterior",
    "batch_refused_copies": "{n} copia(s) de un archivo ya rechazado en esta carga",
    "batch_retired_total": "{n} retirado(s) por no estar ya en la carpeta",
    "batch_empty_sources": "{n} carpeta(s) o ZIP de organización sin ningún archivo",
    "batch_where_folder": "la carpeta «{path}»",
    "batch_where_archive": "el archivo «{path}»",
    "batch_where_in_archive": "la carpeta «{top}» de «{path}»",
    "bad_setting": (
        "La variable de entorno {name} no es válida (se dio «{value}»): {problem} Corríjala y "
        "vuelva a ejecutar."
    ),
    "report_not_writable": "No se puede escribir el informe en {path} ({reason}): indique "
                           "otro archivo o una carpeta.",
    "queue_down": "La cola de trabajos (Redis, {url}) no responde: revise que Redis esté en "
                  "marcha.",
    "batch_unqueued": (
        "Redis no respondió: {n} documento(s) quedaron guardados y en cola en la base de datos "
        "sin llegar a la cola de trabajos; los workers los tomarán solos cuando Redis vuelva "
        "(no hace falta cargarlos de nuevo)."
    ),
    "csv_columns": (
        "El CSV debe tener las columnas «ruta» y «organizacion» (y opcionalmente «rut»)."
    ),
    "csv_needed": "Con --org-from csv indique el archivo con --csv ARCHIVO.",
    "csv_without_csv_mode": (
        "--csv solo se usa con --org-from csv: agregue «--org-from csv» para tomar de él las "
        "organizaciones y sus RUT (con --org-from {org_from} el CSV no se leería y se cargaría "
        "como un documento más). No se cargó nada."
    ),
    "no_csv": "No existe el CSV: {path}",
    "csv_row_no_path": (
        "Fila {line} del CSV (ruta «{path}», {organization}): esa ruta no existe; ningún "
        "archivo se cargó para ella. Corrija la ruta y vuelva a ejecutar."
    ),
    "csv_row_no_files": (
        "Fila {line} del CSV (ruta «{path}», {organization}): ningún archivo de las rutas "
        "cargadas le correspondió (está fuera de ellas, vacía, o una fila de ruta más larga "
        "tomó sus archivos)."
    ),
    # the count in the line of totals ("…; 2 fila(s) del CSV sin ningún archivo.") and the
    # heading of the rows' lines ("2 fila(s) del CSV sin ningún archivo:"): one wording
    "batch_csv_rows_unmatched": "{n} fila(s) del CSV sin ningún archivo",
    "bad_rut_in_csv": "RUT inválido en {path}: {rut!r}. Corrija esa fila y vuelva a ejecutar.",
    "bad_date": "Fecha inválida {text!r}: use AAAA-MM-DD.",
    "no_documents_in_scope": "No hay documentos con texto extraído en ese alcance.",
    "org_not_found": "No se encontró la organización {names}: escriba su nombre completo "
                     "(sin importar mayúsculas ni tildes) o su RUT.",
    "no_corpus": "No se encontró {path}: CORPUS debe ser una carpeta generada por "
                 "scripts/render_corpus.py.",
    "internal_load": "Error interno al cargar el archivo; revise el registro del servidor.",
    # a command's unexpected failure (a bug), told to the staff who ran it (service.cli.main)
    "internal_command": (
        "Error interno del programa (no de los archivos ni de los argumentos). El detalle "
        "técnico (traceback) está en las líneas anteriores de esta salida de errores: "
        "guárdelo y envíelo al equipo técnico."
    ),
    "internal_command_hidden": (
        "Error interno del programa (no de los archivos ni de los argumentos). Para ver el "
        "detalle técnico (traceback), ejecute de nuevo el comando con EVIDENCIA_LOG_LEVEL=ERROR "
        "y envíelo al equipo técnico."
    ),
    "command_interrupted": "Interrumpido.",
    "resume": (
        "Lo cargado quedó guardado: vuelva a ejecutar el mismo comando para continuar donde "
        "quedó."
    ),
    "resume_reprocess": (
        "Lo reclasificado quedó guardado y los trabajos ya encolados siguen en los workers: "
        "vuelva a ejecutar el mismo comando para terminar y obtener el informe de cambios."
    ),
}

#: The classifier's artefacts it refused to use (their log records, in English, name the file
#: and why), said to staff at the terminal: the artefact's logger -> what the classifier does
#: instead and what to do about it.
CLASSIFIER_FALLBACKS: dict[str, str] = {
    "classifiers.calibration": (
        "Aviso: la calibración del clasificador ({path}) {problem}: se clasifica sin calibrar "
        "(las confianzas son aproximadas y la versión termina en «.uncal»). Vuelva a calibrar "
        "con «python -m classifiers.train CORPUS»."
    ),
    "classifiers.second_stage": (
        "Aviso: el modelo aprendido ({path}) {problem}: se clasifica solo con las reglas (la "
        "versión termina en «.nomodel»). Entrene uno nuevo con «evidencia train CORPUS»."
    ),
}

#: A model promoted by ``evidencia train`` refused gives way to the packaged one
#: (``second_stage.load_in_force``), not to the rules alone.
PROMOTED_MODEL_FALLBACK = (
    "Aviso: el modelo aprendido ({path}) {problem}: se clasifica con el modelo incluido en el "
    "programa, sin lo aprendido de las decisiones de los revisores. Entrene uno nuevo con "
    "«evidencia train CORPUS»."
)

#: Why an artefact was refused, by the words of the classifier's reason (calibration.py,
#: second_stage.py), first match wins.
ARTEFACT_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("is stale", "está desactualizado: se hizo para otras reglas, otro código u otro modelo de "
                 "spaCy"),
    ("has another format", "tiene otro formato"),
    ("another decision rule", "se entrenó para otra regla de decisión"),
    ("corrupt", "está dañado"),
    ("no calibration artefact", "no existe"),
    ("no model artefact", "no existe"),
)


def classifier_fallback(logger: str, reason: str) -> str | None:
    """The Spanish notice for a classifier artefact refused (``logger``: its module's logger;
    ``reason``: the classifier's English reason), None for other records."""
    import re

    template = CLASSIFIER_FALLBACKS.get(logger)
    if logger == "classifiers.second_stage" and "with the packaged model" in reason:
        template = PROMOTED_MODEL_FALLBACK
    if template is None:
        return None
    problem = next((said for words, said in ARTEFACT_PROBLEMS if words in reason),
                   "no se puede usar")
    found = re.search(r"(\S+\.json)", reason)
    if found is None:
        template = template.replace(" ({path})", "")
    return template.format(path=found.group(1) if found else "", problem=problem)


#: Why ``EVIDENCIA_SECRET_KEY`` is refused (``Settings.secret_key_problem``).
SECRET_KEY_PROBLEMS: dict[str, str] = {
    "missing": "no está definida",
    "placeholder": "tiene un valor de ejemplo, conocido por cualquiera",
    "short": "es demasiado corta (mínimo 16 caracteres)",
}

#: Why a password was refused (``service.domain.password_policy``), said so it can be fixed.
PASSWORD_PROBLEMS: dict[str, str] = {
    "too_short": (
        "La contraseña debe tener al menos {min} caracteres. Una frase de varias palabras es "
        "fácil de recordar y difícil de adivinar."
    ),
    "too_long": "La contraseña no puede superar {max} caracteres.",
    "control": "La contraseña no puede contener caracteres de control.",
    "username": (
        "La contraseña no puede basarse en el nombre de usuario: sin él debe seguir teniendo "
        "al menos {min} caracteres."
    ),
    "repetitive": "La contraseña repite casi siempre el mismo carácter: elija otra.",
    "context": "La contraseña no puede basarse en el nombre del servicio o del programa.",
    "common": (
        "Esa contraseña está entre las más usadas y se adivina fácilmente: elija otra, por "
        "ejemplo una frase de varias palabras."
    ),
}

#: Short notices of the pages.
NOTICES: dict[str, str] = {
    "select_files": "Seleccione al menos un archivo para subir.",
    # an upload: the documents received, and from how many files when a ZIP made them more
    "files_received": "{verb} {documents}.",
    "files_received_from": "{verb} {documents} de {files}.",
    "reassigned": "Reasignada a {username}.",
    "unassigned": "Devuelta a las postulaciones sin asignar.",
    "submitted": "Su postulación fue enviada a revisión. Le avisaremos por correo el resultado.",
    "submitted_not_emailed": (
        "Su postulación fue enviada a revisión. El resultado aparecerá en esta página: guarde "
        "su enlace secreto."
    ),
    "reviewed": "Estado actualizado: {status}.",
    "retried": "{count} documento(s) vuelven a la cola para leerse de nuevo.",
    "nothing_pending": "No hay postulaciones pendientes para usted.",
    "link_requested": (
        "Si el RUT y el correo corresponden a una postulación, enviamos a ese correo un enlace "
        "nuevo. Revise su bandeja de entrada (y la carpeta de correo no deseado)."
    ),
    "link_not_sendable": (
        "Este servidor no envía correos, así que no podemos mandarle un enlace nuevo; el enlace "
        "que recibió al crear la postulación sigue funcionando. Si lo perdió, escriba al equipo "
        "del Compromiso Migrante."
    ),
    "document_removed": "Se eliminó «{name}»: ya no cuenta en la postulación.",
    "document_replaced": "Se reemplazó «{name}»: el archivo nuevo se está procesando.",
    "registered_as": (
        "Esta organización está registrada como «{name}». El nombre que usted indicó "
        "(«{given}») quedó anotado para la revisión; el nombre registrado no cambia."
    ),
}

#: What a request's field got wrong, by pydantic's error type (``errors[].type`` of a 422
#: ``validation``), with its context's values (``{min_length}``…); others: "default".
VALIDATION_PROBLEMS: dict[str, str] = {
    "missing": "falta.",
    "json_invalid": "el cuerpo no es un JSON válido.",
    "model_attributes_type": "debe ser un objeto JSON.",
    "dict_type": "debe ser un objeto JSON.",
    "string_type": "debe ser un texto.",
    "string_too_short": "debe tener al menos {min_length} carácter(es).",
    "string_too_long": "debe tener como máximo {max_length} caracteres.",
    "string_pattern_mismatch": "no tiene el formato esperado.",
    "int_type": "debe ser un número entero.",
    "int_parsing": "debe ser un número entero.",
    "int_from_float": "debe ser un número entero.",
    "bool_type": "debe ser verdadero o falso.",
    "bool_parsing": "debe ser verdadero o falso.",
    "list_type": "debe ser una lista.",
    "greater_than": "debe ser mayor que {gt}.",
    "greater_than_equal": "debe ser al menos {ge}.",
    "less_than": "debe ser menor que {lt}.",
    "less_than_equal": "debe ser como máximo {le}.",
    "literal_error": "debe ser uno de estos valores: {expected}.",
    "enum": "debe ser uno de estos valores: {expected}.",
    "extra_forbidden": "no es un campo de esta operación.",
    "log_level": "use DEBUG, INFO, WARNING, ERROR o CRITICAL.",
    "default": "no es válido.",
}


def validation_problem(kind: str | None, context: dict | None = None) -> str:
    """Spanish for one field's problem in a 422 ``validation`` (see ``VALIDATION_PROBLEMS``)."""
    template = VALIDATION_PROBLEMS.get(kind or "", VALIDATION_PROBLEMS["default"])
    context = dict(context or {})
    if isinstance(context.get("expected"), str):  # pydantic's "'csv' or 'xlsx'"
        context["expected"] = re.sub(  # an API value followed by its meaning, if known
            r"'([^']*)'", lambda m: _explained(m.group(1), "'"),
            context["expected"].replace(" or ", " o "))
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError):
        return VALIDATION_PROBLEMS["default"]


#: Headings of the HTML error pages, by code first, then by HTTP status.
ERROR_TITLES: dict[str | int, str] = {
    "invalid_link": "Enlace no válido",
    "submission_not_found": "Postulación no encontrada",
    "document_not_found": "Documento no encontrado",
    "csrf": "La página caducó",
    401: "Debe identificarse",
    403: "Sin permiso",
    429: "Demasiados intentos",
    404: "Página no encontrada",
    405: "Operación no permitida",
    413: "Envío demasiado grande",
    422: "Datos no válidos",
    500: "Error interno",
    503: "Servicio no disponible",
}

#: Why a RUT was refused (``service.domain.rut.RutError.reason``), said so it can be fixed.
RUT_PROBLEMS: dict[str, str] = {
    "empty": ERROR_MESSAGES["missing_rut"],
    "format": "El RUT debe tener la forma 76.123.456-0 (número, guion y dígito verificador).",
    "check_digit": "El dígito verificador del RUT no corresponde. Revise el número.",
}


def commitment_name(cid: str) -> str:
    return COMMITMENT_NAMES.get(cid, cid)


def commitment_short(cid: str) -> str:
    return COMMITMENT_SHORT.get(cid, cid)


def doc_type_name(code: str | None) -> str:
    return DOC_TYPE_NAMES.get(code or "otro", code or "otro")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def removed_document(name: str) -> str:
    """The name of a document removed or replaced since, where the history names it."""
    return f"{name} (retirado de la postulación)"


def not_in_error_message(status: str) -> str:
    """Why a document whose ``status`` is not ``error`` is not retried."""
    return error_message("not_in_error",
                         status=NOT_IN_ERROR_STATES.get(status) or status_label(status))


def stage_label(stage: str, detail: str | None = None) -> str:
    """``("ocr", "3/8")`` → ``"OCR página 3/8"``."""
    label = STAGE_LABELS.get(stage, stage)
    if "{detail}" in label:
        return label.format(detail=detail or "").strip()
    return label


def cell_status_label(status: str) -> str:
    return CELL_STATUS_LABELS.get(status, status)


def review_status_label(status: str | None) -> str:
    return REVIEW_STATUS_LABELS.get(status or "", status or "")


def transition_hint(status: str) -> str:
    return TRANSITION_HINTS.get(status, "")


def format_age(age) -> str:
    """Time waiting in the queue, as a reviewer reads it: "3 días", "5 horas", "12 min"."""
    if age is None:
        return ""
    minutes = max(int(age.total_seconds() // 60), 0)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} días"
    if minutes >= 120:
        return f"{minutes // 60} horas"
    return f"{minutes} min"


def format_size(n: int | None) -> str:
    """A size in bytes as people read it: "512 B", "34 KB", "12,5 MB", "1,2 GB"."""
    n = n or 0
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    if n < 1024 ** 3:
        return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{n / 1024 ** 3:.1f} GB".replace(".", ",")


#: why the system refused a file operation, as the user reads it (errno -> Spanish); the C
#: library's own words (``strerror``) are English under the locales servers run with
OS_REASONS = {
    errno.ENOENT: "no existe o no se puede crear ahí",
    errno.EACCES: "sin permiso para escribir ahí",
    errno.EPERM: "operación no permitida",
    errno.EROFS: "el disco es de solo lectura",
    errno.ENOSPC: "no queda espacio en el disco",
    errno.EDQUOT: "se agotó la cuota de disco",
    errno.ENOTDIR: "una parte de la ruta no es una carpeta",
    errno.EISDIR: "es una carpeta",
    errno.ENAMETOOLONG: "el nombre es demasiado largo",
}


def os_reason(exc: OSError) -> str:
    """An OSError's reason in Spanish ("sin permiso para escribir ahí"); an errno the table
    does not know keeps the system's words."""
    return OS_REASONS.get(exc.errno, exc.strerror or str(exc))


def action_label(action: str | None) -> str:
    return ACTION_LABELS.get(action or "", action or "")


def confidence_label(level: str) -> str:
    return CONFIDENCE_LABELS.get(level, level)


@cache
def rule_descriptions() -> dict[str, str]:
    """Rule id → what it looks for, in Spanish (``classifiers/patterns/descriptions.toml``,
    kept beside the rules so whoever adds a rule words it there)."""
    from classifiers import defaults

    with (defaults.PATTERNS_DIR / "descriptions.toml").open("rb") as f:
        return tomllib.load(f)


def rule_families(pattern_ids: Iterable[str]) -> list[str]:
    """Why a passage was detected: each matched rule family once, in the order given; a rule
    without a line in the descriptions file is named by its commitment."""
    descriptions = rule_descriptions()
    out: dict[str, None] = {}
    for pid in pattern_ids:
        text = descriptions.get(pid)
        if text is None:
            cid = pid.split(".", 1)[0]
            text = f"una regla de «{commitment_short(cid)}»" if cid in COMMITMENT_SHORT else None
        if text:
            out.setdefault(text, None)
    return list(out)


def accepted_types(legacy_word: bool) -> str:
    """What the upload pages say they accept (extractors.registry.FORMATS); DOC and RTF only
    where LibreOffice converts them (the lean container image leaves it out)."""
    from extractors.registry import accepted_formats_text

    return accepted_formats_text(libreoffice=legacy_word)


#: What the file picker offers besides the extensions: browsers that map some file's
#: extension to no type still show PDFs, ZIPs, pictures and text.
_ACCEPT_TYPES = ("application/pdf", "application/zip", "image/*", "text/plain")


def accept_list(legacy_word: bool) -> str:
    """The file picker's ``accept`` attribute: every accepted format's extensions
    (extractors.registry.FORMATS), DOC and RTF only where LibreOffice converts them."""
    from extractors.registry import accepted_extensions

    return ",".join((*accepted_extensions(libreoffice=legacy_word), *_ACCEPT_TYPES))


#: A cell where the learned model overturned what the rules alone decided (``matrix.Cell.
#: overturned``), by the cell's decision: the rule families shown explain the passages, not the
#: decision, and the reviewer is told so.
OVERTURNED_NOTES: dict[bool, str] = {
    True: "Las reglas solas no lo daban por cumplido; el modelo aprendido inclinó la decisión.",
    False: "Las reglas solas lo daban por cumplido; con el modelo aprendido no alcanza.",
}


def overturned_note(supported: bool) -> str:
    return OVERTURNED_NOTES[bool(supported)]


def passage_role(supports: bool) -> str:
    return PASSAGE_ROLES[bool(supports)]


#: places a one-line note of considered passages names before "y N más"
CONSIDERED_PLACES = 3


def considered_note(places: Sequence[tuple[str, int | None]]) -> str:
    """Passages considered and not enough (``matrix.CommitmentRow.considered``: the passages
    of the documents that do not support the commitment), as one line of an export: how many,
    and where, document and page, best first; "" when there are none."""
    if not places:
        return ""
    named = list(dict.fromkeys(f"{document}, pág. {page}" if page else document
                               for document, page in places))
    more = (f" y {len(named) - CONSIDERED_PLACES} más" if len(named) > CONSIDERED_PLACES
            else "")
    return (f"{len(places)} pasaje(s) considerado(s), no suficiente(s): "
            f"{'; '.join(named[:CONSIDERED_PLACES])}{more}")


def yes_no(value: bool) -> str:
    return "sí" if value else "no"


def found_word(supported: bool, reading: bool) -> str:
    """A commitment in the batch summary: "sí", "no", or "pendiente" while nothing supports it
    yet and documents are still being read (not known to be missing)."""
    return "pendiente" if reading and not supported else yes_no(supported)


def _pipeline_messages() -> dict[str, str]:
    """Default messages of the pipeline's own errors (extractors.errors), by code."""
    from extractors.errors import EvidenciaError

    found: dict[str, str] = {}
    pending = [EvidenciaError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls.default_message)
        pending.extend(cls.__subclasses__())
    return found


def error_message(code: str, **params: object) -> str:
    """The Spanish message for a stable code: the service's table first, then the message the
    pipeline's error class carries, never a code without words."""
    template = ERROR_MESSAGES.get(str(code)) or _pipeline_messages().get(str(code))
    if template is None:
        template = ERROR_MESSAGES["internal"]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


#: A document's error as it reads once the submission takes no more uploads (sent for review,
#: or decided), by code: the words stored with the document (the extractor's,
#: ``Document.error``) tell how to upload the file again, which the page no longer offers. Every
#: surface (pages, JSON, the PDF report; applicant and reviewers alike) reads it through
#: ``matrix.DocumentEntry.error``. A code not here keeps its stored words; the stored row is
#: never rewritten, so the same document reads as stored again if the reviewers return the
#: submission with observations.
CLOSED_DOCUMENT_ERRORS: dict[str, str] = {
    "encrypted": "El archivo está protegido con contraseña y no se pudo leer.",
    "wrong_password": "El archivo está protegido con contraseña y no se pudo leer.",
    "encryption_unsupported": "El PDF usa un cifrado no soportado y no se pudo leer.",
    "empty_file": "El archivo está vacío (0 bytes) y no se pudo leer.",
    "empty_archive": "El archivo comprimido o correo no contiene ningún documento.",
    "corrupt": "El archivo está dañado o incompleto y no se pudo leer.",
    "too_large": "El archivo supera el tamaño que se puede leer y no se leyó.",
    "unsafe_archive": "El archivo comprimido se rechazó por seguridad y no se leyó.",
    "unsupported_type": "Este tipo de archivo no se puede leer.",
    "converter_unavailable": "El documento está en un formato (DOC, RTF u otro) que no se pudo "
                             "convertir para leerlo.",
    # the service's own: refused at upload for its name, or ended by its job
    "invalid_name": "El nombre del archivo no es válido (caracteres de control o una ruta de "
                    "carpetas) y el archivo no se leyó.",
    "name_too_long": "El nombre del archivo es demasiado largo y el archivo no se leyó.",
    "timeout": "El documento tardó más que el máximo permitido en procesarse y no se pudo leer.",
    "interrupted": "El procesamiento de este archivo se interrumpió varias veces sin terminar "
                   "y no se pudo leer.",
    "internal": "Ocurrió un error interno al procesar el documento y no se pudo leer. El "
                "equipo fue notificado.",
}


def document_error(code: str | None, stored: str | None, *, closed: bool = False) -> str | None:
    """A document's error as shown: ``stored`` (its row's words), or, when the submission is
    ``closed`` to uploads (``workflow.open_to_applicant``), the wording of
    :data:`CLOSED_DOCUMENT_ERRORS`."""
    if closed and code in CLOSED_DOCUMENT_ERRORS:
        return CLOSED_DOCUMENT_ERRORS[code]
    return stored


def error_title(code: str, status: int) -> str:
    return ERROR_TITLES.get(str(code)) or ERROR_TITLES.get(status) or (
        "No se pudo completar la solicitud"
    )


def notice(key: str, **params: object) -> str:
    return NOTICES[key].format(**params)


def _counted(n: int, one: str, many: str) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many}"


def files_received(documents: int, files: int) -> str:
    """The notice after an upload: the documents received and, when a ZIP (or an e-mail) made
    them more than the files sent, from how many files; singular or plural as the numbers say
    ("Se recibió 1 documento.", "Se recibieron 3 documentos de 1 archivo.")."""
    verb = "Se recibió" if documents == 1 else "Se recibieron"
    counted = _counted(documents, "documento", "documentos")
    if documents == files:
        return notice("files_received", verb=verb, documents=counted)
    return notice("files_received_from", verb=verb, documents=counted,
                  files=_counted(files, "archivo", "archivos"))


def format_datetime(value: datetime | None) -> str:
    """How dates are shown to people: '22-11-2026 04:57', Chilean time
    (``service.domain.clock`` converts)."""
    from service.domain.clock import display

    return display(value)


MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")


def format_day(value: datetime | None) -> str:
    """A day as a sentence says it, on Chile's clock: "3 de diciembre"."""
    from service.domain.clock import local

    shown = local(value)
    return f"{shown.day} de {MONTHS[shown.month - 1]}" if shown is not None else ""


#: Since what the reviewer is told of the documents' changes (``workflow.DocumentChanges``).
CHANGES_SINCE = {"observada": "la observación", "enviada": "el envío"}


def document_changes_summary(since_status: str, since: datetime | None, added: int,
                             replaced: Sequence[tuple[str, Sequence[str]]], removed: int) -> str:
    """The reviewer's line on a resubmitted submission: "Cambios en los documentos desde la
    observación del 3 de diciembre: 2 nuevos, 1 reemplazado (acta.pdf → acta-firmada.pdf),
    1 retirado"; "Sin cambios en los documentos desde el envío del 3 de diciembre"."""
    since_text = f"{CHANGES_SINCE.get(since_status, 'la observación')} del {format_day(since)}"
    parts = []
    if added:
        parts.append(_counted(added, "nuevo", "nuevos"))
    if replaced:
        pairs = "; ".join(f"{old} → {', '.join(new)}" for old, new in replaced)
        parts.append(f"{_counted(len(replaced), 'reemplazado', 'reemplazados')} ({pairs})")
    if removed:
        parts.append(_counted(removed, "retirado", "retirados"))
    if not parts:
        return f"Sin cambios en los documentos desde {since_text}"
    return f"Cambios en los documentos desde {since_text}: {', '.join(parts)}"
