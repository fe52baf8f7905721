"""Organisations apart from submissions: one per RUT, its names kept, none overwritten.

The first submission under a RUT registers the organisation with the name it gave. A later
submission under the same RUT joins that organisation and shows the registered name; a name
that differs (case, accents and spacing aside, as ``service.domain.text.fold`` compares) is
recorded as an alias of the organisation with the submission that brought it (so who: that
applicant's secret link, or the batch) and when. The registered name never changes on its own;
reviewers see the aliases, an applicant sees only the registered name and what they typed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.messages import notice
from service.domain.models import Organization, OrganizationName, Submission
from service.domain.text import fold

__all__ = ["REGISTERED", "ALIAS", "find_or_register", "record_name", "name_history",
           "alias_of", "registered_notice"]

REGISTERED = "registered"
ALIAS = "alias"


def _same(a: str, b: str) -> bool:
    return " ".join(fold(a).split()) == " ".join(fold(b).split())


def find_or_register(session: Session, name: str, rut: str | None
                     ) -> tuple[Organization, bool]:
    """The organisation of this RUT, or a new one (not yet flushed) named ``name``, and
    whether it is new; without a RUT every submission is its own organisation."""
    if rut:
        found = session.scalar(select(Organization).where(Organization.rut == rut))
        if found is not None:
            return found, False
    organization = Organization(name=name, rut=rut)
    session.add(organization)
    return organization, True


def record_name(session: Session, organization: Organization, name: str,
                submission: Submission, *, new: bool) -> OrganizationName | None:
    """Keep the name a submission gave: the registered one for a new organisation, an alias
    when it differs from the registered name, nothing when it is the same."""
    if not new and _same(name, organization.name):
        return None
    entry = OrganizationName(organization=organization, name=name,
                             kind=REGISTERED if new else ALIAS,
                             submission_id=submission.id, source=submission.source)
    session.add(entry)
    return entry


def name_history(session: Session, organization_id: str) -> list[OrganizationName]:
    """Every name of an organisation, the registered one first (reviewers only)."""
    return list(session.scalars(
        select(OrganizationName)
        .where(OrganizationName.organization_id == organization_id)
        .order_by(OrganizationName.id)
    ))


def alias_of(session: Session, submission_id: str) -> str | None:
    """The name this submission gave when it differs from the registered one (what its
    applicant typed: the only other name they may see)."""
    return session.scalar(
        select(OrganizationName.name)
        .where(OrganizationName.submission_id == submission_id,
               OrganizationName.kind == ALIAS)
        .limit(1)
    )


def registered_notice(session: Session, submission: Submission) -> str | None:
    """What the applicant is told when their RUT was registered under another name:
    "Esta organización está registrada como «…»", with the name they gave."""
    given = alias_of(session, submission.id)
    if given is None:
        return None
    return notice("registered_as", name=submission.organization.name, given=given)
