"""Organization endpoints: every role reads, admins write."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from pb_registry.deps import ActorUow, AdminOnly, Command, Kit, OrgIdInPath, Pagination, Reader, ReportReader
from pb_registry.fields import Year
from pb_registry.models import AnnualReport, Organization
from pb_registry.organizations import service
from pb_registry.organizations.schemas import (
    AnnualReportIn,
    AnnualReportOut,
    IndustryList,
    OrganizationChange,
    OrganizationFilters,
    OrganizationIn,
    OrganizationOut,
)
from pbkit.commands import idempotent_command
from pbkit.domain import INDUSTRY_LIST_VERSION, industries
from pbkit.queries import Page, paginate
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1", tags=["organizations"])


@router.post(
    "/organizations",
    response_model=OrganizationOut,
    summary="register an organization (admin)",
    description=(
        "`uscc` must carry a valid GB 32100 check character and be new (409 otherwise). `region_code` is "
        "a Guizhou prefecture or county, or a code of another province; a retired Guizhou code is stored "
        "as the code that replaced it. Without `size`, an enterprise's size is classified by the 2011 SME "
        "standard from `sme_sector` and its latest annual report, when both are known."
    ),
    **creating(
        "get_organization_api_v1_organizations__org_id__get", "update_organization_api_v1_organizations__org_id__patch",
        "list_annual_reports_api_v1_organizations__org_id__annual_reports_get",
        "file_annual_report_api_v1_organizations__org_id__annual_reports__year__put", parameter="org_id",
    ),
)
def register_organization(body: OrganizationIn, _admin: AdminOnly, command: Command) -> JSONResponse:
    return command(
        operation="organization.register",
        body=body,
        action=lambda uow, _: service.register_organization(uow=uow, data=body),
    )


@router.get("/organizations", response_model=Page[OrganizationOut], summary="search organizations")
def list_organizations(
    kit: Kit, reader: Reader, page: Pagination, filters: Annotated[OrganizationFilters, Query()]
) -> dict[str, Any]:
    stmt = service.organizations_query(**filters.model_dump(), scope=reader.prefecture_code)
    with kit.read_session() as session:
        return paginate(session, stmt, key=Organization.id, params=page, to_item=OrganizationOut.model_validate)


@router.get("/organizations/{org_id}", response_model=OrganizationOut, summary="one organization")
def get_organization(org_id: OrgIdInPath, kit: Kit, reader: Reader) -> OrganizationOut:
    with kit.read_session() as session:
        return OrganizationOut.model_validate(
            service.get_organization(session=session, org_id=org_id, scope=reader.prefecture_code)
        )


@router.patch("/organizations/{org_id}", response_model=OrganizationOut, summary="change an organization (admin)")
def update_organization(org_id: OrgIdInPath, body: OrganizationChange, _admin: AdminOnly, uow: ActorUow) -> Any:
    # A PATCH documents no Idempotency-Key: sending the same change again changes nothing more.
    return idempotent_command(
        uow,
        key=None,
        operation="organization.update",
        body={"org_id": org_id, "change": body},
        action=lambda uow, _: service.update_organization(uow=uow, org_id=org_id, change=body),
    )


@router.put(
    "/organizations/{org_id}/annual-reports/{year}",
    response_model=AnnualReportOut,
    responses={201: {"model": AnnualReportOut, "description": "the year's first report"}},
    summary="file the year's annual report (admin)",
    description="201 for the year's first report, 200 when it replaces an earlier one (or repeats it unchanged).",
)
def file_annual_report(
    org_id: OrgIdInPath, year: Annotated[Year, Path()], body: AnnualReportIn, _admin: AdminOnly, uow: ActorUow,
    response: Response,
) -> Any:
    filed = idempotent_command(
        uow,
        key=None,
        operation="organization.annual_report",
        body={"org_id": org_id, "year": year, "report": body},
        action=lambda uow, _: service.file_annual_report(uow=uow, org_id=org_id, year=year, data=body),
    )
    response.status_code = 201 if filed["first_of_year"] else 200
    return filed["report"]


@router.get(
    "/organizations/{org_id}/annual-reports",
    response_model=Page[AnnualReportOut],
    summary="an organization's annual reports (admin, viewer, prefecture)",
)
def list_annual_reports(org_id: OrgIdInPath, kit: Kit, reader: ReportReader, page: Pagination) -> dict[str, Any]:
    with kit.read_session() as session:
        service.get_organization(session=session, org_id=org_id, scope=reader.prefecture_code)
        return paginate(
            session, service.reports_query(org_id), key=AnnualReport.id, params=page, to_item=AnnualReportOut.model_validate
        )


@router.get("/industries", response_model=IndustryList, summary="the industry list organizations are classified by")
def list_industries(_reader: Reader) -> dict[str, Any]:
    return {
        "version": INDUSTRY_LIST_VERSION,
        "items": [{"id": key, "label": label} for key, label in industries().items()],
    }
