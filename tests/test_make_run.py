"""`make run` on the embedded default: five services up and ready, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import httpx


def test_make_run_serves_all_five_and_ctrl_c_stops_every_process(embedded_run):
    for url in embedded_run.urls.values():
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200
        assert httpx.get(url + "/docs", timeout=5).status_code == 200
    assert (embedded_run.var_dir / "bus" / "events.sqlite3").exists()
    assert sorted(p.name for p in (embedded_run.var_dir / "db").glob("*.sqlite3")) == [
        "metrics.sqlite3", "pledge.sqlite3", "product_filing.sqlite3", "registry.sqlite3", "transactions.sqlite3",
    ]

    embedded_run.interrupt()
    assert embedded_run.leftover_processes() == []
    for url in embedded_run.urls.values():
        try:
            httpx.get(url + "/healthz", timeout=1)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except httpx.ConnectError:
            pass
