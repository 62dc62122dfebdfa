"""Sums are exact and cannot overflow (issue 11 §2): SQLite's SUM stops at 2⁶³ − 1 fen, and 100,000 amounts of the
largest size an amount may have (10¹² yuan, 10¹⁴ fen) add up to 10¹⁹ fen."""

from __future__ import annotations

from datetime import date

COUNT = 100_000


def test_a_hundred_thousand_maximum_amounts_add_up_exactly_in_progress_breakdowns_and_reports(
    client, viewer, database_url, fill_with_maximum_amounts, check_exact_totals
):
    fill_with_maximum_amounts(database_url, count=1, year=2021)
    fill_with_maximum_amounts(database_url, count=COUNT, year=2022, plus_a_fen=True)
    check_exact_totals(client, viewer, count=COUNT)


def test_ten_pledges_of_the_largest_amount_an_old_event_could_carry_leave_progress_answering(
    orgs, producers, apply, client, viewer, progress_of
):
    """An event log kept from before the bound may still hold amounts of 9999999999999999.99: they count exactly."""
    pledges = [producers.pledge(orgs.sme, amount="9999999999999999.99") for _ in range(10)]
    apply(p.register(date(2022, 3, 1)) for p in pledges)
    assert progress_of(2022)["pledge_amount"]["actual"] == "99999999999999999.90"
    report = client.get("/api/v1/programs/gz-2021-2023/report", params={"year": 2022}, headers=viewer)
    assert report.status_code == 200
    assert "99999999999999999.90" in report.content.decode("utf-8-sig")
