"""`make bench` (`python -m bench`): every target of issue 12 beside its baseline, measured in one run.

For each backend it starts what it needs: the five services as their own processes and the bare hello app
on the same uvicorn; for PostgreSQL + Kafka a durable PostgreSQL and a Kafka broker (deploy/infra.sh in a
directory of its own, stopped afterwards; `--reuse-infra` takes the ones of PB_TEST_* instead, whatever their
settings, for a quick run). It fills the data set through the services' own paths (bench/datagen.py) and
prints one table: figure, value, baseline, ratio (value ÷ baseline), target, met.

  python -m bench --profile smoke --backend embedded --json /tmp/bench.json
  make bench ARGS="--backend kafka --deals 100000"
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import datagen, freshness, http, pipeline, scale
from bench.profiles import PROFILES
from bench.report import Table
from bench.stack import REPO_ROOT, durability, infra_from_env, log, own_infra, running


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--backend", choices=("embedded", "kafka", "both"), default="both")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the table as a JSON list of rows")
    parser.add_argument("--deals", type=int, help="the data set's deals (payments, pledges, filings in proportion)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--reuse-infra", action="store_true",
                        help="use the PostgreSQL and Kafka of PB_TEST_POSTGRES_URL / PB_TEST_KAFKA_BOOTSTRAP")
    parser.add_argument("--infra-dir", type=Path, default=REPO_ROOT / "var" / "bench-infra",
                        help="where the bench's own PostgreSQL and Kafka live (deploy/infra.sh's PB_INFRA_DIR)")
    return parser.parse_args(argv)


def expected_figures(backend: str) -> list[str]:
    """Every figure a run on `backend` reports, in order."""
    return [name for module in (http, freshness, scale) for name, _ in module.figures(backend)] + [
        name for name, _ in scale.memory_figures(backend)] + [name for name, _ in pipeline.figures(backend)]


def bench_backend(table: Table, backend: str, args: argparse.Namespace, infra) -> None:  # noqa: ANN001
    profile = PROFILES[args.profile]
    if args.deals:
        profile = profile.with_deals(args.deals)
    sizes = profile.sizes
    log(f"{backend}: profile {profile.name}, {sizes.deals:,} deals, {sizes.payments:,} payments, "
        f"{sizes.pledges:,} pledges, {sizes.filings:,} filings (small set: {profile.first_deals:,} deals)")
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as scratch, \
            running(backend, Path(scratch), infra) as stack:
        ref = datagen.make_reference(stack, seed=args.seed, organizations=profile.organizations,
                                     patents=profile.patents, report_orgs=profile.report_orgs)
        stack.wait_settled()
        with table.section("http", http.figures(backend)):
            http.measure(table, stack, ref, profile)
        with table.section("freshness", freshness.figures(backend)):
            freshness.measure(table, stack, ref, profile)
        with table.section("scale", scale.figures(backend)):
            scale.measure(table, stack, ref, profile, args.seed)
        with table.section("memory", scale.memory_figures(backend)):
            scale.memory(table, stack)
    with table.section("pipeline", pipeline.figures(backend)):
        pipeline.measure(table, backend, infra, profile.pipeline_events)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    backends = ["embedded", "kafka"] if args.backend == "both" else [args.backend]
    table = Table()
    started = time.monotonic()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True,
                            text=True).stdout.strip()  # the code measured, taken before the run
    with ExitStack() as stack:
        infra = None
        if "kafka" in backends:
            infra = infra_from_env() if args.reuse_infra else stack.enter_context(own_infra(args.infra_dir))
            log(f"PostgreSQL settings: {durability(infra.postgres_url)}")
        for backend in backends:
            bench_backend(table, backend, args, infra if backend == "kafka" else None)
    print(f"bench {args.profile} · {platform.node()} · {platform.processor() or platform.machine()} · commit {commit}"
          f" · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {time.monotonic() - started:.0f} s")
    print(table.render())
    if args.json:
        table.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
