"""The last day a patent is in force, by type and filing date."""

from __future__ import annotations

from datetime import date

import pytest

from pb_pledge.pledges.patent_terms import last_day_of_protection


@pytest.mark.parametrize(
    ("patent_type", "filed", "last_day"),
    [
        ("invention", date(1999, 9, 6), date(2019, 9, 5)),
        ("utility_model", date(1999, 9, 6), date(2009, 9, 5)),
        ("design", date(2021, 5, 31), date(2031, 5, 30)),
        ("design", date(2021, 6, 1), date(2036, 5, 31)),
        ("invention", date(2004, 2, 29), date(2024, 2, 28)),
        ("utility_model", date(2004, 2, 29), date(2014, 2, 28)),
        ("invention", date(2021, 1, 1), date(2040, 12, 31)),
    ],
)
def test_last_day_of_protection(patent_type, filed, last_day):
    assert last_day_of_protection(patent_type, filed) == last_day
