"""The metrics service on production's stack: PostgreSQL and a real Kafka broker."""

from __future__ import annotations

import uuid

import pytest
from alembic import command

from pb_metrics.events import EVENTS
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import table_names, wait_until

pytestmark = pytest.mark.integration

PROGRESS = "/api/v1/programs/gz-2021-2023/progress"
METRICS_TABLES = {"programs", "indicators", "baselines", "projection_state", "projection_generations", "rebuilds",
                  "deal_facts", "payment_facts", "pledge_facts", "filing_facts", "annual_report_facts"}


def test_migrations_run_from_empty_to_head_and_back_on_postgresql(postgres_url):
    upgrade_head("pb_metrics", postgres_url)
    assert METRICS_TABLES <= table_names(postgres_url)
    command.downgrade(alembic_config("pb_metrics", postgres_url), "base")
    assert table_names(postgres_url) <= {"alembic_version"}
    upgrade_head("pb_metrics", postgres_url)
    assert METRICS_TABLES <= table_names(postgres_url)


@pytest.mark.parametrize(("what", "constraint"), [("program", "programs_pkey"), ("baseline", "baselines_pkey")])
def test_a_duplicate_program_or_baseline_is_a_named_conflict_on_postgresql(
    postgres_url, constraint_hit_by_duplicate, what, constraint
):
    upgrade_head("pb_metrics", postgres_url)
    assert constraint_hit_by_duplicate(postgres_url, what) == constraint


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def kafka_publish(kafka_bootstrap, prefix, publish_on):
    """Publish events on the test's own topics of the real broker, which the producers make, as their relays do."""
    bus = NamespacedBus(KafkaBus(kafka_bootstrap, delivery_timeout_s=15), prefix)
    bus.ensure_topics(list(EVENTS.consumes))
    yield lambda events: publish_on(bus, events)
    bus.close()


@pytest.fixture
def service(make_client, postgres_url, kafka_bootstrap, prefix, kafka_publish):
    """The service, started after the producers made the topics it consumes (it makes their dead-letter topics)."""
    upgrade_head("pb_metrics", postgres_url)
    return make_client(
        database_url=postgres_url, bus="kafka", kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix,
        consumers_enabled=True,
    )


def all_progress(client, headers):
    return {year: client.get(PROGRESS, params={"year": year}, headers=headers).json() for year in (2021, 2022, 2023)}


def test_events_from_kafka_reach_progress_and_a_rebuild_replays_them_to_the_same_numbers(
    service, kafka_publish, history, admin, viewer, wait_applied
):
    kafka_publish(history)
    kafka_publish(history[-4:])  # redelivered: applied once
    wait_applied(service, len(history), timeout_s=90)
    before = all_progress(service, viewer)
    actual = {i["id"]: i["actual"] for i in before[2022]["indicators"]}
    assert (actual["inst_outbound_patents"], actual["sme_inbound_received_amount"], actual["smes_benefited"]) == (
        2, "150000.00", 2,
    )
    assert (actual["pledge_amount"], actual["filing_prefecture_coverage"], actual["benefited_sme_revenue_growth"]) == (
        "1500000.00", 2, "0.2022",
    )
    assert before[2022]["as_of"] == max(e.time for e in history)
    months = service.get(
        f"{PROGRESS}/smes_benefited/breakdown", params={"year": 2023, "by": "month"}, headers=viewer
    ).json()["items"]
    assert sum(i["value"] for i in months) == 3

    rebuild = service.post("/api/v1/admin/rebuild", headers=admin)
    assert rebuild.status_code == 202, rebuild.text
    status = f"/api/v1/admin/rebuild/{rebuild.json()['id']}"
    done = wait_until(
        lambda: (r := service.get(status, headers=admin).json())["status"] in ("completed", "failed") and r,
        timeout_s=120,
        message="the rebuild to finish",
    )
    assert done["status"] == "completed", done
    assert done["events_applied"] == len(history)
    assert all_progress(service, viewer) == before
