"""`idempotent_command`: a key's first answer is its only one, a refused command leaves nothing, and two racing
requests with one key get one answer, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from pbkit.commands import idempotent_command
from pbkit.context import Actor
from pbkit.db import install_kit_tables, make_engine, make_session_factory
from pbkit.errors import Conflict, RuleBroken, Unavailable
from pbkit.events import EventCatalog
from pbkit.ids import new_id
from pbkit.uow import UnitOfWork
from pbkit.web.problems import problem_of

metadata = MetaData()
kit = install_kit_tables(metadata)
items = Table("items", metadata, Column("id", String(36), primary_key=True), Column("name", String(50), unique=True))
# No natural key: two creations both succeed, and only the idempotency key can tell them apart.
notes = Table("notes", metadata, Column("id", String(36), primary_key=True), Column("text", String(50)))
ITEM_MADE = "pb.item.made.v1"
CATALOG = EventCatalog(publishes={"pb.items.items": (ITEM_MADE,)})


class Db:
    def __init__(self, url: str):
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        self.session_factory = make_session_factory(self.engine)

    def uow(self, client_id: str = "c1") -> Callable[[], UnitOfWork]:
        return lambda: UnitOfWork(self.session_factory, kit, source="/pb/t", catalog=CATALOG, actor=Actor(client_id))

    def count(self, table: Table) -> int:
        with self.session_factory() as s:
            return s.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path}/c.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    d = Db(url)
    yield d
    d.engine.dispose()


@pytest.fixture
def pg(postgres_url):
    d = Db(postgres_url)
    yield d
    d.engine.dispose()


class Steps:
    """A command's precheck and action that count their runs and can be told to refuse."""

    def __init__(self, name: str = "a"):
        self.name = name
        self.prechecks = 0
        self.actions = 0
        self.refuse: Exception | None = None

    def precheck(self) -> str:
        self.prechecks += 1
        return "checked"

    def action(self, uow: UnitOfWork, checked: str) -> dict[str, Any]:
        assert checked == "checked"
        self.actions += 1
        item_id = new_id()
        uow.session.execute(insert(items).values(id=item_id, name=self.name))
        uow.emit(event_type=ITEM_MADE, aggregate_type="item", aggregate_id=item_id, data={"name": self.name})
        uow.audit("item.make", target_type="item", target_id=item_id)
        if self.refuse is not None:
            raise self.refuse
        return {"id": item_id, "name": self.name}


def run(db: Db, steps: Steps, *, key: str | None = "k", body: Any = None, operation: str = "item.make",
        status: int = 201, client_id: str = "c1") -> Any:
    return idempotent_command(db.uow(client_id), key=key, operation=operation, body=body or {"name": steps.name},
                              precheck=steps.precheck, action=steps.action, status=status)


def test_a_replay_returns_the_first_answer_and_status_without_running_the_steps_again(db):
    steps = Steps()
    first = run(db, steps)
    assert (steps.prechecks, steps.actions) == (1, 1)

    def precheck_now_failing() -> str:
        raise Unavailable("the registry is down")

    again = idempotent_command(db.uow(), key="k", operation="item.make", body={"name": "a"},
                               precheck=precheck_now_failing, action=steps.action, status=200)
    assert again == first
    assert steps.actions == 1  # nor the action, and the registry being down does not matter to a replay
    with db.uow()() as uow:  # the key keeps the status of the first answer, not of the retry
        assert uow.session.execute(select(kit.idempotency_keys.c.status_code)).scalar_one() == 201
    assert db.count(items) == db.count(kit.outbox) == db.count(kit.audit_log) == db.count(kit.idempotency_keys) == 1


def test_the_answer_is_json_data_and_a_model_answer_is_stored_as_its_json(db):
    from decimal import Decimal

    from pydantic import BaseModel

    class Answer(BaseModel):
        id: str
        amount: Decimal

    answer = idempotent_command(db.uow(), key="m", operation="op", body={"x": Decimal("1.50")},
                                action=lambda _uow, _checked: Answer(id="x", amount=Decimal("1.50")))
    assert answer == {"id": "x", "amount": "1.50"}
    assert idempotent_command(db.uow(), key="m", operation="op", body={"x": Decimal("1.50")},
                              action=lambda _uow, _checked: pytest.fail("replayed")) == answer


def test_the_same_key_with_another_body_or_operation_is_rule_broken_on_the_header(db):
    steps = Steps()
    run(db, steps)
    for kwargs in ({"body": {"name": "b"}}, {"operation": "item.other"}):
        with pytest.raises(RuleBroken) as refused:
            run(db, steps, **kwargs)
        assert refused.value.errors[0]["loc"] == ["header", "Idempotency-Key"]
        problem = problem_of(refused.value)
        assert problem.status == 422 and problem.to_dict()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert (steps.prechecks, steps.actions) == (1, 1)
    run(db, Steps("b"), client_id="c2", body={"name": "b"})  # a key is the client's own: c2 may use "k" too
    assert db.count(kit.idempotency_keys) == 2


def test_a_refused_action_stores_nothing_and_a_retry_is_judged_afresh(db):
    steps = Steps()
    steps.refuse = Conflict("not now")
    with pytest.raises(Conflict, match="not now"):
        run(db, steps)
    assert db.count(items) == db.count(kit.outbox) == db.count(kit.audit_log) == db.count(kit.idempotency_keys) == 0
    steps.refuse = None
    answer = run(db, steps)
    assert steps.actions == 2 and answer["name"] == "a"
    assert db.count(items) == db.count(kit.idempotency_keys) == 1


def test_a_failing_precheck_runs_no_action_and_stores_nothing(db):
    steps = Steps()

    def down() -> str:
        raise Unavailable("the registry is down")

    with pytest.raises(Unavailable):
        idempotent_command(db.uow(), key="k", operation="item.make", body={}, precheck=down, action=steps.action)
    assert steps.actions == 0 and db.count(kit.idempotency_keys) == 0


def test_without_a_key_every_request_runs_and_nothing_is_stored(db):
    a, b = Steps("a"), Steps("b")
    run(db, a, key=None)
    run(db, b, key=None)
    assert db.count(items) == 2 and db.count(kit.idempotency_keys) == 0


def test_two_racing_requests_with_one_key_both_get_the_first_answer(db):
    """Both pass the first look for the key, then meet in the precheck: one commits, the other replays it."""
    barrier = threading.Barrier(2)
    steps = Steps()

    def precheck() -> str:
        steps.precheck()
        barrier.wait(10)
        return "checked"

    answers: list[Any] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            answers.append(idempotent_command(db.uow(), key="race", operation="item.make", body={"name": "a"},
                                              precheck=precheck, action=steps.action, status=201))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(answers) == 2 and answers[0] == answers[1]
    assert steps.prechecks == 2
    assert db.count(items) == db.count(kit.outbox) == db.count(kit.idempotency_keys) == 1


def make_a(uow: UnitOfWork, _checked: Any) -> Any:
    return Steps().action(uow, "checked")


def race_after_the_winner_committed(db: Db, loser_action: Callable[[UnitOfWork, Any], Any],
                                    winner_action: Callable[[UnitOfWork, Any], Any]) -> tuple[Any, Any]:
    """The loser gets past both looks for the key and into its action; the winner then runs to its commit;
    only then does the loser's action go on. On PostgreSQL only: SQLite's single writer holds the winner
    back until the loser's transaction ends, so this interleaving cannot happen there."""
    in_action, winner_done = threading.Event(), threading.Event()
    result: dict[str, Any] = {}

    def loser_steps(uow: UnitOfWork, checked: Any) -> Any:
        in_action.set()
        assert winner_done.wait(20), "the winner did not finish"
        return loser_action(uow, checked)

    def loser() -> None:
        try:
            result["loser"] = idempotent_command(db.uow(), key="race", operation="item.make", body={"name": "a"},
                                                 action=loser_steps, status=201)
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["loser"] = exc

    thread = threading.Thread(target=loser)
    thread.start()
    assert in_action.wait(20)
    try:
        result["winner"] = idempotent_command(db.uow(), key="race", operation="item.make", body={"name": "a"},
                                              action=winner_action, status=201)
    finally:
        winner_done.set()
        thread.join(30)
    return result["winner"], result["loser"]


@pytest.mark.integration
def test_a_loser_refused_by_its_action_after_the_winner_committed_replays_the_winner(pg):
    def make_unless_exists(uow: UnitOfWork, checked: Any) -> Any:
        if uow.session.execute(select(items).where(items.c.name == "a")).first():
            raise Conflict("item 'a' exists")  # what the winner's commit made true
        return make_a(uow, checked)

    winner, loser = race_after_the_winner_committed(pg, make_unless_exists, make_a)
    assert loser == winner
    assert pg.count(items) == pg.count(kit.outbox) == pg.count(kit.idempotency_keys) == 1


@pytest.mark.integration
def test_a_loser_at_a_unique_constraint_of_the_change_replays_the_winner(pg):
    winner, loser = race_after_the_winner_committed(pg, make_a, make_a)  # both insert name "a"
    assert loser == winner
    assert pg.count(items) == pg.count(kit.outbox) == pg.count(kit.idempotency_keys) == 1


@pytest.mark.integration
def test_a_loser_at_the_keys_insert_replays_the_winner_and_its_change_is_undone(pg):
    def add_note(uow: UnitOfWork, _checked: Any) -> Any:
        note_id = new_id()
        uow.session.execute(insert(notes).values(id=note_id, text="hello"))
        uow.emit(event_type=ITEM_MADE, aggregate_type="note", aggregate_id=note_id, data={})
        return {"id": note_id}

    winner, loser = race_after_the_winner_committed(pg, add_note, add_note)
    assert loser == winner
    assert pg.count(notes) == pg.count(kit.outbox) == pg.count(kit.idempotency_keys) == 1


@pytest.mark.integration
def test_a_loser_refused_for_its_own_reason_with_no_winner_is_refused(pg):
    """The replay is only for a key someone answered: a refusal with no stored answer stays a refusal."""
    steps = Steps()
    steps.refuse = Conflict("not now")
    with pytest.raises(Conflict):
        run(pg, steps)
    assert pg.count(kit.idempotency_keys) == 0


def test_a_replay_is_answered_while_another_request_holds_the_write_lock(tmp_path):
    """A retry of an answered request reads its stored answer without queueing for SQLite's one write lock, which
    a long write of another request may hold (on PostgreSQL no lookup ever waited for one)."""
    db = Db(f"sqlite:///{tmp_path}/c.sqlite3")
    steps = Steps()
    first = run(db, steps)
    held, replayed, order = threading.Event(), threading.Event(), []

    def long_write() -> None:
        with db.uow()() as uow:
            uow.session.execute(insert(notes).values(id=new_id(), text="a long write"))
            held.set()
            replayed.wait(timeout=10)  # generous: the replay needs no lock, so it comes at once
            uow.commit()
            order.append("the long write committed")

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert held.wait(timeout=10)
        assert run(db, steps) == first
        order.append("the replay answered")
        replayed.set()
    finally:
        writer.join(timeout=60)
        db.engine.dispose()
    assert order == ["the replay answered", "the long write committed"]
    assert steps.actions == 1
