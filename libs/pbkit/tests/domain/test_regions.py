"""Region codes: Guizhou's 9 prefectures and 88 county-level divisions,
retired codes mapped forward, other provinces checked by their prefix."""

import pytest

from pbkit.domain.regions import (
    GUIZHOU_COUNTIES,
    GUIZHOU_RETIRED_CODES,
    PREFECTURES,
    PROVINCES,
    InvalidRegionCode,
    Region,
    validate_region_code,
)

DOMAIN_PREFECTURES = {
    "520100": "贵阳市",
    "520200": "六盘水市",
    "520300": "遵义市",
    "520400": "安顺市",
    "520500": "毕节市",
    "520600": "铜仁市",
    "522300": "黔西南布依族苗族自治州",
    "522600": "黔东南苗族侗族自治州",
    "522700": "黔南布依族苗族自治州",
}
COUNTY_COUNTS = {
    "520100": 10, "520200": 4, "520300": 14, "520400": 6, "520500": 8,
    "520600": 10, "522300": 8, "522600": 16, "522700": 12,
}
DOMAIN_PROVINCES = [
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
    *range(50, 55), *range(61, 66), 71, 81, 82,
]


def test_the_nine_prefectures_are_those_of_domain():
    assert dict(PREFECTURES) == DOMAIN_PREFECTURES


def test_province_codes_are_those_of_domain():
    assert sorted(PROVINCES) == [str(code) for code in DOMAIN_PROVINCES]


def test_county_list_is_complete_per_prefecture():
    counts = {code: 0 for code in PREFECTURES}
    for county in GUIZHOU_COUNTIES:
        counts[validate_region_code(county).prefecture_code] += 1
    assert counts == COUNTY_COUNTS
    assert len(GUIZHOU_COUNTIES) == 88


@pytest.mark.parametrize("county", sorted(GUIZHOU_COUNTIES))
def test_every_county_maps_to_one_of_the_nine(county):
    region = validate_region_code(county)
    assert region.prefecture_code in DOMAIN_PREFECTURES
    assert region.prefecture_code[:4] == county[:4]
    assert region.prefecture_name == DOMAIN_PREFECTURES[region.prefecture_code]
    assert region.name == GUIZHOU_COUNTIES[county]
    assert region.in_province and region.current_code == county


@pytest.mark.parametrize("code, name", sorted(DOMAIN_PREFECTURES.items()))
def test_prefecture_codes_are_their_own_prefecture(code, name):
    assert validate_region_code(code) == Region(
        code=code, prefecture_code=code, prefecture_name=name, name=name,
        in_province=True, current_code=code,
    )


@pytest.mark.parametrize(
    "code, name, prefecture",
    [
        ("520102", "南明区", "520100"),
        ("520111", "花溪区", "520100"),
        ("520204", "水城区", "520200"),
        ("520581", "黔西市", "520500"),
        ("522302", "兴仁市", "522300"),
        ("522732", "三都水族自治县", "522700"),
    ],
)
def test_known_counties(code, name, prefecture):
    region = validate_region_code(code)
    assert (region.name, region.prefecture_code) == (name, prefecture)


@pytest.mark.parametrize(
    "old, old_name, current, prefecture",
    [
        ("522200", "铜仁地区", "520600", "520600"),
        ("522201", "铜仁市", "520602", "520600"),
        ("522230", "万山特区", "520603", "520600"),
        ("522229", "松桃苗族自治县", "520628", "520600"),
        ("522400", "毕节地区", "520500", "520500"),
        ("522401", "毕节市", "520502", "520500"),
        ("522423", "黔西县", "520581", "520500"),
        ("522428", "赫章县", "520527", "520500"),
        ("520522", "黔西县", "520581", "520500"),
        ("520222", "盘县", "520281", "520200"),
        ("520114", "小河区", "520111", "520100"),
    ],
)
def test_retired_codes_map_forward(old, old_name, current, prefecture):
    assert validate_region_code(old) == Region(
        code=old, prefecture_code=prefecture, prefecture_name=DOMAIN_PREFECTURES[prefecture],
        name=old_name, in_province=True, current_code=current,
    )


def test_every_old_tongren_and_bijie_code_lands_in_its_new_prefecture():
    old_codes = [code for code in GUIZHOU_RETIRED_CODES if code[:4] in ("5222", "5224")]
    assert len(old_codes) == 20
    for code in old_codes:
        expected = "520600" if code.startswith("5222") else "520500"
        assert validate_region_code(code).prefecture_code == expected


@pytest.mark.parametrize(
    "code, prefecture",
    [("110105", "110100"), ("440305", "440300"), ("510000", "510000"), ("820001", "820000")],
)
def test_outside_guizhou_only_the_province_is_checked(code, prefecture):
    assert validate_region_code(code) == Region(
        code=code, prefecture_code=prefecture, prefecture_name=None, name=None,
        in_province=False, current_code=code,
    )


def test_input_is_trimmed_and_full_width_digits_accepted():
    assert validate_region_code(" 520111 ").code == "520111"
    assert validate_region_code("５２０１１１").code == "520111"


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("52011", "has 6 digits"),
        ("5201110", "has 6 digits"),
        ("52O111", "has 6 digits"),
        ("", "has 6 digits"),
        ("990101", "'99' is not a GB/T 2260 province code"),
        ("160101", "'16' is not"),
        ("000000", "'00' is not"),
        ("520000", "Guizhou province as a whole"),
        ("520199", "not a prefecture or county code of Guizhou"),
        ("520700", "not a prefecture or county code of Guizhou"),
        ("522299", "not a prefecture or county code of Guizhou"),
        ("522500", "not a prefecture or county code of Guizhou"),
    ],
)
def test_bad_codes(code, fragment):
    with pytest.raises(InvalidRegionCode) as error:
        validate_region_code(code)
    assert fragment in str(error.value)


def test_non_text_is_rejected():
    with pytest.raises(InvalidRegionCode):
        validate_region_code(520111)
