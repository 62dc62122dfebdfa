"""Golden OpenAPI documents: what each of the five services publishes as its API, pinned.

Each service is built as its own unit tests build it (its Settings on a migrated SQLite file, the tokens of
`pbkit.testing.test_keys`, a fake registry where it asks one) without starting its lifespan, and
`app.openapi()` must equal `tests/golden/openapi/<service>.json` (JSON, indent 2, sorted keys, UTF-8 text).
A mismatch shows a unified diff of the two documents.

After a deliberate change of a service's API, write the goldens anew and review the diff in git:

    PB_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

SERVICES = ("registry", "transactions", "pledge", "product-filing", "metrics", "market")
OPENAPI_DIR = Path(__file__).parent / "openapi"


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_document_is_the_golden_one(service, builder, golden):
    app = builder.app(service, builder.settings(service))
    golden(OPENAPI_DIR / f"{service}.json", app.openapi())


def test_every_service_has_its_golden_document_and_no_other_is_left():
    assert sorted(p.stem for p in OPENAPI_DIR.glob("*.json")) == sorted(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_create_links_to_its_get_and_every_link_names_a_parameter_of_its_operation(service, builder):
    """Issue 11: the stateful phase of the schemathesis run (tests/test_no_server_errors.py) follows these links."""
    document = builder.app(service, builder.settings(service)).openapi()
    operations = {op["operationId"]: (path, op) for path, ops in document["paths"].items() for op in ops.values()}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            created = {status: answer for status, answer in op["responses"].items() if status in ("201", "202")}
            for status, answer in created.items():
                links = answer.get("links", {})
                if method == "post":
                    gets = [operations[link["operationId"]][1] for link in links.values()]
                    assert any(get["operationId"].endswith("_get") for get in gets), (method, path, status)
                for link in links.values():
                    target_path, target = operations[link["operationId"]]
                    names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                    assert set(link["parameters"]) <= names, (path, link)
                    assert all(f"{{{name}}}" in target_path for name in link["parameters"])
