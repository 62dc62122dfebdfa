"""Reconciliation (issue 14): `python -m pb_metrics.reconcile` recounts the programme from the source services' APIs.

On the embedded default (`make run`): after the programme story it finds 0 differences and exits 0; a deal fact
tampered with in the metrics database is then reported by record (with the indicators and year it counts in),
and a total tampered with by indicator and year; the exit status is 1.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from pbkit.testing import REPO_ROOT, wait_until
from tests.conftest import ADMIN_ID, ADMIN_SECRET
from tests.test_programme_story import drive_the_story, settled


def reconcile(run, stack) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_")}
    env |= {
        "PB_VAR_DIR": str(run.var_dir),
        "PB_REGISTRY_URL": stack.urls["registry"],
        "PB_TRANSACTIONS_URL": stack.urls["transactions"],
        "PB_PLEDGE_URL": stack.urls["pledge"],
        "PB_PRODUCT_FILING_URL": stack.urls["product_filing"],
        "PB_MARKET_URL": stack.urls["market"],
        "PB_SERVICE_CLIENT_ID": ADMIN_ID,
        "PB_SERVICE_CLIENT_SECRET": ADMIN_SECRET,
    }
    return subprocess.run([sys.executable, "-m", "pb_metrics.reconcile"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_reconciliation_finds_nothing_after_the_story_and_finds_a_tampered_fact(embedded_run, embedded_stack,
                                                                                 stack_admin):
    admin = stack_admin(embedded_stack)
    drive_the_story(admin)
    settled(admin)
    # An open licence declared by a university (issue 15): the market's declarations are reconciled too.
    university = admin.organization("贵州理工学院", "university", "520111")
    number = admin.patent([university], title="一种茶叶烘干设备")
    declaration = admin.post("market", "/api/v1/open-licences", expect=201, json={
        "patent_numbers": [number], "declarant_ids": [university], "fee": {"basis": "one_time", "amount": "1000.00"},
        "term_years": 1, "contact": {"name": "技术转移中心", "phone": "0851-88880000"}, "declared_on": "2022-05-01"}).json()
    wait_until(lambda: next(i["actual"] for i in admin.get(
        "metrics", "/api/v1/programs/gz-2021-2023/progress", params={"year": 2022}, expect=200).json()["indicators"]
        if i["id"] == "open_licence_declarations") == 1, message="metrics to count the declaration")

    clean = reconcile(embedded_run, embedded_stack)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "reconciliation differences: 0" in clean.stdout
    assert "difference:" not in clean.stdout
    assert "not reconciled: demand_deal_conversion" in clean.stdout

    # A recorded SME deal's contract amount, changed behind the consumer's back; and one total.
    db = sqlite3.connect(embedded_run.var_dir / "db" / "metrics.sqlite3")
    with db:
        deal_id = db.execute("SELECT deal_id FROM deal_facts WHERE sme_inbound AND status = 'recorded' "
                             "AND recorded_on >= '2022-01-01' ORDER BY deal_id LIMIT 1").fetchone()[0]
        db.execute("UPDATE deal_facts SET contract_amount = contract_amount + 100 WHERE deal_id = ?", (deal_id,))
        db.execute("UPDATE indicator_totals SET low = low + 1 WHERE indicator = 'pledge_count' AND year = 2022 "
                   "AND dimension = 'all'")
        db.execute("UPDATE open_licence_facts SET declared_on = '2023-05-01' WHERE declaration_id = ?",
                   (declaration["id"],))
    db.close()

    tampered = reconcile(embedded_run, embedded_stack)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    lines = tampered.stdout.splitlines()
    record = [line for line in lines if line.startswith("difference: record") and deal_id in line]
    assert any("indicator=sme_inbound_contract_amount year=2022" in line for line in record), tampered.stdout
    assert all("contract_amount" in line and "metrics=" in line for line in record), tampered.stdout
    assert any(line.startswith("difference: total indicator=pledge_count year=2022") and "source=1 metrics=2" in line
               for line in lines), tampered.stdout
    assert any(line.startswith("difference: record indicator=open_licence_declarations year=2023")
               and declaration["id"] in line for line in lines), tampered.stdout
