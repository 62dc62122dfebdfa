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

SERVICES = ("registry", "transactions", "pledge", "product-filing", "metrics")
OPENAPI_DIR = Path(__file__).parent / "openapi"


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_document_is_the_golden_one(service, builder, golden):
    app = builder.app(service, builder.settings(service))
    golden(OPENAPI_DIR / f"{service}.json", app.openapi())


def test_every_service_has_its_golden_document_and_no_other_is_left():
    assert sorted(p.stem for p in OPENAPI_DIR.glob("*.json")) == sorted(SERVICES)
