"""Organizations and their annual reports: registration, changes, size classification, search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pb_registry.events import ANNUAL_REPORT_FILED, ORGANIZATION_REGISTERED, ORGANIZATION_UPDATED
from pb_registry.models import AnnualReport, Organization
from pb_registry.organizations.schemas import (
    SIZED_KINDS,
    AnnualReportIn,
    AnnualReportOut,
    FiledReport,
    OrganizationChange,
    OrganizationIn,
    OrganizationOut,
    OrganizationPayload,
)
from pbkit.domain import INDUSTRY_LIST_VERSION, InsufficientData, classify_size, validate_region_code
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.queries import equals, where_given
from pbkit.uow import UnitOfWork

AGGREGATE = "organization"


def register_organization(*, uow: UnitOfWork, data: OrganizationIn) -> OrganizationOut:
    """The action of POST /organizations: the new organization, its events and audit entry."""
    _require_unique_uscc(uow.session, data.uscc)
    now = utcnow()
    org = Organization(
        id=new_id(),
        name=data.name,
        uscc=data.uscc,
        kind=data.kind,
        size=data.size,
        size_source="declared" if data.size is not None else None,
        sme_sector=data.sme_sector,
        region_code=data.region_code,
        prefecture_code=validate_region_code(data.region_code).prefecture_code,
        industry=data.industry,
        industry_list_version=INDUSTRY_LIST_VERSION if data.industry else None,
        created_at=now,
        updated_at=now,
    )
    _check_size_fields(org, size_field="size", sector_field="sme_sector")
    uow.session.add(org)
    report = None
    if data.annual_report is not None:
        report = _put_report(org, data.annual_report.year, data.annual_report)
    _settle_size(org)
    uow.session.flush()
    uow.emit(event_type=ORGANIZATION_REGISTERED, aggregate_type=AGGREGATE, aggregate_id=org.id, data=event_data(org))
    if report is not None:
        _emit_report(uow, org, report)
    uow.audit("organization.register", target_type=AGGREGATE, target_id=org.id, details=data.model_dump(mode="json"))
    return OrganizationOut.model_validate(org)


def update_organization(*, uow: UnitOfWork, org_id: str, change: OrganizationChange) -> OrganizationOut:
    org = get_organization(session=uow.session, org_id=org_id)
    given = change.model_dump(exclude_unset=True)
    if "uscc" in given and given["uscc"] != org.uscc:
        _require_unique_uscc(uow.session, given["uscc"])
    before = event_data(org) | {"sme_sector": org.sme_sector}
    for field, value in given.items():
        setattr(org, field, value)
    if "size" in given:
        org.size_source = "declared" if given["size"] is not None else None
    if "region_code" in given:
        org.prefecture_code = validate_region_code(org.region_code).prefecture_code
    if "industry" in given:
        org.industry_list_version = INDUSTRY_LIST_VERSION if org.industry else None
    _check_size_fields(
        org,
        size_field="size" if "size" in given else "kind",
        sector_field="sme_sector" if "sme_sector" in given else "kind",
    )
    _settle_size(org)
    after = event_data(org) | {"sme_sector": org.sme_sector}
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        org.updated_at = utcnow()
        uow.emit(event_type=ORGANIZATION_UPDATED, aggregate_type=AGGREGATE, aggregate_id=org.id, data=event_data(org))
        uow.audit("organization.update", target_type=AGGREGATE, target_id=org.id, details=changed)
    return OrganizationOut.model_validate(org)


def file_annual_report(*, uow: UnitOfWork, org_id: str, year: int, data: AnnualReportIn) -> FiledReport:
    """Store the year's report (replacing an earlier one); a repeat of the stored figures changes nothing."""
    org = get_organization(session=uow.session, org_id=org_id)
    existing = next((r for r in org.annual_reports if r.year == year), None)
    if existing is not None and _report_figures(existing) == (data.revenue, data.employees, data.total_assets):
        return FiledReport(report=AnnualReportOut.model_validate(existing), first_of_year=False)
    size_before = org.size
    report = _put_report(org, year, data)
    _settle_size(org)
    uow.session.flush()
    _emit_report(uow, org, report)
    if org.size != size_before:
        org.updated_at = utcnow()
        uow.emit(event_type=ORGANIZATION_UPDATED, aggregate_type=AGGREGATE, aggregate_id=org.id, data=event_data(org))
    uow.audit(
        "organization.annual_report",
        target_type=AGGREGATE,
        target_id=org.id,
        details={"year": year, **data.model_dump(mode="json"), "size": org.size},
    )
    return FiledReport(report=AnnualReportOut.model_validate(report), first_of_year=existing is None)


def get_organization(*, session: Session, org_id: str, scope: str | None = None) -> Organization:
    """The organization; with a `scope` (a prefecture user's 市州), only one registered in that prefecture."""
    org = session.get(Organization, org_id)
    if org is None or (scope is not None and org.prefecture_code != scope):
        raise NotFound(f"no organization {org_id!r}")
    return org


def organizations_query(
    *,
    kind: str | None = None,
    region_code: str | None = None,
    prefecture_code: str | None = None,
    in_province: bool | None = None,
    industry: str | None = None,
    uscc: str | None = None,
    q: str | None = None,
    scope: str | None = None,
) -> Select:
    """The organizations the filters give; a `scope` (a prefecture user's 市州) narrows them to its own."""
    in_guizhou = Organization.region_code.startswith(GUIZHOU_PROVINCE_CODE)
    return where_given(
        select(Organization),
        (scope, equals(Organization.prefecture_code)),
        (kind, equals(Organization.kind)),
        (region_code, equals(Organization.region_code)),
        (prefecture_code, equals(Organization.prefecture_code)),
        (in_province, lambda inside: in_guizhou if inside else ~in_guizhou),
        (industry, equals(Organization.industry)),
        (uscc, equals(Organization.uscc)),
        (q or None, lambda part: Organization.name.contains(part, autoescape=True)),
    )


def reports_query(org_id: str) -> Select:
    return select(AnnualReport).where(AnnualReport.org_id == org_id)


def event_data(org: Organization) -> dict[str, Any]:
    """The organization as docs/EVENTS.md carries it."""
    return OrganizationPayload.model_validate(org).model_dump(mode="json")


def _require_unique_uscc(session: Session, uscc: str) -> None:
    if session.scalars(select(Organization.id).where(Organization.uscc == uscc)).first() is not None:
        raise Conflict(
            f"an organization with USCC {uscc} is already registered",
            errors=[{"loc": ["body", "uscc"], "msg": "already registered"}],
        )


def _check_size_fields(org: Organization, *, size_field: str, sector_field: str) -> None:
    if org.kind in SIZED_KINDS:
        return
    if org.size_source == "declared":
        raise RuleBroken.field(["body", size_field], f"a {org.kind} has no size class; only enterprises have one")
    if org.sme_sector is not None:
        raise RuleBroken.field(["body", sector_field], f"a {org.kind} has no SME sector; only enterprises have one")


def _settle_size(org: Organization) -> None:
    """A declared size stands; otherwise classify from the latest annual report when the sector is known."""
    if org.size_source == "declared":
        org.size_report_year = None
        return
    org.size, org.size_source, org.size_report_year = None, None, None
    if org.kind not in SIZED_KINDS or org.sme_sector is None or not org.annual_reports:
        return
    latest = max(org.annual_reports, key=lambda r: r.year)
    try:
        org.size = classify_size(
            org.sme_sector,
            employees=latest.employees,
            revenue_fen=latest.revenue_fen,
            total_assets_fen=latest.total_assets_fen,
        )
    except InsufficientData:
        return  # e.g. a construction firm whose report lacks total assets: its size stays unknown
    org.size_source, org.size_report_year = "classified", latest.year


def _put_report(org: Organization, year: int, data: AnnualReportIn) -> AnnualReport:
    report = next((r for r in org.annual_reports if r.year == year), None)
    if report is None:
        report = AnnualReport(id=new_id(), year=year)
        org.annual_reports.append(report)
    report.revenue_fen = data.revenue
    report.employees = data.employees
    report.total_assets_fen = data.total_assets
    report.filed_at = utcnow()
    return report


def _report_figures(report: AnnualReport) -> tuple[int, int, int | None]:
    return report.revenue_fen, report.employees, report.total_assets_fen


def _emit_report(uow: UnitOfWork, org: Organization, report: AnnualReport) -> None:
    uow.emit(
        event_type=ANNUAL_REPORT_FILED,
        aggregate_type=AGGREGATE,
        aggregate_id=org.id,
        data={
            "org_id": org.id,
            "year": report.year,
            "revenue": format_money(report.revenue_fen),
            "employees": report.employees,
            "total_assets": format_money(report.total_assets_fen) if report.total_assets_fen is not None else None,
            "kind": org.kind,
            "size": org.size,
            "region_code": org.region_code,
            "prefecture_code": org.prefecture_code,
        },
    )
