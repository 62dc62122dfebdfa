"""The service kit as a client sees it: problem+json, auth, idempotency keys, pagination, audit, health."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import Column, MetaData, String, Table, insert, select

from pbkit.bus.local import LocalLogBus
from pbkit.context import Actor
from pbkit.db import install_kit_tables
from pbkit.money import Money
from pbkit.service import ConsumerSpec, Kit, ServiceKit, create_app
from pbkit.settings import ServiceSettings
from pbkit.testing import wait_until
from pbkit.web.auth import require_roles
from pbkit.web.idempotency import IdempotencyKeyHeader, idempotent_response
from pbkit.web.pagination import Pagination, paginate
from pbkit.web.problems import Conflict, Unauthorized

metadata = MetaData()
kit_tables = install_kit_tables(metadata)
widgets = Table("widgets", metadata, Column("id", String(36), primary_key=True), Column("name", String(50), unique=True))


class WidgetIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: Money


router = APIRouter(prefix="/api/v1")
Writer = Annotated[Actor, Depends(require_roles("admin", "partner"))]
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "bank", "viewer"))]


@router.post("/widgets", status_code=201)
def create_widget(body: WidgetIn, kit: Kit, actor: Writer, key: IdempotencyKeyHeader = None):
    def create(uow) -> tuple[int, dict[str, Any]]:
        from pbkit.ids import new_id

        if uow.session.execute(select(widgets).where(widgets.c.name == body.name)).first():
            raise Conflict(f"widget {body.name!r} exists")
        widget_id = new_id()
        uow.session.execute(insert(widgets).values(id=widget_id, name=body.name))
        uow.emit(event_type="pb.deal.submitted.v1", aggregate_type="widget", aggregate_id=widget_id, data={"name": body.name})
        uow.audit("widget.create", target_type="widget", target_id=widget_id, details={"name": body.name})
        return 201, {"id": widget_id, "name": body.name, "price": body.model_dump(mode="json")["price"]}

    return idempotent_response(lambda: kit.uow(actor), key=key, operation="widget.create", body=body, action=create)


@router.get("/widgets")
def list_widgets(kit: Kit, _actor: Reader, page: Pagination):
    with kit.session_factory() as session:
        return paginate(session, select(widgets), key=widgets.c.id, params=page, to_item=lambda r: {"id": r["id"], "name": r["name"]})


@pytest.fixture
def client(tmp_path, test_keys):
    settings = ServiceSettings(
        service_name="widgets", database_url=f"sqlite:///{tmp_path}/w.sqlite3", var_dir=tmp_path,
        jwks_json=test_keys.jwks_json, relay_enabled=False,
    )
    kit = ServiceKit.from_settings(settings, kit_tables)
    metadata.create_all(kit.engine)
    app = create_app(kit, title="widgets", description="test", routers=[router])
    with TestClient(app) as c:
        c.kit = kit
        yield c
    kit.close()


def test_validation_errors_are_problem_json_naming_every_field(client, test_keys):
    r = client.post("/api/v1/widgets", json={"name": "", "price": "1.234"}, headers=test_keys.headers("admin"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["title"] and body["type"]
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "price")}


def test_malformed_json_is_a_4xx_problem(client, test_keys):
    r = client.post("/api/v1/widgets", content=b"{not json", headers={**test_keys.headers("admin"), "content-type": "application/json"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_missing_invalid_and_expired_tokens_are_401_and_wrong_role_403(client, test_keys):
    assert client.get("/api/v1/widgets").status_code == 401
    assert client.get("/api/v1/widgets", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    expired = test_keys.token("admin", ttl_s=-10)
    assert client.get("/api/v1/widgets", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    from pbkit.testing import TestKeys

    stranger = TestKeys()  # signed by a key the service does not trust
    assert client.get("/api/v1/widgets", headers=stranger.headers("admin")).status_code == 401
    r = client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=test_keys.headers("viewer"))
    assert r.status_code == 403 and r.json()["status"] == 403


def test_idempotency_key_replays_the_first_response_and_creates_nothing(client, test_keys):
    headers = {**test_keys.headers("partner", sub="p1"), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/widgets", json={"name": "a", "price": "1.5"}, headers=headers)
    again = client.post("/api/v1/widgets", json={"name": "a", "price": "1.5"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["price"] == "1.50"
    listed = client.get("/api/v1/widgets", headers=test_keys.headers("viewer")).json()["items"]
    assert len(listed) == 1
    with client.kit.session_factory() as s:
        outbox_rows = s.execute(select(kit_tables.outbox)).all()
        audit_rows = s.execute(select(kit_tables.audit_log)).all()
    assert len(outbox_rows) == 1 and len(audit_rows) == 1
    assert audit_rows[0].actor == "p1" and audit_rows[0].action == "widget.create"


def test_same_key_different_body_is_422_and_keys_are_per_client(client, test_keys):
    h1 = {**test_keys.headers("partner", sub="p1"), "Idempotency-Key": "k"}
    assert client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=h1).status_code == 201
    r = client.post("/api/v1/widgets", json={"name": "b", "price": "1.00"}, headers=h1)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    h2 = {**test_keys.headers("partner", sub="p2"), "Idempotency-Key": "k"}
    assert client.post("/api/v1/widgets", json={"name": "c", "price": "1.00"}, headers=h2).status_code == 201


def test_a_refused_request_changes_nothing(client, test_keys):
    h = test_keys.headers("admin")
    assert client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=h).status_code == 201
    r = client.post("/api/v1/widgets", json={"name": "a", "price": "2.00"}, headers=h)
    assert r.status_code == 409
    with client.kit.session_factory() as s:
        assert len(s.execute(select(kit_tables.outbox)).all()) == 1
        assert len(s.execute(select(kit_tables.audit_log)).all()) == 1


def test_cursor_pagination_walks_every_item_once(client, test_keys):
    h = test_keys.headers("admin")
    for i in range(7):
        assert client.post("/api/v1/widgets", json={"name": f"w{i}", "price": "1.00"}, headers=h).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/widgets", params=params, headers=h).json()
        seen += [w["name"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"w{i}" for i in range(7)]
    assert client.get("/api/v1/widgets", params={"limit": 501}, headers=h).status_code == 422
    assert client.get("/api/v1/widgets", params={"cursor": "!!"}, headers=h).status_code == 422


def test_audit_log_is_admin_only(client, test_keys):
    client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=test_keys.headers("admin", sub="boss"))
    assert client.get("/api/v1/audit", headers=test_keys.headers("viewer")).status_code == 403
    items = client.get("/api/v1/audit", headers=test_keys.headers("admin")).json()["items"]
    assert [(i["actor"], i["action"]) for i in items] == [("boss", "widget.create")]
    assert items[0]["request_id"]


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r, message="readiness")
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "topics": "ok"}
    assert client.get("/healthz").status_code == 200
    metrics = client.get("/metrics").text
    assert "pb_http_requests_total" in metrics and "pb_outbox_pending" in metrics


def test_request_id_travels_into_event_headers(client, test_keys):
    rid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers={**test_keys.headers("admin"), "X-Request-ID": rid})
    with client.kit.session_factory() as s:
        (row,) = s.execute(select(kit_tables.outbox)).all()
    assert row.headers["pb-request-id"] == rid


def test_a_key_published_after_start_is_fetched_but_forged_key_ids_do_not_hammer_the_registry(monkeypatch, test_keys):
    from pbkit.testing import TestKeys
    from pbkit.web.auth import KeySet, TokenVerifier

    fetched = []
    documents = [test_keys.jwks_json]

    class Response:
        def __init__(self, text):
            self._text = text

        def raise_for_status(self):
            return None

        def json(self):
            import json

            return json.loads(self._text)

    def fake_get(url, timeout):
        fetched.append(url)
        return Response(documents[-1])

    clock = [1000.0]
    monkeypatch.setattr("pbkit.web.auth.httpx.get", fake_get)
    monkeypatch.setattr("pbkit.web.auth.time.monotonic", lambda: clock[0])
    verifier = TokenVerifier(KeySet(jwks_url="http://registry.test/jwks", min_refresh_interval_s=5),
                             issuer=test_keys.issuer, audience=test_keys.audience)
    assert verifier.verify(test_keys.token("admin")).role == "admin"
    assert len(fetched) == 1

    stranger = TestKeys()
    for _ in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            verifier.verify(stranger.token("admin"))
    assert len(fetched) == 1  # within 5 s of the last fetch: no refetch for a kid nobody published

    clock[0] += 6
    rotated = TestKeys()
    documents.append(rotated.jwks_json)  # the registry now publishes a new key
    assert verifier.verify(rotated.token("viewer")).role == "viewer"
    assert len(fetched) == 2


class _TopicsHeldBack(LocalLogBus):
    """A local log whose topic creation waits for the test, and which notes who subscribes or publishes."""

    def __init__(self, path):  # noqa: ANN001
        super().__init__(path)
        self.release = threading.Event()
        self.used_before_topics: list[str] = []
        self.created = False

    def ensure_topics(self, topics: list[str]) -> None:
        self.release.wait(30)
        super().ensure_topics(topics)
        self.created = True

    def consumer(self, group_id: str, topics: list[str]):  # noqa: ANN201
        if not self.created:
            self.used_before_topics.append(f"consumer {group_id}")
        return super().consumer(group_id, topics)

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]):  # noqa: ANN201
        if not self.created:
            self.used_before_topics.append(f"publish {topic}")
        return super().publish(topic, key, value, headers)


def test_nothing_publishes_or_subscribes_before_the_topics_exist_and_readiness_waits_for_them(tmp_path, test_keys):
    settings = ServiceSettings(
        service_name="widgets", database_url=f"sqlite:///{tmp_path}/w.sqlite3", var_dir=tmp_path,
        jwks_json=test_keys.jwks_json, relay_poll_interval_s=0.05,
    )
    bus = _TopicsHeldBack(tmp_path / "bus.sqlite3")
    kit = ServiceKit.from_settings(settings, kit_tables, bus=bus)
    metadata.create_all(kit.engine)
    applied = []
    kit.add_consumer(ConsumerSpec("widgets", ["pb.transactions.deals"], lambda _uow, event: applied.append(event.id)))
    app = create_app(kit, title="widgets", description="test", routers=[router])
    try:
        with TestClient(app) as client:
            created = client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=test_keys.headers("admin"))
            assert created.status_code == 201  # writes are accepted while the topics are being created
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"]["topics"] == "not yet created"

            bus.release.set()
            wait_until(lambda: client.get("/readyz").status_code == 200, message="readiness once the topics exist")
            wait_until(lambda: len(applied) == 1, message="the widget's event to be relayed and consumed")
        assert bus.used_before_topics == []
    finally:
        bus.release.set()
        kit.close()
