"""deploy/observability/: the alert rules pass `promtool check rules` and their unit tests (`promtool test rules`),
and every metric that the Grafana dashboard or an alert names is exported by a running service: the metrics
service as its own process on PostgreSQL and Kafka, with its consumers running."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid

import httpx
import pytest

from pb_metrics.events import EVENTS
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.events import dlq_topic
from pbkit.testing import REPO_ROOT, ServiceProcess, create_pg_database, drop_pg_database, require, wait_until

OBSERVABILITY = REPO_ROOT / "deploy" / "observability"
# PromQL words that look like metric names but are not.
PROMQL = {"sum", "max", "min", "by", "rate", "delta", "histogram_quantile", "and", "count", "up", "le", "job"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    require(shutil.which("promtool") is not None, "promtool is missing (Debian's prometheus; deploy/bootstrap.sh)")
    return subprocess.run(["promtool", *args], cwd=OBSERVABILITY, capture_output=True, text=True, timeout=60)


def test_the_alert_rules_pass_promtool_and_their_unit_tests():
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 7 rules found" in checked.stdout
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def named_metrics() -> set[str]:
    """The pb_* metric names in the dashboard's queries and the alert rules' expressions."""
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs.append((OBSERVABILITY / "alerts.yml").read_text())
    return {name for expr in exprs for name in re.findall(r"\bpb_[a-z_]+\b", expr)} - PROMQL


def exported(text: str) -> set[str]:
    """The names of the samples of a Prometheus text exposition (`..._total`, `..._bucket` and so on included)."""
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


@pytest.mark.integration
def test_every_metric_the_dashboard_and_alerts_name_is_exported_by_a_running_service(
        tmp_path, postgres_admin_url, kafka_bootstrap, test_keys):
    names = named_metrics()
    assert len(names) >= 14 and "pb_consumer_lag" in names and "pb_relay_leader" in names
    prefix = f"t{uuid.uuid4().hex[:10]}."
    bus = NamespacedBus(KafkaBus(kafka_bootstrap), prefix)
    # The topics the other services would make, and the revocation feed's.
    bus.ensure_topics([*EVENTS.consumes, "pb.registry.clients"])
    database_url = create_pg_database(postgres_admin_url, prefix="obs")
    service = ServiceProcess("pb_metrics", {
        "PB_DATABASE_URL": database_url, "PB_BUS": "kafka", "PB_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "PB_TOPIC_PREFIX": prefix, "PB_VAR_DIR": str(tmp_path), "PB_JWKS_JSON": test_keys.jwks_json, "PB_ENV": "test",
    }, log_dir=tmp_path)
    try:
        service.start()
        wait_until(lambda: httpx.get(service.url + "/readyz", timeout=10).status_code == 200, timeout_s=60,
                   message="the metrics service to be ready")

        def scrape() -> str:
            return httpx.get(service.url + "/metrics", timeout=10).text

        # The consumer group has joined and committed nothing yet: its lag series appear once its topics are known.
        text = wait_until(lambda: (t := scrape()) and "pb_consumer_lag{" in t and t, timeout_s=30,
                          message="lag series")
        samples = exported(text)
        missing = sorted(n for n in names if not {n, f"{n}_total", f"{n}_bucket", f"{n}_count"} & samples)
        assert missing == [], f"named by the dashboard or alerts, not exported: {missing}"
        assert f'pb_dlq_messages{{topic="{dlq_topic(EVENTS.consumes[0])}"}} 0.0' in text
    finally:
        service.stop()
        bus.close()
        drop_pg_database(postgres_admin_url, database_url)
