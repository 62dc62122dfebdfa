"""Industry list: the ten industries of DOMAIN.md plus 'other', as versioned data."""

import pytest

from pbkit.domain.industries import (
    INDUSTRY_LIST_VERSION,
    InvalidIndustry,
    industries,
    validate_industry,
)

GZ_2021 = {
    "basic_energy": "基础能源",
    "clean_power": "清洁高效电力",
    "liquor_tobacco": "优质烟酒",
    "new_building_materials": "新型建材",
    "modern_chemicals": "现代化工",
    "advanced_equipment": "先进装备制造",
    "basic_materials": "基础材料",
    "ecological_food": "生态特色食品",
    "big_data_electronics": "大数据电子信息",
    "health_medicine": "健康医药",
    "other": "其他",
}


def test_current_version_is_gz_2021():
    assert INDUSTRY_LIST_VERSION == "gz-2021"


def test_list_is_the_ten_industries_plus_other_in_order():
    assert list(industries().items()) == list(GZ_2021.items())
    assert industries("gz-2021") == GZ_2021


def test_returned_list_is_a_copy():
    industries()["mining"] = "采矿"
    assert "mining" not in industries()


@pytest.mark.parametrize("industry_id", sorted(GZ_2021))
def test_listed_ids_validate(industry_id):
    assert validate_industry(industry_id) == industry_id
    assert validate_industry(industry_id, "gz-2021") == industry_id


@pytest.mark.parametrize("industry_id", ["", "Basic_Energy", "基础能源", "mining", " other", None])
def test_unlisted_ids_are_rejected(industry_id):
    with pytest.raises(InvalidIndustry, match="expected one of basic_energy, clean_power"):
        validate_industry(industry_id)


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="unknown industry list version 'gz-2099'; known: gz-2021"):
        industries("gz-2099")
    with pytest.raises(ValueError, match="unknown industry list version"):
        validate_industry("other", "gz-2099")
