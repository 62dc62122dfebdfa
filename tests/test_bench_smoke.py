"""`make bench` keeps working: its smoke profile runs the whole suite of figures on the embedded default and
writes every figure of the table as JSON. What the figures are is never checked here (bench/ measures, tests
do not time), only that each was measured."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

from bench.__main__ import expected_figures
from pbkit.testing import REPO_ROOT

KEYS = {"figure", "value", "baseline", "ratio", "target", "met"}


def test_the_smoke_profile_reports_every_figure_with_its_baseline_and_target(tmp_path):
    assert shutil.which("wrk"), "wrk is missing: deploy/bootstrap.sh installs it (apt-get install wrk)"
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_")}
    done = subprocess.run([sys.executable, "-m", "bench", "--profile", "smoke", "--backend", "embedded",
                           "--json", str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]

    rows = json.loads(out.read_text())
    assert [row["figure"] for row in rows] == expected_figures("embedded"), done.stderr[-4000:]
    for row in rows:
        assert set(row) == KEYS
        assert isinstance(row["value"], int | float) and math.isfinite(row["value"]), (row, done.stderr[-4000:])
        assert row["met"] in (True, False, None) and isinstance(row["target"], str)
        if row["baseline"]:
            assert row["ratio"] == row["value"] / row["baseline"]
    assert "| figure" in done.stdout
