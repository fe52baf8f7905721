"""``/api/search``: the reviewers' search (``service.domain.search``) over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, Query

from service.api.deps import CurrentReviewer, SessionDep
from service.api.schemas import ErrorBody, SearchPublic, search_public
from service.domain import search as search_domain

__all__ = ["router"]

router = APIRouter(prefix="/api/search", tags=["búsqueda"])


@router.get(
    "",
    response_model=SearchPublic,
    responses={401: {"model": ErrorBody, "description": "Sin credenciales"},
               422: {"model": ErrorBody, "description": "Parámetros fuera de rango"}},
    summary="Buscar postulaciones",
    description="Solo revisores. Busca en el nombre de la organización, en su RUT escrito de "
    "cualquier forma (`76.086.428-5`, `76086428-5`, `760864285`) y en el texto extraído de "
    "los documentos, sin distinguir mayúsculas ni tildes (`nandu` encuentra `Ñandú`). Primero "
    "las postulaciones cuya organización coincide, luego las más recientes; cada una con "
    "hasta tres pasajes y su página. Paginada con `offset` y `limit`, con el `total`.",
)
def search(
    session: SessionDep,
    reviewer: CurrentReviewer,
    q: str = Query(max_length=search_domain.MAX_QUERY_CHARS,
                   description="Palabras, nombre o RUT a buscar"),
    offset: int = Query(default=0, ge=0, le=search_domain.MAX_OFFSET,
                        description="Cuántas saltar (paginación)"),
    limit: int = Query(default=20, ge=1, le=100, description="Cuántas entregar, hasta 100"),
) -> dict:
    return search_public(search_domain.search(session, q, offset=offset, limit=limit))
