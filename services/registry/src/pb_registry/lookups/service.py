"""Organizations and patents by the hundred, in a few queries: what `POST /api/v1/lookups` answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_registry.lookups.schemas import LookupIn, LookupOut
from pb_registry.models import Organization, Patent
from pb_registry.organizations.schemas import OrganizationOut
from pb_registry.patents.service import LOAD_ALL, LOAD_ONE, patent_seen_by
from pbkit.context import Actor
from pbkit.domain import parse_patent_number

# A submission names a few patents: they are read as one patent is (`LOAD_ONE`: their owners, IPC symbols, pledges
# and declarations joined into the one query, their licences in one more), two queries where one per collection
# made six, and most of the registry's CPU per deal. Thousands (a batch) take one query per collection, so that
# the joined rows do not multiply.
JOINED_UP_TO = 20


def look_up(*, session: Session, reader: Actor, request: LookupIn) -> LookupOut:
    org_ids = list(dict.fromkeys(request.organization_ids))
    organizations = {org.id: org for org in session.scalars(select(Organization).where(Organization.id.in_(org_ids)))}
    canonical = {asked: _canonical(asked) for asked in dict.fromkeys(request.patent_numbers)}
    wanted = {number for number in canonical.values() if number is not None}
    loads = LOAD_ONE if len(wanted) <= JOINED_UP_TO else LOAD_ALL
    patents = {p.number: p for p in session.scalars(select(Patent).where(Patent.number.in_(wanted)).options(*loads)).unique()}
    return LookupOut(
        organizations={
            org_id: OrganizationOut.model_validate(organizations[org_id]) if org_id in organizations else None
            for org_id in org_ids
        },
        patents={
            asked: patent_seen_by(reader, patents[number]) if number in patents else None
            for asked, number in canonical.items()
        },
    )


def _canonical(number: str) -> str | None:
    try:
        return parse_patent_number(number).canonical
    except ValueError:
        return None
