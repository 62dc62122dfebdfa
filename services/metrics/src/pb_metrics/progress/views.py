"""/api/v1/programs/{id}/progress: where each target stands, and what makes up each number."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from pb_metrics.deps import IndicatorId, Kit, Prefecture, ProgramId, Reader, ScopedReader, Today, Year, consistent_read
from pb_metrics.programs.catalog import Dimension
from pb_metrics.programs.service import load_program
from pb_metrics.progress import service
from pb_metrics.progress.schemas import ProgressOut
from pbkit.errors import NotFound

router = APIRouter(prefix="/api/v1/programs", tags=["progress"])


@router.get(
    "/{program_id}/progress",
    summary="every indicator of the program for a year: actual, previous, growth, targets met",
    description="`pace` (an addition to CONTRACT.md §8): for annual counts and sums in the current year, "
    "where the year would end at the rate so far; null otherwise. `met` is true when every check that "
    "could be made (floor, growth) holds.\n\n"
    "**Issue 15's indicators** (additions to CONTRACT.md §8; the seeded program has them without targets): "
    "`open_licence_declarations` counts the open-licence declarations (pb.market.open_licences) whose first "
    "declarant is an in-province university, research institute or state-owned enterprise, in the year of "
    "`declared_on` (a withdrawal does not un-count); `sme_open_licence_deals` the recorded licence deals of "
    "`license_type` `open` whose transferee is an in-province SME, in the year of `recorded_on`; "
    "`demand_deal_conversion` (unit `rate`, CONTRACT.md §9: a decimal string of 4 places, half-up, like its floor "
    "and baseline) the demands posted in the year (pb.market.demands) that a deal converted, over those posted: a "
    "deal converts a demand when it is recorded in that year, not before the demand was posted, its transferee is "
    "the demand's SME and one of its patents was proposed to the demand (pb.match.proposed.v1; a match a later "
    "ranking drops is not announced, so it still counts). Null when no demand was posted in the year.\n\n"
    "**Prefecture scope** (`prefecture=`, CONTRACT.md §9): each indicator counts only the records whose "
    "counted party is in that prefecture, by the party snapshot the event carried: for `sme_inbound_*` the "
    "SME transferee; for `inst_outbound_*` the first in-province university, research institute or state-owned "
    "enterprise among the transferors; for `pledge_*` the pledgor; for `filing_prefecture_coverage` the filing's "
    "own region; for `filing_smes`, `smes_benefited` and the two `benefited_sme_*_growth` the SME, in the "
    "prefecture where it first counted from the program's first year through the year (as the breakdowns "
    "attribute it), so the nine prefectures, out-of-province and unknown parties add up to the province; for "
    "`open_licence_declarations` the first declarant; for `sme_open_licence_deals` the SME licensee; for "
    "`demand_deal_conversion` the SME that posted the demand. "
    "Baselines are the province's: in the program's first year a scoped `previous` and `growth` are null. "
    "A prefecture user (a staff viewer limited to one 市州) always gets its own prefecture's progress; asking "
    "for another is 404. Breakdowns and reports, which show every prefecture's share, are the province's "
    "staff's (admin, viewer).",
)
def get_progress(
    program_id: ProgramId, kit: Kit, actor: ScopedReader, year: Year, today: Today, prefecture: Prefecture = None
) -> dict[str, Any]:
    if actor.prefecture_code is not None:
        # A prefecture user's progress is its own prefecture's; another's does not exist for it.
        if prefecture not in (None, actor.prefecture_code):
            raise NotFound(f"no progress of prefecture {prefecture} for a user of {actor.prefecture_code}")
        prefecture = actor.prefecture_code
    # The office's calendar day decides which year is "current" for the pace figure.
    with consistent_read(kit) as session:
        answer = service.progress(
            session, load_program(session, program_id), year=year, today=today, prefecture=prefecture
        )
        return ProgressOut.model_validate(answer).model_dump(mode="json")


@router.get(
    "/{program_id}/progress/{indicator_id}/breakdown",
    summary="an indicator's value split by prefecture, industry, transferor kind or month",
    description="The values add up to the indicator's `actual`, except for a `rate` indicator, whose values are the "
    "rate within each key (null where its denominator is zero). Distinct counts (SMEs, prefectures) are "
    "attributed to the prefecture, industry and month in which each first counted. Deals are split by the "
    "transferee's prefecture and industry (SME-inbound) or the institution's prefecture and kind and the "
    "transferee's industry (institution-outbound); pledges by the pledgor; `key` null is 未知 (unknown).",
)
def get_breakdown(
    program_id: ProgramId,
    indicator_id: IndicatorId,
    kit: Kit,
    _actor: Reader,
    year: Year,
    by: Annotated[Dimension, Query()],
) -> dict[str, Any]:
    with consistent_read(kit) as session:
        program = load_program(session, program_id)
        return service.breakdown(session, program, indicator_id=indicator_id, year=year, by=by).model_dump(mode="json")
