"""The live consumer on the local event log, and rebuilding the projections from it."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from pb_metrics.deps import consistent_read
from pb_metrics.models import PROJECTION_TABLES, DealFact, IndicatorTotal, ProjectionState, Rebuild
from pb_metrics.rebuilds.service import request_rebuild
from pbkit.context import Actor
from pbkit.events import dlq_topic
from pbkit.testing import wait_until

PROGRESS = "/api/v1/programs/gz-2021-2023/progress"


def all_progress(client, headers):
    return {
        year: client.get(PROGRESS, params={"year": year}, headers=headers).json() for year in (2021, 2022, 2023)
    }


@pytest.fixture
def live(make_client, local_bus):
    """The service with its live consumer reading the local event log (its topics made first). Its rebuild worker
    runs a rebuild only when a request in this process wakes it, so that a test may run one by hand."""
    return make_client(consumers_enabled=True, rebuild_poll_s=3600)


def test_the_live_consumer_applies_published_events_once_each(
    live, viewer, publish, history, wait_applied, events_applied
):
    publish(history)
    publish(history[:5])  # an at-least-once producer may publish some again
    wait_applied(live, len(history))
    progress = all_progress(live, viewer)[2022]
    actual = {i["id"]: i["actual"] for i in progress["indicators"]}
    assert (actual["inst_outbound_patents"], actual["sme_inbound_patents"], actual["sme_inbound_received_amount"]) == (
        2, 2, "150000.00",
    )
    assert (actual["smes_benefited"], actual["pledge_count"], actual["filing_prefecture_coverage"]) == (2, 1, 2)
    # Only sme-2022 benefited by 2022 and reported 2021 and 2022: 1,202,200 against 1,000,000.
    assert actual["benefited_sme_revenue_growth"] == "0.2022"
    assert events_applied(live) == len(history)
    assert progress["as_of"] == max(e.time for e in history)


def test_a_poison_event_goes_to_the_dead_letter_topic_and_the_rest_still_count(
    live, viewer, publish, producers, orgs, wait_applied
):
    broken = producers.event("pb.pledge.registered.v1", "p-broken", {"pledge_id": "p-broken", "amount": 12})
    good = producers.pledge(orgs.sme).register(date(2022, 2, 2))
    publish([broken, good])
    wait_applied(live, 1)
    pledges = {i["id"]: i for i in live.get(PROGRESS, params={"year": 2022}, headers=viewer).json()["indicators"]}
    assert pledges["pledge_count"]["actual"] == 1
    dead = live.kit.bus.consumer("inspect-dlq", [dlq_topic("pb.pledge.pledges")])
    try:
        letters = wait_until(lambda: dead.poll(0.5), message="the dead letter")
    finally:
        dead.close()
    assert [m.key for m in letters] == ["p-broken"]
    assert "ValidationError" in letters[0].headers["pb-dlq-reason"]
    assert live.get("/readyz").status_code == 200


def test_a_rebuild_answers_202_and_ends_with_identical_numbers(live, admin, viewer, publish, history, wait_applied):
    publish(history)
    wait_applied(live, len(history))
    before = all_progress(live, viewer)
    issue_15 = {i["id"]: i["actual"] for i in before[2022]["indicators"]}
    assert (issue_15["open_licence_declarations"], issue_15["sme_open_licence_deals"],
            issue_15["demand_deal_conversion"]) == (1, 1, "0.5000")
    breakdown_before = live.get(
        "/api/v1/programs/gz-2021-2023/progress/smes_benefited/breakdown", params={"year": 2023, "by": "month"}, headers=viewer
    ).json()

    started = live.post("/api/v1/admin/rebuild", headers={**admin, "Idempotency-Key": "rebuild-1"})
    assert started.status_code == 202, started.text
    rebuild = started.json()
    assert (rebuild["status"], rebuild["generation"]) == ("pending", 2)
    status = f"/api/v1/admin/rebuild/{rebuild['id']}"
    done = wait_until(
        lambda: (r := live.get(status, headers=admin).json())["status"] in ("completed", "failed") and r,
        message="the rebuild to finish",
    )
    assert done["status"] == "completed", done
    assert done["events_applied"] == len(history)

    assert all_progress(live, viewer) == before
    assert live.get(
        "/api/v1/programs/gz-2021-2023/progress/smes_benefited/breakdown", params={"year": 2023, "by": "month"}, headers=viewer
    ).json() == breakdown_before
    with live.kit.session_factory() as session:
        assert session.get_one(ProjectionState, 1).active_generation == 2

    def generations_with_rows() -> set[int]:
        with live.kit.session_factory() as session:
            return {g for model in PROJECTION_TABLES for g in session.scalars(select(model.generation).distinct())}

    # The old generation's rows are deleted after the switch, a few thousand per transaction.
    wait_until(lambda: generations_with_rows() == {2}, message="the old generation's rows to be deleted")
    with live.kit.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(DealFact).where(DealFact.generation == 2)) == 6
    replay = live.post("/api/v1/admin/rebuild", headers={**admin, "Idempotency-Key": "rebuild-1"})
    assert replay.status_code == 202 and replay.json()["id"] == rebuild["id"]
    audit = live.get("/api/v1/audit", params={"target_type": "rebuild"}, headers=admin).json()["items"]
    assert [(a["action"], a["actor"], a["target_id"]) for a in audit] == [("projections.rebuild", "office-admin", rebuild["id"])]
    assert live.get("/api/v1/admin/rebuild/unknown", headers=admin).status_code == 404
    assert live.get(status, headers=viewer).status_code == 403


def test_a_rebuild_repairs_damaged_projections_and_the_old_numbers_are_served_until_it_switches(
    live, viewer, publish, history, producers, orgs, wait_applied
):
    publish(history)
    wait_applied(live, len(history))
    healthy = all_progress(live, viewer)
    with live.kit.uow() as uow:  # a projection bug lost a recorded deal of 2022, and what it counted
        lost = uow.session.scalars(
            select(DealFact).where(
                DealFact.generation == 1, DealFact.status == "recorded", DealFact.recorded_on >= date(2022, 1, 1)
            )
        ).first()
        uow.session.delete(lost)
        uow.session.execute(delete(IndicatorTotal).where(IndicatorTotal.generation == 1, IndicatorTotal.year == 2022))
        uow.commit()
    damaged = all_progress(live, viewer)
    assert damaged != healthy

    with live.kit.uow(Actor("office-admin", "admin")) as uow:
        rebuild = request_rebuild(uow=uow, stale_after=live.app.state.rebuilds.stale_after)
        uow.commit()
    run = live.app.state.rebuilds.run_of(rebuild.id, rebuild.generation, stop=threading.Event())
    try:
        run.catch_up()
        assert all_progress(live, viewer) == damaged  # still the old generation
        # An event published during the rebuild reaches the new generation through the live consumer.
        late = producers.pledge(orgs.sme).register(date(2023, 10, 1))
        publish([late])
        wait_applied(live, len(history) + 1)
        assert all_progress(live, viewer)[2022]["indicators"] == damaged[2022]["indicators"]
        run.switch()
    finally:
        run.runner.close_consumer()

    repaired = all_progress(live, viewer)
    assert repaired[2022]["indicators"] == healthy[2022]["indicators"]
    pledges = {i["id"]: i["actual"] for i in repaired[2023]["indicators"]}["pledge_count"]
    assert pledges == 2
    with live.kit.session_factory() as session:
        assert session.get_one(Rebuild, rebuild.id).status == "completed"


def test_only_one_rebuild_at_a_time_and_one_whose_worker_died_is_failed(make_client, admin):
    client = make_client(rebuild_stale_after_s=3600, rebuild_poll_s=3600)
    with client.kit.uow(Actor("office-admin", "admin")) as uow:  # requested, but its worker never ran
        orphan = request_rebuild(uow=uow, stale_after=client.app.state.rebuilds.stale_after)
        uow.commit()
    refused = client.post("/api/v1/admin/rebuild", headers=admin)
    assert refused.status_code == 409 and orphan.id in refused.json()["detail"]

    impatient = make_client(rebuild_stale_after_s=0)  # a restart: the orphan's heartbeat is old
    assert impatient.get(f"/api/v1/admin/rebuild/{orphan.id}", headers=admin).json()["status"] == "failed"
    started = impatient.post("/api/v1/admin/rebuild", headers=admin)
    assert started.status_code == 202 and started.json()["generation"] == orphan.generation + 1


def test_one_replica_runs_every_rebuild_whichever_took_the_request_and_another_takes_over_when_it_stops(
    make_client, local_bus, admin, publish, history
):
    publish(history)
    first = make_client()
    wait_until(lambda: first.app.state.rebuilds.leadership.held, message="the first replica to lead the rebuild job")
    second = make_client()  # the same database: a replica

    def finished(client, rebuild_id: str) -> dict:  # noqa: ANN001
        status = f"/api/v1/admin/rebuild/{rebuild_id}"
        return wait_until(lambda: (r := client.get(status, headers=admin).json())["status"] in ("completed", "failed")
                          and r, message=f"rebuild {rebuild_id} to finish")

    started = second.post("/api/v1/admin/rebuild", headers=admin)  # answered by the replica that does not lead
    assert started.status_code == 202, started.text
    done = finished(second, started.json()["id"])
    assert (done["status"], done["events_applied"]) == ("completed", len(history))
    assert not second.app.state.rebuilds.leadership.held

    first.kit.stop_background()  # the leader goes, and its lock with it
    wait_until(lambda: second.app.state.rebuilds.leadership.held, message="the second replica to take the job over")
    with second.kit.uow(Actor("office-admin", "admin")) as uow:  # requested by a replica that died before waking
        orphan = request_rebuild(uow=uow, stale_after=second.app.state.rebuilds.stale_after)
        uow.commit()
    done = finished(second, orphan.id)
    assert (done["status"], done["events_applied"]) == ("completed", len(history))


def test_a_leader_fails_the_rebuild_a_dead_leader_left_running_and_runs_the_next(make_client, local_bus, admin):
    leader = make_client(rebuild_stale_after_s=1, rebuild_poll_s=0.1)
    wait_until(lambda: leader.app.state.rebuilds.leadership.held, message="the replica to lead the rebuild job")
    with leader.kit.uow(Actor("office-admin", "admin")) as uow:  # claimed by another replica, which then died
        dead = request_rebuild(uow=uow, stale_after=leader.app.state.rebuilds.stale_after)
        uow.session.get_one(Rebuild, dead.id).status = "running"
        uow.commit()
    failed = wait_until(lambda: (r := leader.get(f"/api/v1/admin/rebuild/{dead.id}", headers=admin).json())["status"]
                        == "failed" and r, message="the dead replica's rebuild to be failed")
    assert failed["detail"].startswith("interrupted: no progress since")
    started = leader.post("/api/v1/admin/rebuild", headers=admin)
    assert started.status_code == 202 and started.json()["generation"] == dead.generation + 1


def test_a_rebuild_stopped_by_shutdown_fails_and_leaves_the_active_generation_alone(
    live, viewer, admin, publish, history, wait_applied
):
    publish(history)
    wait_applied(live, len(history))
    before = all_progress(live, viewer)
    with live.kit.uow(Actor("office-admin", "admin")) as uow:
        rebuild = request_rebuild(uow=uow, stale_after=live.app.state.rebuilds.stale_after)
        uow.commit()
    stopping = threading.Event()
    stopping.set()
    live.app.state.rebuilds.run_of(rebuild.id, rebuild.generation, stop=stopping).run()
    failed = live.get(f"/api/v1/admin/rebuild/{rebuild.id}", headers=admin).json()
    assert failed["status"] == "failed" and "stopped" in failed["detail"]
    assert all_progress(live, viewer) == before
    with live.kit.session_factory() as session:
        assert session.scalar(select(func.count()).where(DealFact.generation == rebuild.generation)) == 0


def test_progress_breakdowns_and_reports_answer_while_a_batch_holds_the_write_lock_and_show_what_was_committed(
    client, apply, history, viewer, admin
):
    """The live consumer and a rebuild take SQLite's one write lock for each batch they apply; a read neither queues
    behind it (the rebuild used to stall progress for as long as a batch took) nor sees the batch before it commits."""
    apply(history)
    reads = {
        "progress": (PROGRESS, {"year": 2022}),
        "breakdown": ("/api/v1/programs/gz-2021-2023/progress/smes_benefited/breakdown", {"year": 2023, "by": "month"}),
        "report": ("/api/v1/programs/gz-2021-2023/report", {"year": 2022, "format": "csv"}),
        "rebuild status": (f"/api/v1/admin/rebuild/{uuid.uuid4()}", {}),  # the admin polls it during a rebuild
    }

    def read_all() -> dict[str, tuple[int, str]]:
        answers = {name: client.get(path, params=params, headers=admin if name == "rebuild status" else viewer)
                   for name, (path, params) in reads.items()}
        return {name: (r.status_code, r.text) for name, r in answers.items()}

    committed = read_all()
    assert [status for status, _ in committed.values()] == [200, 200, 200, 404]
    assert any(i["actual"] not in (0, "0.00", None) for i in json.loads(committed["progress"][1])["indicators"])

    during: dict[str, tuple[int, str]] = {}
    with client.kit.session_factory() as batch:
        batch.execute(delete(IndicatorTotal))  # a batch under way: the write lock held, the totals changed
        reader = threading.Thread(target=lambda: during.update(read_all()))
        reader.start()
        reader.join(timeout=10)
        answered_while_held = not reader.is_alive()
        batch.rollback()
    reader.join()
    assert answered_while_held, "a read waited for the write lock"
    assert during == committed


def test_a_read_keeps_its_snapshot_when_a_batch_commits_between_its_queries(client, apply, history):
    """An answer is read from one snapshot, so it never mixes two batches (or, across a switch, two generations)."""
    apply(history)
    totals = select(func.count()).select_from(IndicatorTotal)
    with consistent_read(client.kit) as read:
        before = read.scalar(totals)
        assert before > 0

        def commit_a_batch() -> None:
            with client.kit.session_factory() as batch:
                batch.execute(delete(IndicatorTotal))
                batch.commit()

        writer = threading.Thread(target=commit_a_batch)
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the batch waited for the read to end"
        assert read.scalar(totals) == before
    with consistent_read(client.kit) as read:
        assert read.scalar(totals) == 0
