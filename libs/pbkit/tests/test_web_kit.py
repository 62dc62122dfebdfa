"""The service kit as a client sees it: problem+json, auth, idempotency keys, pagination, audit, health,
named constraints, and a start that waits for the topics."""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import Column, MetaData, String, Table, UniqueConstraint, func, insert, select

from pbkit.bus.local import LocalLogBus
from pbkit.consumer import ConsumerSpec
from pbkit.context import Actor
from pbkit.db import NamedConstraint, install_kit_tables
from pbkit.errors import Conflict
from pbkit.events import Event, EventCatalog
from pbkit.ids import new_id
from pbkit.kit import ServiceKit
from pbkit.money import Money
from pbkit.queries import paginate
from pbkit.service import create_app
from pbkit.settings import ServiceSettings
from pbkit.testing import wait_until
from pbkit.web.auth import require_roles
from pbkit.web.deps import Command, Kit
from pbkit.web.pagination import Pagination
from pbkit.web.problems import Unauthorized

metadata = MetaData()
kit_tables = install_kit_tables(metadata)
widgets = Table(
    "widgets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(50), unique=True),  # named below: a duplicate is the client's conflict
    Column("code", String(20), unique=True),  # not named: a duplicate here is a bug of the service
)

WIDGETS_TOPIC = "pb.widgets.widgets"
GADGETS_TOPIC = "pb.gadgets.gadgets"  # published by another service
WIDGET_CREATED = "pb.widget.created.v1"
GADGET_MADE = "pb.gadget.made.v1"
CATALOG = EventCatalog(publishes={WIDGETS_TOPIC: (WIDGET_CREATED,)}, consumes=(GADGETS_TOPIC,))
CONFLICTS = (NamedConstraint("widgets_name_key", "widgets.name", "a widget of that name exists"),)


class WidgetIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: Money
    code: str | None = None


class Rename(BaseModel):
    name: str


router = APIRouter(prefix="/api/v1")
Writer = Annotated[Actor, Depends(require_roles("admin", "partner"))]
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "bank", "viewer"))]

# What the tests can watch or hold: how often each step ran, and a gate the precheck passes through.
calls = {"precheck": 0, "action": 0}
precheck_gate: list[threading.Barrier] = []


def _precheck() -> str:
    calls["precheck"] += 1
    for barrier in precheck_gate:
        barrier.wait(10)
    return "checked"


def _insert_widget(uow, body: WidgetIn) -> dict:  # noqa: ANN001
    widget_id = new_id()
    uow.session.execute(insert(widgets).values(id=widget_id, name=body.name, code=body.code))
    uow.emit(event_type=WIDGET_CREATED, aggregate_type="widget", aggregate_id=widget_id, data={"name": body.name})
    uow.audit("widget.create", target_type="widget", target_id=widget_id, details={"name": body.name})
    return {"id": widget_id, "name": body.name, "price": body.model_dump(mode="json")["price"]}


@router.post("/widgets", status_code=201)
def create_widget(body: WidgetIn, command: Command, _actor: Writer):
    def create(uow, checked):  # noqa: ANN001, ANN202
        assert checked == "checked"
        calls["action"] += 1
        if uow.session.execute(select(widgets).where(widgets.c.name == body.name)).first():
            raise Conflict(f"widget {body.name!r} exists")
        return _insert_widget(uow, body)

    return command(operation="widget.create", body=body, precheck=_precheck, action=create)


@router.post("/widgets-unchecked", status_code=201)
def create_widget_unchecked(body: WidgetIn, command: Command, _actor: Writer):
    """Leaves duplicates to the database's unique constraints."""
    return command(operation="widget.create-unchecked", body=body, action=lambda uow, _: _insert_widget(uow, body))


@router.post("/widgets/{widget_id}/rename")
def rename_widget(widget_id: str, body: Rename, command: Command, _actor: Writer):
    def rename(uow, _checked):  # noqa: ANN001, ANN202
        uow.session.execute(widgets.update().where(widgets.c.id == widget_id).values(name=body.name))
        return {"id": widget_id, "name": body.name}

    return command(operation="widget.rename", body={"id": widget_id, **body.model_dump()}, action=rename)


@router.get("/widgets")
def list_widgets(kit: Kit, _actor: Reader, page: Pagination):
    with kit.session_factory() as session:
        return paginate(session, select(widgets), key=widgets.c.id, params=page, to_item=lambda r: {"id": r["id"], "name": r["name"]})


@pytest.fixture(autouse=True)
def _fresh_counters():
    calls.update(precheck=0, action=0)
    precheck_gate.clear()
    yield
    precheck_gate.clear()


def make_kit(tmp_path, test_keys, *, bus=None, **settings) -> ServiceKit:  # noqa: ANN001
    settings = ServiceSettings(**{
        "service_name": "widgets", "database_url": f"sqlite:///{tmp_path}/w.sqlite3", "var_dir": tmp_path,
        "jwks_json": test_keys.jwks_json, **settings,
    })
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=CATALOG, conflicts=CONFLICTS, bus=bus)
    metadata.create_all(kit.engine)
    return kit


@pytest.fixture
def client(tmp_path, test_keys):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([GADGETS_TOPIC])  # as the gadgets service, which publishes it, would
    kit = make_kit(tmp_path, test_keys, bus=bus, relay_enabled=False)
    app = create_app(kit, title="widgets", description="test", routers=[router])
    with TestClient(app) as c:
        c.kit = kit
        yield c
    kit.close()


def count(kit: ServiceKit, table: Table) -> int:
    with kit.session_factory() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


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
    assert calls == {"precheck": 0, "action": 0}  # a refused caller runs no step of the command


def test_idempotency_key_replays_the_first_response_and_creates_nothing(client, test_keys):
    headers = {**test_keys.headers("partner", sub="p1"), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/widgets", json={"name": "a", "price": "1.5"}, headers=headers)
    again = client.post("/api/v1/widgets", json={"name": "a", "price": "1.5"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["price"] == "1.50"
    assert calls == {"precheck": 1, "action": 1}  # the replay ran neither step again
    listed = client.get("/api/v1/widgets", headers=test_keys.headers("viewer")).json()["items"]
    assert len(listed) == 1
    with client.kit.session_factory() as s:
        outbox_rows = s.execute(select(kit_tables.outbox)).all()
        audit_rows = s.execute(select(kit_tables.audit_log)).all()
        (key_row,) = s.execute(select(kit_tables.idempotency_keys)).all()
    assert len(outbox_rows) == 1 and len(audit_rows) == 1
    assert audit_rows[0].actor == "p1" and audit_rows[0].action == "widget.create"
    assert (key_row.client_id, key_row.key, key_row.status_code) == ("p1", "k-1", 201)
    assert key_row.response_body == first.json()


def test_a_route_without_a_declared_status_answers_and_stores_200(client, test_keys):
    h = test_keys.headers("admin", sub="boss")
    widget_id = client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=h).json()["id"]
    keyed = {**h, "Idempotency-Key": "rename-1"}
    first = client.post(f"/api/v1/widgets/{widget_id}/rename", json={"name": "b"}, headers=keyed)
    again = client.post(f"/api/v1/widgets/{widget_id}/rename", json={"name": "b"}, headers=keyed)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"id": widget_id, "name": "b"}
    with client.kit.session_factory() as s:
        (key_row,) = s.execute(select(kit_tables.idempotency_keys)).all()
    assert key_row.status_code == 200


def test_same_key_different_body_is_422_and_keys_are_per_client(client, test_keys):
    h1 = {**test_keys.headers("partner", sub="p1"), "Idempotency-Key": "k"}
    assert client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=h1).status_code == 201
    r = client.post("/api/v1/widgets", json={"name": "b", "price": "1.00"}, headers=h1)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert calls == {"precheck": 1, "action": 1}
    h2 = {**test_keys.headers("partner", sub="p2"), "Idempotency-Key": "k"}
    assert client.post("/api/v1/widgets", json={"name": "c", "price": "1.00"}, headers=h2).status_code == 201


def test_a_refused_request_changes_nothing_and_stores_no_key(client, test_keys):
    h = test_keys.headers("admin")
    assert client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=h).status_code == 201
    keyed = {**h, "Idempotency-Key": "refused"}
    r = client.post("/api/v1/widgets", json={"name": "a", "price": "2.00"}, headers=keyed)
    assert r.status_code == 409 and r.json()["detail"] == "widget 'a' exists"
    assert count(client.kit, kit_tables.outbox) == 1
    assert count(client.kit, kit_tables.audit_log) == 1
    assert count(client.kit, kit_tables.idempotency_keys) == 0
    with client.kit.session_factory() as s:  # the way is clear again: the same key is judged afresh
        s.execute(widgets.delete())
        s.commit()
    assert client.post("/api/v1/widgets", json={"name": "a", "price": "2.00"}, headers=keyed).status_code == 201


def test_concurrent_requests_with_one_key_both_get_the_first_answer(client, test_keys):
    """Both pass the first look for the key, then wait for each other in the precheck: one wins, one replays."""
    precheck_gate.append(threading.Barrier(2))
    headers = {**test_keys.headers("partner", sub="p1"), "Idempotency-Key": "race"}
    answers = []

    def post():
        answers.append(client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert calls["precheck"] == 2
    assert count(client.kit, widgets) == 1
    assert count(client.kit, kit_tables.outbox) == 1


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
    bad_cursor = client.get("/api/v1/widgets", params={"cursor": "!!"}, headers=h)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_audit_log_is_admin_only(client, test_keys):
    client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=test_keys.headers("admin", sub="boss"))
    assert client.get("/api/v1/audit", headers=test_keys.headers("viewer")).status_code == 403
    items = client.get("/api/v1/audit", headers=test_keys.headers("admin")).json()["items"]
    assert [(i["actor"], i["action"]) for i in items] == [("boss", "widget.create")]
    assert items[0]["request_id"]
    assert client.get("/api/v1/audit", params={"actor": "nobody"}, headers=test_keys.headers("admin")).json()["items"] == []


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r, message="readiness")
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "topics": "ok", "revocations": "ok"}
    assert client.get("/healthz").status_code == 200
    metrics = client.get("/metrics").text
    assert "pb_http_requests_total" in metrics and "pb_outbox_pending" in metrics


def test_request_id_travels_into_event_headers(client, test_keys):
    rid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers={**test_keys.headers("admin"), "X-Request-ID": rid})
    with client.kit.session_factory() as s:
        (row,) = s.execute(select(kit_tables.outbox)).all()
    assert row.headers["pb-request-id"] == rid


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def service_log():
    """What `pbkit.service` logs (its own handler: the kit's logging setup replaces the root's handlers)."""
    handler = _Records()
    logger = logging.getLogger("pbkit.service")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def assert_named_constraint_is_409_and_anything_else_500(client, test_keys, service_log) -> None:
    h = test_keys.headers("admin")
    assert client.post("/api/v1/widgets-unchecked", json={"name": "a", "price": "1.00", "code": "c1"}, headers=h).status_code == 201

    duplicate_name = client.post("/api/v1/widgets-unchecked", json={"name": "a", "price": "1.00", "code": "c2"}, headers=h)
    assert duplicate_name.status_code == 409
    assert duplicate_name.headers["content-type"].startswith("application/problem+json")
    assert duplicate_name.json()["detail"] == "a widget of that name exists"
    assert service_log == []  # a client's conflict is not an error of the service

    rid = "5d3b4a7e-0c7e-4a57-9d8e-0d1b0a3f9a11"
    duplicate_code = client.post("/api/v1/widgets-unchecked", json={"name": "b", "price": "1.00", "code": "c1"},
                                 headers={**h, "X-Request-ID": rid})
    assert duplicate_code.status_code == 500
    assert duplicate_code.headers["content-type"].startswith("application/problem+json")
    assert duplicate_code.json()["status"] == 500
    assert "widgets" not in duplicate_code.json()["detail"]  # the database's message stays in the log
    (logged,) = service_log
    assert logged.levelno == logging.ERROR and rid in logged.getMessage()
    assert count(client.kit, widgets) == 1 and count(client.kit, kit_tables.outbox) == 1


def test_a_named_unique_constraint_is_409_and_an_unnamed_one_500_on_sqlite(client, test_keys, service_log):
    assert_named_constraint_is_409_and_anything_else_500(client, test_keys, service_log)


@pytest.mark.integration
def test_a_named_unique_constraint_is_409_and_an_unnamed_one_500_on_postgres(postgres_url, tmp_path, test_keys, service_log):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([GADGETS_TOPIC])
    kit = make_kit(tmp_path, test_keys, bus=bus, relay_enabled=False, database_url=postgres_url)
    try:
        with TestClient(create_app(kit, title="widgets", description="test", routers=[router])) as c:
            c.kit = kit
            assert_named_constraint_is_409_and_anything_else_500(c, test_keys, service_log)
    finally:
        kit.close()


@pytest.mark.integration
def test_on_postgres_a_constraint_is_known_by_its_name_not_its_columns(postgres_url, tmp_path, test_keys, service_log):
    """A NamedConstraint whose SQLite columns match but whose PostgreSQL name does not is no conflict there."""
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([GADGETS_TOPIC])
    settings = ServiceSettings(service_name="widgets", database_url=postgres_url, var_dir=tmp_path,
                               jwks_json=test_keys.jwks_json, relay_enabled=False)
    misnamed = (NamedConstraint("uq_widgets_name", "widgets.name", "a widget of that name exists"),)
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=CATALOG, conflicts=misnamed, bus=bus)
    metadata.create_all(kit.engine)
    h = test_keys.headers("admin")
    try:
        with TestClient(create_app(kit, title="widgets", description="test", routers=[router])) as c:
            assert c.post("/api/v1/widgets-unchecked", json={"name": "a", "price": "1.00"}, headers=h).status_code == 201
            assert c.post("/api/v1/widgets-unchecked", json={"name": "a", "price": "1.00"}, headers=h).status_code == 500
    finally:
        kit.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def test_a_named_constraint_matches_its_own_violation_only(backend, request, tmp_path):
    """Not a NOT NULL failure of the same column (SQLite's message names the column alike), nor a
    composite constraint's columns in another order."""
    from sqlalchemy.exc import IntegrityError

    from pbkit.db import make_engine, violated_constraint

    url = f"sqlite:///{tmp_path}/n.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    m = MetaData()
    t = Table("t", m, Column("id", String(8), primary_key=True), Column("a", String(8), nullable=False, unique=True),
              Column("b", String(8)), Column("c", String(8)), UniqueConstraint("b", "c", name="uq_t_b_c"))
    m.create_all(engine)
    named = (NamedConstraint("t_a_key", "t.a", "a is taken"), NamedConstraint("uq_t_b_c", "t.b, t.c", "b and c are taken"))

    def violation(**values) -> IntegrityError:  # noqa: ANN003
        with engine.connect() as conn:
            conn.execute(insert(t).values(id="1", a="x", b="y", c="z"))
            with pytest.raises(IntegrityError) as failed:
                conn.execute(insert(t).values(**values))
            conn.rollback()
        return failed.value

    try:
        assert violated_constraint(violation(id="2", a="x"), named).detail == "a is taken"
        assert violated_constraint(violation(id="2", a="w", b="y", c="z"), named).detail == "b and c are taken"
        assert violated_constraint(violation(id="2", a=None), named) is None  # NOT NULL of a named column
        assert violated_constraint(violation(id="1", a="w"), named) is None  # the unnamed primary key
    finally:
        engine.dispose()


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


def test_a_verified_token_is_remembered_only_until_it_expires_and_stays_revocable(monkeypatch, test_keys):
    import time

    import jwt

    from pbkit.revocation import ClientAccess, refusal_of
    from pbkit.web.auth import KeySet, TokenVerifier

    access = {"admin-client": ClientAccess(active=True, tokens_valid_after=None)}

    class Revocations:
        def refusal(self, client_id, issued_at):
            return refusal_of(access[client_id], issued_at) if client_id in access else None

    decoded = []
    verifier = TokenVerifier(KeySet(loader=lambda: json.loads(test_keys.jwks_json)), issuer=test_keys.issuer,
                             audience=test_keys.audience, revocations=Revocations())
    real_decode = verifier._decode
    monkeypatch.setattr(verifier, "_decode", lambda token: decoded.append(token) or real_decode(token))
    token = test_keys.token("admin", sub="admin-client", ttl_s=2)
    for _ in range(3):
        assert verifier.verify(token).role == "admin"
    assert len(decoded) == 1  # the signature is checked once, then remembered

    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time() + 0.05))
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)  # past its `exp`: forgotten, decoded again, and refused
    assert len(decoded) == 2

    fresh = test_keys.token("admin", sub="admin-client", ttl_s=60)
    assert verifier.verify(fresh).role == "admin"
    access["admin-client"] = ClientAccess(active=False, tokens_valid_after=None)
    with pytest.raises(Unauthorized, match="revoked"):
        verifier.verify(fresh)  # remembered, but its client was deactivated since

    access["admin-client"] = ClientAccess(active=True, tokens_valid_after=None)
    assert verifier.verify(fresh).role == "admin"
    from pbkit.testing import TestKeys

    other = KeySet(jwks_json=TestKeys().jwks_json)
    reused = next(iter(other._keys.values()))
    monkeypatch.setattr(verifier.keys, "key", lambda kid: reused)  # the key id now names another key
    with pytest.raises(Unauthorized, match="invalid token"):
        verifier.verify(fresh)  # remembered, but verified again against the key its id names now, which refuses it


class _TopicsHeldBack(LocalLogBus):
    """A local log whose topic creation waits for the test, and which notes who subscribes or publishes
    before the topics they use exist."""

    def __init__(self, path):  # noqa: ANN001
        super().__init__(path)
        self.release = threading.Event()
        self.used_before_topics: list[str] = []
        self.created: list[list[str]] = []
        self.subscribed: list[list[str]] = []

    def ensure_topics(self, topics: list[str]) -> None:
        self.release.wait(30)
        super().ensure_topics(topics)
        self.created.append(list(topics))

    def consumer(self, group_id: str, topics: list[str]):  # noqa: ANN201
        if self.missing_topics(topics):
            self.used_before_topics.append(f"consumer {group_id} of {self.missing_topics(topics)}")
        self.subscribed.append(list(topics))
        return super().consumer(group_id, topics)

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]):  # noqa: ANN201
        if self.missing_topics([topic]):
            self.used_before_topics.append(f"publish {topic}")
        return super().publish(topic, key, value, headers)


def gadget_event() -> Event:
    return Event(id=new_id(), type=GADGET_MADE, source="/pb/gadgets", subject="g1", time="2024-01-01T00:00:00.000Z",
                 sequence=1, data={"n": 1})


def test_the_kit_makes_its_topics_and_starts_consumers_only_once_the_consumed_topics_exist(tmp_path, test_keys):
    bus = _TopicsHeldBack(tmp_path / "bus.sqlite3")
    kit = make_kit(tmp_path, test_keys, bus=bus, relay_poll_interval_s=0.05)
    applied = []
    kit.add_consumer(ConsumerSpec("gadgets", [GADGETS_TOPIC], lambda _uow, event: applied.append(event.id)))
    app = create_app(kit, title="widgets", description="test", routers=[router])
    try:
        with TestClient(app) as client:
            created = client.post("/api/v1/widgets", json={"name": "a", "price": "1.00"}, headers=test_keys.headers("admin"))
            assert created.status_code == 201  # writes are accepted while the topics are being made
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"]["topics"] == f"waiting for {WIDGETS_TOPIC}, {GADGETS_TOPIC}.dlq"

            bus.release.set()
            # Its own topics made, it waits for the one the gadgets service makes; the relay does not wait.
            wait_until(lambda: client.get("/readyz").json()["checks"]["topics"] == f"waiting for {GADGETS_TOPIC}",
                       message="readiness to wait for the consumed topic")
            assert bus.created == [[WIDGETS_TOPIC, f"{GADGETS_TOPIC}.dlq"]]
            assert bus.missing_topics([WIDGETS_TOPIC, f"{GADGETS_TOPIC}.dlq", GADGETS_TOPIC]) == [GADGETS_TOPIC]
            wait_until(lambda: kit.relay.pending() == 0, message="the widget's event to be relayed")
            assert client.get("/readyz").status_code == 503
            assert bus.subscribed == []  # no consumer before its topic exists

            bus.ensure_topics([GADGETS_TOPIC])  # the gadgets service starts
            event = gadget_event()
            bus.publish(GADGETS_TOPIC, "g1", event.to_json().encode(), {}).result(5)
            ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r,
                               message="readiness once the consumed topic exists")
            assert ready.json()["checks"]["topics"] == "ok"
            wait_until(lambda: applied == [event.id], message="the gadget event to be consumed")
            assert bus.subscribed == [[GADGETS_TOPIC]]
        assert bus.used_before_topics == []
    finally:
        bus.release.set()
        kit.close()
