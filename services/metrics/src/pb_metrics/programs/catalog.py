"""The indicators the service knows how to measure (CONTRACT.md §8), and the seeded programme.

A program picks indicators from this catalog and sets their floors and
growth targets; how each one is counted lives in progress/measures.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# `ratio`: a growth rate measured as such; `rate`: a share of two counts (CONTRACT.md §9 Units), 4 places.
Unit = Literal["count", "yuan", "ratio", "prefectures", "rate"]
Period = Literal["annual", "cumulative"]
Dimension = Literal["prefecture", "industry", "transferor_kind", "month"]


@dataclass(frozen=True)
class IndicatorDefinition:
    id: str
    name: str
    unit: Unit
    period: Period
    # How a person reads the unit in the report (件, 元, 家, ...).
    unit_label: str
    breakdowns: tuple[Dimension, ...]
    # Beyond the table of the seeded programme: the report lists it in a section of its own (附加指标) under
    # that table, so the table sent upward keeps its shape.
    additional: bool = False


_DEALS = ("prefecture", "industry", "transferor_kind", "month")
_PARTIES = ("prefecture", "industry", "month")

INDICATORS: dict[str, IndicatorDefinition] = {
    d.id: d
    for d in (
        IndicatorDefinition("sme_inbound_patents", "中小企业受让、受许可及作价入股专利数", "count", "annual", "件", _DEALS),
        IndicatorDefinition("sme_inbound_contract_amount", "中小企业专利转化合同金额", "yuan", "annual", "元", _DEALS),
        IndicatorDefinition("sme_inbound_received_amount", "中小企业专利转化到账金额", "yuan", "annual", "元", _DEALS),
        IndicatorDefinition("inst_outbound_patents", "高校、科研院所和国有企业转让许可专利数", "count", "annual", "件", _DEALS),
        IndicatorDefinition("inst_outbound_contract_amount", "高校、科研院所和国有企业专利转化合同金额", "yuan", "annual", "元", _DEALS),
        IndicatorDefinition("inst_outbound_received_amount", "高校、科研院所和国有企业专利转化到账金额", "yuan", "annual", "元", _DEALS),
        IndicatorDefinition("smes_benefited", "专利转化受益中小企业数", "count", "cumulative", "家", _PARTIES),
        IndicatorDefinition("benefited_sme_revenue_growth", "受益中小企业营业收入增长率", "ratio", "annual", "%", ()),
        IndicatorDefinition("benefited_sme_employment_growth", "受益中小企业从业人员增长率", "ratio", "annual", "%", ()),
        IndicatorDefinition(
            "filing_prefecture_coverage", "专利产品备案市州覆盖数", "prefectures", "cumulative", "个", ("prefecture", "month")
        ),
        IndicatorDefinition("filing_smes", "专利产品备案中小企业数", "count", "cumulative", "家", _PARTIES),
        IndicatorDefinition("pledge_count", "专利权质押登记笔数", "count", "annual", "笔", _PARTIES),
        IndicatorDefinition("pledge_amount", "专利权质押登记金额", "yuan", "annual", "元", _PARTIES),
        # Issue 15: open licensing (开放许可) and supply-demand matching (供需对接).
        IndicatorDefinition("open_licence_declarations", "高校、科研院所和国有企业专利开放许可声明数", "count", "annual",
                            "项", _DEALS, additional=True),
        IndicatorDefinition("sme_open_licence_deals", "中小企业获得专利开放许可数", "count", "annual", "笔", _DEALS,
                            additional=True),
        IndicatorDefinition("demand_deal_conversion", "技术需求对接成交转化率", "rate", "annual", "%", _PARTIES,
                            additional=True),
    )
}

# A `rate` indicator is the quotient of two counts kept as totals of their own: (numerator, denominator).
RATE_PARTS: dict[str, tuple[str, str]] = {"demand_deal_conversion": ("demands_converted", "demands_posted")}
PART_OF: dict[str, str] = {part: rate_id for rate_id, parts in RATE_PARTS.items() for part in parts}


def breakdowns_of(measure_id: str) -> tuple[Dimension, ...]:
    """The breakdowns the totals of a measure are kept by: an indicator's, or for a part of a rate, the rate's."""
    return INDICATORS[PART_OF.get(measure_id, measure_id)].breakdowns

TEN_PERCENT = 1000  # ten-thousandths


@dataclass(frozen=True)
class SeedTarget:
    indicator_id: str
    floor: int | None  # count, or fen for money
    growth_target: int | None  # ten-thousandths


SEED_PROGRAM_ID = "gz-2021-2023"
SEED_PROGRAM_NAME = "贵州省促进专利技术转化助力中小企业创新发展三年攻坚行动"
SEED_FIRST_YEAR, SEED_LAST_YEAR = 2021, 2023
SEED_TARGETS: tuple[SeedTarget, ...] = (
    SeedTarget("sme_inbound_patents", 500, TEN_PERCENT),
    SeedTarget("sme_inbound_contract_amount", 50_000_000_00, TEN_PERCENT),
    SeedTarget("sme_inbound_received_amount", 5_000_000_00, TEN_PERCENT),
    SeedTarget("inst_outbound_patents", 300, TEN_PERCENT),
    SeedTarget("inst_outbound_contract_amount", 30_000_000_00, TEN_PERCENT),
    SeedTarget("inst_outbound_received_amount", 3_000_000_00, TEN_PERCENT),
    SeedTarget("smes_benefited", 1500, None),
    SeedTarget("benefited_sme_revenue_growth", None, TEN_PERCENT),
    SeedTarget("benefited_sme_employment_growth", None, TEN_PERCENT),
    SeedTarget("filing_prefecture_coverage", 9, None),
    SeedTarget("filing_smes", 1500, None),
    SeedTarget("pledge_count", 50, TEN_PERCENT),
    SeedTarget("pledge_amount", 1_500_000_000_00, TEN_PERCENT),
    # Issue 15's three: the seed sets them no target; an admin may (PUT /api/v1/programs/{id}).
    SeedTarget("open_licence_declarations", None, None),
    SeedTarget("sme_open_licence_deals", None, None),
    SeedTarget("demand_deal_conversion", None, None),
)
