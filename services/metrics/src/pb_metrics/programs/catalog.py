"""The indicators the service knows how to measure (CONTRACT.md §8), and the seeded programme.

A program picks indicators from this catalog and sets their floors and
growth targets; how each one is counted lives in progress/measures.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["count", "yuan", "ratio", "prefectures"]
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
    )
}

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
)
