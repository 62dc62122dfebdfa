"""A request that meets the database away (PostgreSQL restarting, the connection dropped) is answered 503
problem+json with Retry-After, not 500: a partner retries it with its Idempotency-Key (issue 14's chaos run saw
500s on POST /patents, /pledges and /deals/{id}/record during a PostgreSQL immediate restart)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from pbkit.web.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/away")
    def away() -> None:
        raise OperationalError("INSERT INTO patents ...", {}, Exception("server closed the connection unexpectedly"))

    @app.post("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    return app


def test_the_database_away_is_a_503_to_retry_and_a_bug_stays_a_500():
    client = TestClient(_app(), raise_server_exceptions=False)
    away = client.post("/away")
    assert away.status_code == 503
    assert away.headers["content-type"].startswith("application/problem+json")
    assert away.headers["retry-after"] == "1"
    assert away.json()["status"] == 503 and "retry" in away.json()["detail"]
    assert "server closed" not in away.text  # the driver's message stays in the log
    assert client.post("/bug").status_code == 500
