"""Which database errors are the client's conflict (409): the unique keys concurrent requests can both reach."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("what", "constraint"), [("program", "programs_pkey"), ("baseline", "baselines_pkey")])
def test_a_duplicate_program_or_baseline_is_a_named_conflict_on_sqlite(
    database_url, constraint_hit_by_duplicate, what, constraint
):
    assert constraint_hit_by_duplicate(database_url, what) == constraint

