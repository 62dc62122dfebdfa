"""The baseline of the HTTP figures: a bare FastAPI JSON endpoint, served by the services' own entry point
(pbkit.serve.main), so it runs on the same uvicorn with the same options, one worker.

`python -m bench.hello --port P` serves `GET /hello`.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

from pbkit.serve import main
from pbkit.settings import ServiceSettings


def build_app(_settings: ServiceSettings) -> FastAPI:
    app = FastAPI(title="hello")

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hello"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    if "--no-migrate" not in sys.argv:
        sys.argv.append("--no-migrate")  # it has no database
    main(service="hello", package="bench.hello", default_port=8099, settings_class=ServiceSettings, build_app=build_app)
