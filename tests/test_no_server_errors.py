"""No input, however malformed, makes any service answer 5xx: schemathesis generates requests from each
service's own OpenAPI description against the six services as `make run` starts them (issue 11).

Every operation, in all four phases: the schema's examples, coverage (boundary and just-past-the-boundary
values of every constraint, missing and extra fields), fuzzing (up to MAX_EXAMPLES cases per operation, valid
and invalid: `--mode all`) and the stateful phase (STATEFUL_SCENARIOS scenarios), which follows the OpenAPI links from each create to the
operations on what it created. The only check is `not_a_server_error`: any 4xx is a right answer to a
generated request, a 5xx never is.

The run acts as an admin client of its own. It creates, renames, deactivates and re-keys other clients (the
stateful phase reaches them from `POST /auth/clients` and from the client list, the bootstrap admin
included), but not itself: the registry refuses an admin's deactivating or re-keying its own client (409),
so the run keeps its token to the end.

A deal, a pledge, a filing or an open licence names organizations and patents the registry must know: generated ids never
are, so those creates would never succeed and the stateful phase would find nothing to follow. A seeded
university, SME and bank with their patents are put into just those fields of those creates (and a
filing's region and industry, which the schema cannot list); their other fields, and every other operation,
are left to the generator.

The runs go at once. Generating the cases costs more CPU than answering them, and the registry has three times
the operations of any other service, so its run is split by path into three (REGISTRY_SHARDS), each with the
links among its own operations; alone it took more than twice as long as the next longest run. Between them the
shards test every one of the registry's operations.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pbkit.testing import RegistryAdmin

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SERVICES = ["transactions", "pledge", "product_filing", "metrics", "registry", "market"]
# The registry's operations by resource: each shard keeps a create and the operations its links lead to.
_ACCOUNTS = "auth|users"
_PARTIES = "organizations|patents|lookups|industries|audit"
REGISTRY_SHARDS = {  # (a second --exclude-path-regex would replace the first)
    "accounts": ["--include-path-regex", f"^/api/v1/({_ACCOUNTS})(/|$)"],
    "parties": ["--include-path-regex", f"^/api/v1/({_PARTIES})(/|$)"],
    "title": ["--exclude-path-regex", f"^/api/v1/({_ACCOUNTS}|{_PARTIES})(/|$)"],
}
RUNS = [(service, shard, only) for service in SERVICES
        for shard, only in (REGISTRY_SHARDS.items() if service == "registry" else [("all", [])])]
MAX_EXAMPLES = 200
# The stateful phase's scenarios each make several requests along the links; 50 of them per service walk every
# covered link many times over, and cost a fifth of what 200 did.
STATEFUL_SCENARIOS = 50
SEED = "20211"

# The eight runs together take about five minutes on two idle cores; the first test waits for all of them.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def run_client(shared_embedded_stack) -> dict[str, str]:
    """The admin client the run acts as: created by the bootstrap admin, never the bootstrap admin itself."""
    created = httpx.post(
        shared_embedded_stack.urls["registry"] + "/api/v1/auth/clients",
        json={"name": "schemathesis run", "role": "admin"},
        headers={"Authorization": f"Bearer {shared_embedded_stack.token()}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return created.json()


def _operation(name: str, **fields: object) -> str:
    fixed = ", ".join(f'"body.{field}" = {json.dumps(value, ensure_ascii=False)}' for field, value in fields.items())
    return f'[[operations]]\ninclude-name = "{name}"\nparameters = {{ {fixed} }}\n'


@pytest.fixture(scope="module")
def seeded_config(shared_embedded_stack, run_client, tmp_path_factory) -> Path:
    """A schemathesis.toml fixing the registry references of the three creates to seeded organizations and
    patents (a patent each, so that one deal's recording does not take away another create's patent)."""
    office = RegistryAdmin(shared_embedded_stack.urls["registry"], run_client["client_id"], run_client["client_secret"])
    university = office.organization("贵州大学", "university", industry=None)
    sme = office.organization("贵州小微科技有限公司", "enterprise", size="small")
    bank = office.organization("贵阳银行股份有限公司", "bank", industry=None)
    sold, pledged, filed = office.patent(university), office.patent(sme), office.patent(sme)
    declared = office.patent(university)
    office.http.patch(f"/api/v1/patents/{declared}", json={"grant_date": "2021-06-01"}, headers=office.headers)
    config = tmp_path_factory.mktemp("schemathesis") / "schemathesis.toml"
    config.write_text(
        f"[generation]\nmax-examples = {MAX_EXAMPLES}\n\n"
        f"[phases.stateful.generation]\nmax-examples = {STATEFUL_SCENARIOS}\n\n"
        + _operation("POST /api/v1/deals", transferor_ids=[university], transferee_id=sme, patent_numbers=[sold])
        + _operation("POST /api/v1/pledges", pledgor_id=sme, pledgee_id=bank, patent_numbers=[pledged])
        + _operation("POST /api/v1/filings", org_id=sme, patent_numbers=[filed], region_code="520111",
                     industry="big_data_electronics")
        + _operation("POST /api/v1/open-licences", declarant_ids=[university], patent_numbers=[declared])
        + _operation("POST /api/v1/open-licences/{declaration_id}/acceptances", licensee_id=sme),
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def runs(shared_embedded_stack, run_client, seeded_config) -> dict[str, dict[str, tuple[int, str]]]:
    """Each service's runs, by shard: the exit code and what it printed."""
    token = shared_embedded_stack.token(run_client["client_id"], run_client["client_secret"])
    started = {
        (service, shard): subprocess.Popen(
            [str(SCHEMATHESIS), "--config-file", str(seeded_config), "run",
             f"{shared_embedded_stack.urls[service]}/openapi.json", *only,
             "--header", f"Authorization: Bearer {token}",
             "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all",
             "--checks", "not_a_server_error",
             "--seed", SEED, "--max-failures", "5", "--generation-database", "none", "--no-color"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=seeded_config.parent,
        )
        for service, shard, only in RUNS
    }
    try:
        printed = {run: process.communicate(timeout=1100)[0] for run, process in started.items()}
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
    by_service: dict[str, dict[str, tuple[int, str]]] = {}
    for (service, shard), process in started.items():
        by_service.setdefault(service, {})[shard] = (process.returncode, printed[service, shard])
    return by_service


@pytest.mark.parametrize("service", SERVICES)
def test_no_generated_request_gets_a_server_error(runs, service, shared_embedded_stack):
    tested = links = 0
    for returncode, output in runs[service].values():
        summary = output[-6000:]
        assert returncode == 0, summary
        selected = re.search(r"Selected: (\d+)/\d+", output)
        ran = re.search(r"Tested: (\d+)", output)
        assert selected and ran and selected[1] == ran[1], summary
        tested += int(ran[1])
        covered = re.search(r"API Links: +\d+ covered / (\d+) selected", output)
        links += int(covered[1]) if covered else 0
    # Every operation of the service's OpenAPI, once: the shards neither miss nor share one.
    paths = httpx.get(shared_embedded_stack.urls[service] + "/openapi.json", timeout=10).json()["paths"]
    operations = sum(method in {"get", "put", "post", "patch", "delete"} for path in paths.values() for method in path)
    assert tested == operations
    assert links > 0


def test_the_run_did_not_lock_its_own_client_out(runs, shared_embedded_stack, run_client):
    assert shared_embedded_stack.token(run_client["client_id"], run_client["client_secret"])
