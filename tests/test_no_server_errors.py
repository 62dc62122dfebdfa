"""No input, however malformed, makes any service answer 5xx: schemathesis generates requests from each
service's own OpenAPI description (valid, invalid and edge-case values, with an admin's token) against
the five services as `make run` starts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def admin_token(shared_embedded_stack):
    # Taken once: fuzzing the registry with admin rights may well deactivate or re-key the admin client itself.
    return shared_embedded_stack.token()


# The registry last, for the same reason.
@pytest.mark.parametrize("service", ["transactions", "pledge", "product_filing", "metrics", "registry"])
def test_no_generated_request_gets_a_server_error(shared_embedded_stack, admin_token, service):
    token = admin_token
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{shared_embedded_stack.urls[service]}/openapi.json",
         "--header", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
         "--max-examples", "15", "--max-failures", "3", "--seed", "20211", "--no-color"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
