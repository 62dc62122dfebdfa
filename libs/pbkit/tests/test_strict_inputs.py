"""Issue 11 §2-§3: the kit's input types take only what CONTRACT.md §9 allows. A tampered cursor, a non-ASCII
digit, an amount over 10¹² yuan, a date that is not YYYY-MM-DD, a patent number of a year to come, a date
of something past set in the future, a control character in text: each is a 422 naming its field, never
stored and never a 500."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import MetaData

from pbkit.db import install_kit_tables
from pbkit.domain import (
    InvalidIPC,
    InvalidPatentNumber,
    InvalidRegionCode,
    InvalidUSCC,
    current_cnipa_year,
    normalise_ipc,
    parse_patent_number,
    validate_region_code,
    validate_uscc,
)
from pbkit.domain.patent_numbers import check_character
from pbkit.errors import RuleBroken
from pbkit.events import EventCatalog
from pbkit.fields import (
    PAST_DATE_TOLERANCE_DAYS,
    IsoDate,
    IsoDateQuery,
    Line,
    OrgId,
    PastDate,
    PositiveMoney,
    Reason,
    RegionCode,
    Text,
)
from pbkit.kit import ServiceKit
from pbkit.money import MAX_FEN, MONEY_PATTERN, Money, parse_money
from pbkit.queries import MAX_CURSOR_KEY_LENGTH, decode_cursor, encode_cursor
from pbkit.service import create_app
from pbkit.settings import ServiceSettings
from pbkit.web.pagination import Pagination

ARABIC_INDIC_ZERO = "\u0660"  # ٠
DEVANAGARI_ONE = "\u0967"  # १


def cursor_of(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def refused(adapter: TypeAdapter, value: object) -> str:
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(value)
    return str(info.value)


# --- §2: a tampered pagination cursor ---------------------------------------------------------------

TAMPERED_CURSORS = {
    "lone surrogate (the issue's)": "WyJcdWQ4MDAiXQ",
    "lone surrogate": cursor_of(["a\udfffb"]),
    "NUL": cursor_of(["0190\u0000"]),
    "control character": cursor_of(["a\u001bb"]),
    "C1 control": cursor_of(["a\u0085b"]),
    "newline": cursor_of(["a\nb"]),
    "empty key": cursor_of([""]),
    "key too long": cursor_of(["x" * (MAX_CURSOR_KEY_LENGTH + 1)]),
    "not a string": cursor_of([7]),
    "two keys": cursor_of(["a", "b"]),
    "nested": cursor_of([["a"]]),
    "not base64": "!!",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "non-ASCII text": "W1wiw6lcIl0é",
    "very long": "A" * 5000,
    "deeply nested": base64.urlsafe_b64encode(b"[" * 700).decode(),
}


def test_the_issues_cursor_decodes_to_a_lone_surrogate():
    assert json.loads(base64.urlsafe_b64decode("WyJcdWQ4MDAiXQ==")) == ["\ud800"]


@pytest.mark.parametrize("cursor", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
def test_a_tampered_cursor_is_refused_naming_query_cursor(cursor):
    with pytest.raises(RuleBroken) as info:
        decode_cursor(cursor)
    assert [e["loc"] for e in info.value.errors] == [["query", "cursor"]]


@pytest.mark.parametrize("key", ["0190f3a2-7c4e-7b1d-8a2f-3c4d5e6f7a8b", "202110123456.7", "pilot-2024", "x" * 128])
def test_every_issued_cursor_still_decodes_to_its_key(key):
    assert decode_cursor(encode_cursor(key)) == key


@pytest.fixture
def list_client(tmp_path, test_keys):
    settings = ServiceSettings(service_name="strict", database_url=f"sqlite:///{tmp_path}/s.sqlite3",
                               var_dir=tmp_path, jwks_json=test_keys.jwks_json, relay_enabled=False)
    kit = ServiceKit.from_settings(settings, install_kit_tables(MetaData()), catalog=EventCatalog(publishes={}))
    router = APIRouter(prefix="/api/v1")

    @router.get("/things")
    def things(page: Pagination) -> dict:
        return {"items": [], "after": page.after}

    with TestClient(create_app(kit, title="strict", description="test", routers=[router])) as client:
        yield client
    kit.close()


@pytest.mark.parametrize("cursor", ["WyJcdWQ4MDAiXQ", TAMPERED_CURSORS["NUL"], TAMPERED_CURSORS["key too long"]])
def test_a_list_answers_a_tampered_cursor_with_a_422_problem(list_client, cursor):
    answer = list_client.get("/api/v1/things", params={"cursor": cursor})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in answer.json()["errors"]] == [["query", "cursor"]]
    issued = list_client.get("/api/v1/things", params={"cursor": encode_cursor("0190f3a2")})
    assert issued.status_code == 200 and issued.json()["after"] == "0190f3a2"


# --- §2, §3: money ----------------------------------------------------------------------------------

money, positive_money = TypeAdapter(Money), TypeAdapter(PositiveMoney)


@pytest.mark.parametrize("text", [
    f"1{ARABIC_INDIC_ZERO}{ARABIC_INDIC_ZERO}.{ARABIC_INDIC_ZERO}{ARABIC_INDIC_ZERO}",  # the issue's "1٠٠.٠٠"
    f"{DEVANAGARI_ONE}00.00", "１００.００", f"100.{ARABIC_INDIC_ZERO}", "1\u00b2",
])
def test_money_in_other_digits_than_ascii_is_refused(text):
    for adapter in (money, positive_money):
        assert "ASCII digits" in refused(adapter, text)


@pytest.mark.parametrize("text", ["1000000000000.01", "1000000000001", "9999999999999.99", "9999999999999999.99",
                                  "10000000000000", "123456789012345678901234567890.00"])
def test_an_amount_over_a_million_million_yuan_is_refused(text):
    for adapter in (money, positive_money):
        assert "at most 1000000000000.00 yuan" in refused(adapter, text)


def test_the_largest_amount_is_accepted_and_exact():
    assert MAX_FEN == 10**14
    assert money.validate_python("1000000000000.00") == positive_money.validate_python("1000000000000") == MAX_FEN
    assert money.dump_python(MAX_FEN, mode="json") == "1000000000000.00"


def test_the_schema_pattern_takes_ascii_digits_only_and_the_largest_amount():
    import re

    pattern = re.compile(MONEY_PATTERN)
    schema = money.json_schema()
    assert schema["pattern"] == MONEY_PATTERN and "1000000000000.00" in schema["description"]
    assert pattern.match("1000000000000.00") and pattern.match("0.01")
    assert not pattern.match("1٠٠.٠٠") and not pattern.match("10000000000000.00")
    with pytest.raises(ValueError):
        parse_money("10000000000000.00")


# --- §3: ASCII digits in every code ---------------------------------------------------------------

def test_a_region_code_in_other_digits_is_refused():
    with pytest.raises(InvalidRegionCode):
        validate_region_code(f"11{ARABIC_INDIC_ZERO * 4}")  # the issue's "11٠٠٠٠"
    with pytest.raises(InvalidRegionCode):
        validate_region_code(f"52{ARABIC_INDIC_ZERO}1{DEVANAGARI_ONE}1")
    assert "6 digits" in refused(TypeAdapter(RegionCode), f"11{ARABIC_INDIC_ZERO * 4}")
    assert validate_region_code("110000").current_code == "110000"


def arabic_indic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) for d in digits)


def test_a_patent_number_in_other_digits_is_refused():
    digits = "201710601862"
    assert parse_patent_number(f"{digits}.3").canonical == "201710601862.3"
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(f"{arabic_indic(digits)}.3")
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(f"{digits[:-1]}{arabic_indic('2')}.3")
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(f"{digits}.{arabic_indic('3')}")


def test_an_ipc_symbol_and_a_uscc_in_other_digits_are_refused():
    assert normalise_ipc("G06F 16/27") == "G06F 16/27"
    with pytest.raises(InvalidIPC):
        normalise_ipc(f"G{arabic_indic('06')}F 16/27")
    with pytest.raises(InvalidIPC):
        normalise_ipc(f"G06F {arabic_indic('16')}/27")
    assert validate_uscc("91350200776049653A") == "91350200776049653A"
    with pytest.raises(InvalidUSCC):
        validate_uscc(f"{arabic_indic('9')}1350200776049653A")


# --- §3: patent numbers of a year to come ------------------------------------------------------------

def numbered(year: int) -> str:
    digits = f"{year}10000001"
    return f"{digits}.{check_character(digits)}"


def test_a_patent_number_of_a_later_year_is_refused():
    with pytest.raises(InvalidPatentNumber, match="2099"):
        parse_patent_number(numbered(2099))  # the issue's
    this_year = current_cnipa_year()
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(numbered(this_year + 1))
    assert parse_patent_number(numbered(this_year)).year == this_year
    assert parse_patent_number(numbered(2003)).year == 2003


def test_the_year_window_follows_the_year_given():
    with pytest.raises(InvalidPatentNumber, match="after 2020"):
        parse_patent_number(numbered(2021), this_year=2020)
    assert parse_patent_number(numbered(2021), this_year=2021).year == 2021


def test_the_cnipa_year_is_the_year_in_china():
    assert current_cnipa_year() == datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).year


# --- §3: dates are YYYY-MM-DD -------------------------------------------------------------------------

iso_date, past_date = TypeAdapter(IsoDate), TypeAdapter(PastDate)
NOT_DATES = [1609459200, 1609459200.0, "1609459200", "2021-01-01T00:00:00", "2021-01-01T00:00:00Z",
             "2021-01-01 00:00", "20210101", "2021-1-1", "2021-02-30", "0000-01-01", "٢٠٢١-٠١-٠١",
             "2021-01-01\n", " 2021-01-01", True, None, datetime(2021, 1, 1)]


@pytest.mark.parametrize("value", NOT_DATES, ids=repr)
def test_a_body_date_takes_yyyy_mm_dd_only(value):
    refused(iso_date, value)
    refused(past_date, value)


def test_a_real_date_is_taken():
    assert iso_date.validate_python("2021-01-01") == date(2021, 1, 1)
    assert iso_date.validate_json('"2024-02-29"') == date(2024, 2, 29)
    assert iso_date.validate_python(date(2021, 1, 1)) == date(2021, 1, 1)


def test_a_date_of_something_past_is_not_far_in_the_future():
    today = datetime.now(UTC).date()
    assert "future" in refused(past_date, "9999-12-31")  # the issue's registered_on
    refused(past_date, (today + timedelta(days=PAST_DATE_TOLERANCE_DAYS + 1)).isoformat())
    latest = today + timedelta(days=PAST_DATE_TOLERANCE_DAYS)
    assert past_date.validate_python(latest.isoformat()) == latest
    assert past_date.validate_python("1985-04-01") == date(1985, 4, 1)
    assert iso_date.validate_python("9999-12-31") == date(9999, 12, 31)  # IsoDate alone has no window


class DatedBody(BaseModel):
    filing_date: IsoDate
    registered_on: PastDate | None = None


@pytest.fixture
def query_client():
    app = FastAPI()

    @app.get("/deals")
    def deals(recorded_from: Annotated[IsoDate | None, Query()] = None,
              recorded_to: Annotated[IsoDateQuery, Query()] = None) -> dict:
        return {"from": recorded_from and recorded_from.isoformat(), "to": recorded_to and recorded_to.isoformat()}

    @app.post("/patents")
    def patents(body: DatedBody) -> dict:
        return body.model_dump(mode="json")

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("name", ["recorded_from", "recorded_to"])
@pytest.mark.parametrize("value", ["1651363200", "2022-05-01T00:00:00", "2022-02-30", "٢٠٢٢-05-01", "2022.0"])
def test_a_query_date_takes_yyyy_mm_dd_only(query_client, name, value):
    answer = query_client.get("/deals", params={name: value})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", name]


def test_a_query_date_in_yyyy_mm_dd_is_taken(query_client):
    answer = query_client.get("/deals", params={"recorded_from": "2022-05-01", "recorded_to": "2022-06-30"})
    assert answer.status_code == 200 and answer.json() == {"from": "2022-05-01", "to": "2022-06-30"}
    assert query_client.get("/deals").json() == {"from": None, "to": None}


@pytest.mark.parametrize("body", [{"filing_date": 1609459200}, {"filing_date": "2021-01-01T00:00:00"},
                                  {"filing_date": "2021-01-01", "registered_on": "9999-12-31"}])
def test_a_body_date_that_is_not_yyyy_mm_dd_or_not_plausible_is_a_422(query_client, body):
    assert query_client.post("/patents", json=body).status_code == 422
    assert query_client.post("/patents", json={"filing_date": "2021-01-01"}).status_code == 200


def test_the_query_date_schema_is_a_date_string():
    schema = TypeAdapter(IsoDateQuery).json_schema()
    assert {"type": "string", "format": "date"}.items() <= schema["anyOf"][0].items()


# --- §5: NUL and control characters in text -----------------------------------------------------------

text, line, org_id, reason = TypeAdapter(Text), TypeAdapter(Line), TypeAdapter(OrgId), TypeAdapter(Reason)
CONTROLS = ["\u0000", "\u0001", "\u0008", "\u000b", "\u000c", "\u000d", "\u001b", "\u001f", "\u007f", "\u0085",
            "\u009f"]


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_text_refuses_nul_and_other_control_characters(control):
    for adapter in (text, line, org_id, reason):
        assert f"U+{ord(control):04X}" in refused(adapter, f"贵州大学{control}x")


def test_text_refuses_a_lone_surrogate_which_no_database_can_store():
    # FastAPI parses a body with json.loads, which lets "\ud800" through as a lone surrogate.
    assert json.loads('"name\\ud800"') == "name\ud800"
    assert "surrogate" in refused(text, "name\ud800") and "surrogate" in refused(line, "name\udfff")
    for adapter in (org_id, reason):  # pydantic's own length check refuses it already; refused either way
        refused(adapter, "name\ud800")


def test_text_keeps_tab_and_newline_and_a_line_does_not():
    assert text.validate_python("第一行\n\t第二行") == "第一行\n\t第二行"
    assert reason.validate_python("  the reason\nin two lines ") == "the reason\nin two lines"
    for character in "\t\n":
        refused(line, f"a{character}b")
        refused(org_id, f"a{character}b")
    assert line.validate_python("贵州大学 (Guizhou University) 😀") == "贵州大学 (Guizhou University) 😀"
    assert org_id.validate_python("0190f3a2-7c4e-7b1d-8a2f-3c4d5e6f7a8b") == "0190f3a2-7c4e-7b1d-8a2f-3c4d5e6f7a8b"


# --- reading back what was stored or published: no bound --------------------------------------------

def test_stored_money_reads_amounts_of_any_size_exactly():
    from pbkit.money import StoredMoney

    stored = TypeAdapter(StoredMoney)
    assert stored.validate_python("9999999999999999.99") == 999999999999999999
    assert stored.validate_python("99999999999999999999.90") == 9999999999999999999990
    assert stored.dump_python(10**20, mode="json") == "1000000000000000000.00"
    for bad in ["1٠٠.٠٠", "-1.00", 1.5, True, "1.001", "01.00", -1, 100]:
        refused(stored, bad)
