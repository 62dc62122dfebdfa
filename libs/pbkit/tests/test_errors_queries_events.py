"""The HTTP-free parts of the kit: domain errors and their one mapping to problems, optional filters, and a
service's event catalogue."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, create_engine, func, insert, select

from pbkit.context import Actor
from pbkit.db import install_kit_tables, make_engine, make_session_factory
from pbkit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RuleBroken,
    Unavailable,
    Violation,
    rule_broken_from,
)
from pbkit.events import EventCatalog
from pbkit.queries import at_least, at_most, equals, where_given
from pbkit.uow import UnitOfWork
from pbkit.web.problems import STATUS_OF, problem_of


@pytest.mark.parametrize(("error", "status"), [
    (NotFound("no such deal"), 404),
    (Forbidden("not yours"), 403),
    (Conflict("already pledged"), 409),
    (RuleBroken("bad", errors=[{"loc": ["body", "x"], "msg": "bad"}]), 422),
    (Unavailable("the registry is down"), 503),
])
def test_each_domain_error_is_its_problem_with_its_errors(error, status):
    problem = problem_of(error)
    body = problem.to_dict()
    assert (problem.status, body["status"], body["detail"]) == (status, status, error.detail)
    assert body["type"].endswith(f"/{status}") and body["title"]
    assert body.get("errors") == error.errors


def test_errors_of_any_domain_error_pass_through_and_every_kind_has_a_status():
    named = [{"loc": ["body", "amount"], "msg": "too large"}]
    assert problem_of(Conflict("over the limit", errors=named)).to_dict()["errors"] == named
    assert "errors" not in problem_of(NotFound("gone")).to_dict()
    assert set(STATUS_OF) == {NotFound, Forbidden, Conflict, RuleBroken, Unavailable}

    class Stale(Conflict):
        """A service's own refinement keeps its kind's status."""

    assert problem_of(Stale("stale")).status == 409


def test_rule_broken_of_lists_every_field():
    one = RuleBroken.of([Violation(["body", "amount"], "must be positive")])
    assert one.detail == "must be positive" and one.errors == [{"loc": ["body", "amount"], "msg": "must be positive"}]
    many = RuleBroken.of([Violation(["body", "amount"], "must be positive"),
                          Violation(["body", "patents", 2], "listed twice")])
    assert many.errors == [{"loc": ["body", "amount"], "msg": "must be positive"},
                           {"loc": ["body", "patents", 2], "msg": "listed twice"}]
    assert "body.amount" in many.detail and "body.patents.2" in many.detail
    assert RuleBroken.of([Violation(["a"], "x"), Violation(["b"], "y")], detail="both").detail == "both"
    assert RuleBroken.field(["query", "cursor"], "bad cursor").errors == [{"loc": ["query", "cursor"], "msg": "bad cursor"}]
    assert isinstance(many, DomainError)
    with pytest.raises(ValueError):
        RuleBroken("no field named", errors=[])


def test_rule_broken_from_a_validation_error_names_every_field_under_its_prefix():
    class Item(BaseModel):
        number: str = Field(min_length=3)
        share: int

    with pytest.raises(ValidationError) as failed:
        Item.model_validate({"number": "1", "share": "x"})
    broken = rule_broken_from(failed.value, loc_prefix=["body", "items", 4])
    assert [e["loc"] for e in broken.errors] == [["body", "items", 4, "number"], ["body", "items", 4, "share"]]
    assert "body.items.4.number" in broken.detail and "body.items.4.share" in broken.detail
    assert problem_of(broken).status == 422


metadata = MetaData()
deals = Table("deals", metadata, Column("id", Integer, primary_key=True), Column("status", String(20)),
              Column("recorded_on", Date))


@pytest.fixture
def deals_db():
    from datetime import date

    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(deals), [
            {"id": 1, "status": "open", "recorded_on": date(2024, 1, 1)},
            {"id": 2, "status": "open", "recorded_on": date(2024, 2, 1)},
            {"id": 3, "status": "closed", "recorded_on": date(2024, 3, 1)},
        ])
    yield engine
    engine.dispose()


def test_where_given_applies_only_the_given_values(deals_db):
    from datetime import date

    def ids(status=None, since=None, until=None, above=None):  # noqa: ANN001, ANN202
        stmt = where_given(
            select(deals.c.id).order_by(deals.c.id),
            (status, equals(deals.c.status)),
            (since, at_least(deals.c.recorded_on)),
            (until, at_most(deals.c.recorded_on)),
            (above, lambda v: deals.c.id > v),
        )
        with deals_db.connect() as conn:
            return [r.id for r in conn.execute(stmt)], stmt

    everything, stmt = ids()
    assert everything == [1, 2, 3] and stmt.whereclause is None
    assert ids(status="open")[0] == [1, 2]
    assert ids(since=date(2024, 2, 1))[0] == [2, 3]  # at_least includes the bound
    assert ids(until=date(2024, 2, 1))[0] == [1, 2]  # at_most too
    assert ids(status="open", since=date(2024, 2, 1))[0] == [2]
    assert ids(above=1, until=date(2024, 2, 1))[0] == [2]
    assert ids(status="", above=0)[0] == []  # a given empty value is a value, not an omission
    assert ids(above=0)[0] == [1, 2, 3]  # so is 0


CATALOG = EventCatalog(publishes={"pb.deals": ("pb.deal.made.v1", "pb.deal.closed.v1"), "pb.payments": ("pb.paid.v1",)},
                       consumes=("pb.registry.patents",))


def test_the_catalogue_finds_the_topic_of_each_declared_type_and_refuses_any_other():
    assert CATALOG.topic_for("pb.deal.closed.v1") == "pb.deals"
    assert CATALOG.topic_for("pb.paid.v1") == "pb.payments"
    with pytest.raises(ValueError, match="pb.patent.registered.v1"):
        CATALOG.topic_for("pb.patent.registered.v1")  # consumed, not published
    with pytest.raises(ValueError):
        EventCatalog().topic_for("pb.deal.made.v1")
    assert CATALOG.topics_to_create == ["pb.deals", "pb.payments", "pb.registry.patents.dlq"]


def test_a_unit_of_work_emits_only_what_its_service_declares(tmp_path):
    kit_metadata = MetaData()
    kit = install_kit_tables(kit_metadata)
    engine = make_engine(f"sqlite:///{tmp_path}/e.sqlite3")
    kit_metadata.create_all(engine)
    sf = make_session_factory(engine)
    with UnitOfWork(sf, kit, source="/pb/t", catalog=CATALOG, actor=Actor("c")) as uow:
        uow.emit(event_type="pb.paid.v1", aggregate_type="payment", aggregate_id="p1", data={})
        with pytest.raises(ValueError):
            uow.emit(event_type="pb.undeclared.v1", aggregate_type="payment", aggregate_id="p1", data={})
        uow.commit()
    with sf() as s:
        assert s.execute(select(kit.outbox.c.topic, kit.outbox.c.type)).all() == [("pb.payments", "pb.paid.v1")]
        assert s.execute(select(func.count()).select_from(kit.outbox)).scalar_one() == 1
    engine.dispose()
