"""SME size classes (工信部联企业〔2011〕300号): every bound of every sector,
reached and missed by the smallest unit, checked against DOMAIN.md's table."""

import json
from importlib import resources

import pytest

from pbkit.domain.sme import (
    SME_SIZE_STANDARD,
    InsufficientData,
    classify_size,
    load_size_standard,
)

FEN_PER_WAN = 1_000_000
ARGUMENT = {"employees": "employees", "revenue": "revenue_fen", "total_assets": "total_assets_fen"}
# DOMAIN.md's table, restated as the minimums of each class (employees in
# persons, money in 万元): large = not under the SME ceiling.
DOMAIN_TABLE = {
    "industry": {
        "large": {"employees": 1000, "revenue": 40000},
        "medium": {"employees": 300, "revenue": 2000},
        "small": {"employees": 20, "revenue": 300},
    },
    "software_it": {
        "large": {"employees": 300, "revenue": 10000},
        "medium": {"employees": 100, "revenue": 1000},
        "small": {"employees": 10, "revenue": 50},
    },
    "wholesale": {
        "large": {"employees": 200, "revenue": 40000},
        "medium": {"employees": 20, "revenue": 5000},
        "small": {"employees": 5, "revenue": 1000},
    },
    "retail": {
        "large": {"employees": 300, "revenue": 20000},
        "medium": {"employees": 50, "revenue": 500},
        "small": {"employees": 10, "revenue": 100},
    },
    "construction": {
        "large": {"revenue": 80000, "total_assets": 80000},
        "medium": {"revenue": 6000, "total_assets": 5000},
        "small": {"revenue": 300, "total_assets": 300},
    },
    "transport": {
        "large": {"employees": 1000, "revenue": 30000},
        "medium": {"employees": 300, "revenue": 3000},
        "small": {"employees": 20, "revenue": 200},
    },
    "other": {
        "large": {"employees": 300},
        "medium": {"employees": 100},
        "small": {"employees": 10},
    },
}
BELOW = {"large": "medium", "medium": "small", "small": "micro"}


def arguments(bounds: dict[str, int]) -> dict[str, int]:
    """Keyword arguments for classify_size exactly at ``bounds``."""
    return {
        ARGUMENT[figure]: value if figure == "employees" else value * FEN_PER_WAN
        for figure, value in bounds.items()
    }


def at_bound_cases():
    for sector, classes in DOMAIN_TABLE.items():
        for size, bounds in classes.items():
            yield pytest.param(sector, arguments(bounds), size, id=f"{sector}-{size}-at")


def just_below_cases():
    for sector, classes in DOMAIN_TABLE.items():
        for size, bounds in classes.items():
            for figure in bounds:
                kwargs = arguments(bounds)
                kwargs[ARGUMENT[figure]] -= 1  # one person, or one fen
                yield pytest.param(
                    sector, kwargs, BELOW[size], id=f"{sector}-{size}-{figure}-below"
                )


def test_sectors_are_those_of_the_table():
    assert list(SME_SIZE_STANDARD.sector_labels) == list(DOMAIN_TABLE)
    assert "300号" in SME_SIZE_STANDARD.name


@pytest.mark.parametrize("sector, kwargs, expected", list(at_bound_cases()))
def test_at_each_bound(sector, kwargs, expected):
    assert classify_size(sector, **kwargs) == expected


@pytest.mark.parametrize("sector, kwargs, expected", list(just_below_cases()))
def test_just_below_each_bound(sector, kwargs, expected):
    assert classify_size(sector, **kwargs) == expected


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"employees": 5000, "revenue_fen": 39_999 * FEN_PER_WAN}, "medium"),  # SME by revenue
        ({"employees": 999, "revenue_fen": 10**15}, "medium"),  # SME by headcount
        ({"employees": 5000, "revenue_fen": 299 * FEN_PER_WAN}, "micro"),  # micro by revenue alone
        ({"employees": 19, "revenue_fen": 10**15}, "micro"),  # micro by headcount alone
        ({"employees": 0, "revenue_fen": 0}, "micro"),
    ],
)
def test_one_criterion_is_enough_to_drop_a_class(kwargs, expected):
    assert classify_size("industry", **kwargs) == expected


def test_irrelevant_figures_are_ignored():
    assert classify_size("other", employees=99, revenue_fen=10**15, total_assets_fen=10**15) == "small"
    assert classify_size("construction", employees=10**6, revenue_fen=0, total_assets_fen=10**15) == "micro"


@pytest.mark.parametrize(
    "sector, kwargs, expected",
    [
        ("industry", {"revenue_fen": 299 * FEN_PER_WAN}, "micro"),
        ("industry", {"employees": 19}, "micro"),
        ("construction", {"revenue_fen": 299 * FEN_PER_WAN}, "micro"),
        ("other", {"employees": 10}, "small"),
    ],
)
def test_a_missing_figure_is_fine_when_the_answer_does_not_depend_on_it(sector, kwargs, expected):
    assert classify_size(sector, **kwargs) == expected


@pytest.mark.parametrize(
    "sector, kwargs, fragment",
    [
        ("industry", {"revenue_fen": 40_000 * FEN_PER_WAN}, "is large without its employees"),
        ("industry", {"revenue_fen": 2_000 * FEN_PER_WAN}, "is medium without its employees"),
        ("industry", {"employees": 999}, "is medium without its operating revenue"),
        ("construction", {"revenue_fen": 80_000 * FEN_PER_WAN}, "without its total assets"),
        ("other", {"revenue_fen": 10**15}, "without its employees"),
        ("retail", {}, "employees (从业人员) and operating revenue (营业收入)"),
    ],
)
def test_missing_figures_that_matter_raise(sector, kwargs, fragment):
    with pytest.raises(InsufficientData) as error:
        classify_size(sector, **kwargs)
    assert fragment in str(error.value)


def test_insufficient_data_is_a_value_error():
    assert issubclass(InsufficientData, ValueError)


@pytest.mark.parametrize(
    "sector, kwargs",
    [
        ("mining", {"employees": 10}),
        ("industry", {"employees": -1, "revenue_fen": 0}),
        ("industry", {"employees": 10, "revenue_fen": 1.5}),
        ("industry", {"employees": True, "revenue_fen": 0}),
        ("construction", {"revenue_fen": 0, "total_assets_fen": -5}),
    ],
)
def test_bad_input_is_refused(sector, kwargs):
    with pytest.raises(ValueError) as error:
        classify_size(sector, **kwargs)
    assert not isinstance(error.value, InsufficientData)


def shipped_thresholds() -> dict:
    text = resources.files("pbkit.domain").joinpath("sme_thresholds_2011.json").read_text("utf-8")
    return json.loads(text)


def test_a_revision_is_a_data_change():
    data = shipped_thresholds()
    data["sectors"]["other"]["minimums"]["small"]["employees"] = 5
    revised = load_size_standard(json.dumps(data, ensure_ascii=False))
    assert classify_size("other", employees=7) == "micro"
    assert classify_size("other", employees=7, standard=revised) == "small"


def test_thresholds_may_be_given_in_yuan():
    data = shipped_thresholds()
    data["units"]["revenue"] = "元"
    data["sectors"]["industry"]["minimums"]["small"]["revenue"] = 1500.5
    revised = load_size_standard(json.dumps(data, ensure_ascii=False))
    kwargs = {"employees": 20}
    assert classify_size("industry", revenue_fen=150_049, standard=revised, **kwargs) == "micro"
    assert classify_size("industry", revenue_fen=150_050, standard=revised, **kwargs) == "small"


@pytest.mark.parametrize(
    "path, value, fragment",
    [
        (("industry", "small", "employees"), 400, "must fall from large to small"),
        (("industry", "small", "employees"), 0, "must fall from large to small"),
        (("industry", "small", "revenue"), 0.0000001, "not a whole number"),
    ],
)
def test_inconsistent_thresholds_are_refused_at_load(path, value, fragment):
    data = shipped_thresholds()
    sector, size, figure = path
    data["sectors"][sector]["minimums"][size][figure] = value
    with pytest.raises(ValueError, match=fragment):
        load_size_standard(json.dumps(data, ensure_ascii=False))


def test_classes_must_bound_the_same_figures():
    data = shipped_thresholds()
    del data["sectors"]["retail"]["minimums"]["medium"]["revenue"]
    with pytest.raises(ValueError, match="same figures"):
        load_size_standard(json.dumps(data, ensure_ascii=False))
