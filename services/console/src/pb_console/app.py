"""The console: the office's single-page app and its backend-for-frontend.

- `POST /console/api/login` signs in at the registry (`/api/v1/auth/login`, with the browser's address in
  X-Forwarded-For so that the registry's per-address throttling sees it) and keeps the token in a
  server-side session; the browser gets an HttpOnly, SameSite=Strict cookie with the session's opaque id
  and, in the answer, the session's CSRF token, which it sends back as `X-CSRF-Token` on every write.
- `/api/<service>/<path>` is proxied to `<service>/api/v1/<path>` with the session's token. The answers,
  problem+json included, pass through unchanged: the console decides nothing the services decide.
- Everything else is the built app (`web/dist`), whose routes all load `index.html`.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Body, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from pb_console.sessions import SessionStore, SignedInSession, csrf_matches
from pb_console.settings import Settings
from pbkit.db import make_engine, make_session_factory
from pbkit.events import utcnow
from pbkit.logs import configure_logging
from pbkit.web.problems import PROBLEM_JSON, Problem, install_problem_handlers, problem_response

log = logging.getLogger(__name__)

SESSION_COOKIE = "pb_console_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What passes from the browser to a service, and back.
REQUEST_HEADERS = ("content-type", "accept", "idempotency-key", "if-match", "if-none-match", "x-request-id")
ANSWER_HEADERS = ("content-type", "content-disposition", "etag", "location", "retry-after", "x-request-id",
                  "cache-control")


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _browser_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_app(settings: Settings, *, transport: httpx.MockTransport | None = None) -> FastAPI:
    """`transport`: the services' stand-in, for tests (httpx's MockTransport serves both clients)."""
    configure_logging(settings.service_name, settings.log_level)
    engine = make_engine(settings.database_url)
    store = SessionStore(make_session_factory(engine))
    services = settings.service_urls()
    http = httpx.Client(timeout=settings.proxy_timeout_s, follow_redirects=False, transport=transport)
    upstream = httpx.AsyncClient(timeout=settings.proxy_timeout_s, follow_redirects=False, transport=transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        try:
            yield
        finally:
            http.close()
            await upstream.aclose()
            engine.dispose()

    app = FastAPI(title="PatentBridge Console", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    install_problem_handlers(app)

    metrics_registry = CollectorRegistry()
    requests_total = Counter("pb_http_requests_total", "HTTP requests", ["method", "route", "status"],
                             registry=metrics_registry)
    proxied = Counter("pb_console_proxied_total", "requests proxied to a service", ["service", "status"],
                      registry=metrics_registry)

    @app.middleware("http")
    async def _measure(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests_total.labels(request.method, route, str(response.status_code)).inc()
        return response

    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")

    # --- operations ---------------------------------------------------------------------------

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        checks = {"database": "ok", "registry": "ok",
                  "app": "ok" if (settings.web_dist / "index.html").is_file() else "not built"}
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            url = engine.url
            where = (f"sqlite {url.database}" if url.get_backend_name() == "sqlite"
                     else f"postgresql {url.host}:{url.port}/{url.database}")  # never the password
            checks["database"] = f"unreachable: {where} ({type(exc).__name__})"
        try:
            http.get(settings.registry_url.rstrip("/") + "/healthz", timeout=2.0).raise_for_status()
        except httpx.HTTPError as exc:
            checks["registry"] = f"unreachable: {settings.registry_url} ({type(exc).__name__})"
        missing = [name for name, value in checks.items() if value != "ok"]
        body: dict = {"status": "not ready" if missing else "ready", "checks": checks}
        if missing:
            body["missing"] = missing
        return JSONResponse(body, status_code=503 if missing else 200)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    # --- the session ----------------------------------------------------------------------------

    def current(request: Request) -> SignedInSession:
        session = store.get(request.cookies.get(SESSION_COOKIE), now=utcnow())
        if session is None:
            raise Problem("not signed in, or the session has ended", status=401)
        return session

    def checked_write(request: Request, session: SignedInSession) -> None:
        if request.method not in SAFE_METHODS and not csrf_matches(session, request.headers.get(CSRF_HEADER)):
            raise Problem(f"a write needs the session's {CSRF_HEADER} header", status=403)

    def _session_answer(session: SignedInSession) -> dict:
        return {"user": session.user, "csrf_token": session.csrf_token, "expires_at": session.expires_at.isoformat()}

    @app.post("/console/api/login")
    def login(credentials: Annotated[Credentials, Body()], request: Request) -> Response:
        try:
            answer = http.post(
                settings.registry_url.rstrip("/") + "/api/v1/auth/login",
                json=credentials.model_dump(),
                headers={"X-Forwarded-For": _browser_address(request)},
            )
        except httpx.HTTPError as exc:
            raise Problem(f"the registry cannot be reached ({type(exc).__name__})", status=503) from None
        if answer.status_code != 200:
            return _passed_through(answer)
        signed_in = answer.json()
        now = utcnow()
        lifetime = min(int(signed_in["expires_in"]), settings.session_max_s)
        session_id, session = store.create(access_token=signed_in["access_token"], user=signed_in["user"], now=now,
                                           lifetime_s=lifetime)
        response = JSONResponse(_session_answer(session))
        response.set_cookie(SESSION_COOKIE, session_id, max_age=lifetime, path="/", httponly=True,
                            samesite="strict", secure=settings.secure_cookies)
        return response

    @app.get("/console/api/session")
    def whoami(request: Request) -> dict:
        return _session_answer(current(request))

    @app.post("/console/api/logout")
    def logout(request: Request) -> Response:
        session = store.get(request.cookies.get(SESSION_COOKIE), now=utcnow())
        if session is not None:
            checked_write(request, session)
            store.delete(request.cookies.get(SESSION_COOKIE))
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=settings.secure_cookies)
        return response

    # --- the proxy ------------------------------------------------------------------------------

    @app.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    async def proxy(service: str, path: str, request: Request) -> Response:
        base = services.get(service)
        if base is None:
            raise Problem(f"no service {service!r}; the console proxies {', '.join(services)}", status=404)
        session = await run_in_threadpool(current, request)
        checked_write(request, session)
        headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
        headers["Authorization"] = f"Bearer {session.access_token}"
        headers["X-Forwarded-For"] = _browser_address(request)
        try:
            answer = await upstream.request(request.method, f"{base.rstrip('/')}/api/v1/{path}",
                                            params=list(request.query_params.multi_items()),
                                            content=await request.body(), headers=headers)
        except httpx.HTTPError as exc:
            proxied.labels(service, "unreachable").inc()
            raise Problem(f"the {service} service cannot be reached ({type(exc).__name__})", status=503) from None
        proxied.labels(service, str(answer.status_code)).inc()
        return _passed_through(answer)

    # --- the app --------------------------------------------------------------------------------

    dist = settings.web_dist
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{page:path}", include_in_schema=False)
    def spa(page: str) -> Response:
        if page.startswith(("api/", "console/api/")):
            raise Problem(f"no such endpoint /{page}", status=404)
        candidate = (dist / page).resolve()
        if page and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return FileResponse(candidate)
        index = dist / "index.html"
        if not index.is_file():
            return problem_response(Problem(
                f"the console's app is not built: run `npm ci && npm run build` in {Path('services/console/web')}",
                status=503))
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return app


def _passed_through(answer: httpx.Response) -> Response:
    headers = {name: answer.headers[name] for name in ANSWER_HEADERS if name in answer.headers}
    media_type = answer.headers.get("content-type", PROBLEM_JSON if answer.status_code >= 400 else None)
    headers.pop("content-type", None)
    return Response(answer.content, status_code=answer.status_code, headers=headers, media_type=media_type)


