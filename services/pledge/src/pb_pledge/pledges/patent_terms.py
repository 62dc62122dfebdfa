"""How long a Chinese patent lasts: the limit a pledge's debt term may not run past.

Patent Law art. 42 (as amended 2020, in force 2021-06-01): invention 20 years,
utility model 10 years, design 15 years, each counted from the filing date;
designs filed before 2021-06-01 keep the old 10 years. The term ends the day
before the anniversary (filed 1999-09-06, a 10-year term runs to 2009-09-05).
"""

from __future__ import annotations

from datetime import date, timedelta

TERM_YEARS = {"invention": 20, "utility_model": 10, "design": 15}
DESIGN_TERM_YEARS_BEFORE_2021_AMENDMENT = 10
AMENDMENT_IN_FORCE = date(2021, 6, 1)


def term_years(patent_type: str, filing_date: date) -> int:
    if patent_type == "design" and filing_date < AMENDMENT_IN_FORCE:
        return DESIGN_TERM_YEARS_BEFORE_2021_AMENDMENT
    return TERM_YEARS[patent_type]


def last_day_of_protection(patent_type: str, filing_date: date) -> date:
    """The last day the patent is in force (absent earlier lapse)."""
    years = term_years(patent_type, filing_date)
    try:
        anniversary = filing_date.replace(year=filing_date.year + years)
    except ValueError:  # filed on 29 February; the anniversary falls on 1 March
        anniversary = date(filing_date.year + years, 3, 1)
    return anniversary - timedelta(days=1)
