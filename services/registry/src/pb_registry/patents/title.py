"""Changes of title that other services' events cause: owners, licensees, pledges.

Each change writes its chain-of-title entry, its event and its audit entry, in the caller's unit of work.
"""

from __future__ import annotations

from datetime import date

from pb_registry.events import PATENT_OWNERSHIP_CHANGED, PATENT_UPDATED
from pb_registry.models import Patent, PatentLicence, PatentPledge
from pb_registry.patents.service import AGGREGATE, Cause, event_data, record_history, set_owners
from pbkit.events import utcnow
from pbkit.uow import UnitOfWork


def change_owners(
    *, uow: UnitOfWork, patent: Patent, owner_ids: list[str], effective_on: date | None, cause: Cause, deal_id: str, reverted: bool
) -> None:
    before = patent.owner_ids
    set_owners(patent, owner_ids)
    patent.updated_at = utcnow()
    effective = effective_on or utcnow().date()
    details = {"deal_id": deal_id, "reverted": reverted}
    record_history(uow, patent, kind="ownership_changed", owners_before=before, effective_on=effective, details=details, cause=cause)
    uow.emit(
        event_type=PATENT_OWNERSHIP_CHANGED,
        aggregate_type=AGGREGATE,
        aggregate_id=patent.number,
        data={
            "number": patent.number,
            "owners_before": before,
            "owners_after": patent.owner_ids,
            "effective_on": effective.isoformat(),
            "cause": {"event_id": cause.event_id, "event_type": cause.event_type, "deal_id": deal_id},
        },
    )
    uow.audit(
        "patent.ownership_change",
        target_type=AGGREGATE,
        target_id=patent.number,
        details={"owners_before": before, "owners_after": patent.owner_ids, "cause": cause.event_id, **details},
    )


def add_licence(
    *,
    uow: UnitOfWork,
    patent: Patent,
    deal_id: str,
    licensee_id: str,
    license_type: str | None,
    recorded_on: date | None,
    cause: Cause,
    term_start: date | None = None,
    term_end: date | None = None,
) -> None:
    patent.licences.append(
        PatentLicence(deal_id=deal_id, licensee_id=licensee_id, license_type=license_type, recorded_on=recorded_on,
                      term_start=term_start, term_end=term_end)
    )
    details = {"deal_id": deal_id, "licensee_id": licensee_id, "license_type": license_type}
    _record_change(uow, patent, kind="license_recorded", effective_on=recorded_on, details=details, cause=cause)


def remove_licence(*, uow: UnitOfWork, patent: Patent, deal_id: str, cancelled_on: date | None, cause: Cause) -> None:
    licence = next(licence for licence in patent.licences if licence.deal_id == deal_id)
    patent.licences.remove(licence)
    details = {"deal_id": deal_id, "licensee_id": licence.licensee_id, "license_type": licence.license_type}
    _record_change(uow, patent, kind="license_cancelled", effective_on=cancelled_on, details=details, cause=cause)


def add_pledge(
    *, uow: UnitOfWork, patent: Patent, pledge_id: str, pledgee_id: str | None, registered_on: date | None, cause: Cause
) -> None:
    patent.pledges.append(PatentPledge(pledge_id=pledge_id, pledgee_id=pledgee_id, registered_on=registered_on))
    details = {"pledge_id": pledge_id, "pledgee_id": pledgee_id}
    _record_change(uow, patent, kind="pledge_registered", effective_on=registered_on, details=details, cause=cause)


def remove_pledge(*, uow: UnitOfWork, patent: Patent, pledge_id: str, released_on: date | None, cause: Cause) -> None:
    pledge = next(pledge for pledge in patent.pledges if pledge.pledge_id == pledge_id)
    patent.pledges.remove(pledge)
    details = {"pledge_id": pledge_id, "pledgee_id": pledge.pledgee_id}
    _record_change(uow, patent, kind="pledge_released", effective_on=released_on, details=details, cause=cause)


def _record_change(
    uow: UnitOfWork, patent: Patent, *, kind: str, effective_on: date | None, details: dict, cause: Cause
) -> None:
    patent.updated_at = utcnow()
    record_history(uow, patent, kind=kind, owners_before=patent.owner_ids, effective_on=effective_on, details=details, cause=cause)
    uow.emit(
        event_type=PATENT_UPDATED,
        aggregate_type=AGGREGATE,
        aggregate_id=patent.number,
        data={**event_data(patent), "cause": {"event_id": cause.event_id, "event_type": cause.event_type, **details}},
    )
    uow.audit(f"patent.{kind}", target_type=AGGREGATE, target_id=patent.number, details={"cause": cause.event_id, **details})
