"""`make run` on the embedded default: five services and the console up and ready, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import httpx


def test_make_run_serves_all_five_and_ctrl_c_stops_every_process(embedded_run):
    for url in embedded_run.urls.values():
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200
        assert httpx.get(url + "/docs", timeout=5).status_code == 200
    console = httpx.get(embedded_run.console_url + "/readyz", timeout=5)
    assert console.status_code == 200, console.text
    assert "<title>" in httpx.get(embedded_run.console_url + "/", timeout=5).text
    printed = embedded_run.output()
    assert f"http://127.0.0.1:{8000 + embedded_run.offset}" in printed and "username admin" in printed
    assert (embedded_run.var_dir / "bus" / "events.sqlite3").exists()
    assert sorted(p.name for p in (embedded_run.var_dir / "db").glob("*.sqlite3")) == [
        "console.sqlite3", "market.sqlite3", "metrics.sqlite3", "pledge.sqlite3", "product_filing.sqlite3", "registry.sqlite3",
        "transactions.sqlite3",
    ]

    embedded_run.interrupt()
    assert embedded_run.leftover_processes() == []
    for url in [*embedded_run.urls.values(), embedded_run.console_url]:
        try:
            httpx.get(url + "/healthz", timeout=1)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except httpx.ConnectError:
            pass
