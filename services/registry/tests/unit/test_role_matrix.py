"""Who may call what: every endpoint, every role, no token at all."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from pb_registry.models import kit_tables
from pbkit.events import utcnow

ROLES = ("admin", "partner", "bank", "viewer", "prefecture")  # prefecture: a staff viewer of 贵阳 (the records')
EVERYONE = set(ROLES)
ADMIN = {"admin"}

# (method, path, body, roles allowed). {org}, {patent}, {client}, {event} are filled in with real records.
MATRIX = [
    ("POST", "/api/v1/auth/clients", {"name": "查询", "role": "viewer"}, ADMIN),
    ("GET", "/api/v1/auth/clients", None, ADMIN),
    ("GET", "/api/v1/auth/clients/{client}", None, ADMIN),
    ("PATCH", "/api/v1/auth/clients/{client}", {"name": "新名称"}, ADMIN),
    ("POST", "/api/v1/auth/clients/{client}/secret", None, ADMIN),
    ("POST", "/api/v1/organizations", "new-org", ADMIN),
    ("GET", "/api/v1/organizations", None, EVERYONE),
    ("GET", "/api/v1/organizations/{org}", None, EVERYONE),
    ("PATCH", "/api/v1/organizations/{org}", {"name": "贵州新名称有限公司"}, ADMIN),
    ("PUT", "/api/v1/organizations/{org}/annual-reports/2022", {"revenue": "1000000.00", "employees": 12}, ADMIN),
    ("GET", "/api/v1/organizations/{org}/annual-reports", None, {"admin", "viewer", "prefecture"}),
    ("GET", "/api/v1/industries", None, EVERYONE),
    ("POST", "/api/v1/patents", "new-patent", ADMIN),
    ("GET", "/api/v1/patents", None, EVERYONE),
    ("GET", "/api/v1/patents/{patent}", None, EVERYONE),
    ("PATCH", "/api/v1/patents/{patent}", {"title": "更正后的名称"}, ADMIN),
    ("GET", "/api/v1/patents/{patent}/history", None, EVERYONE),
    ("POST", "/api/v1/lookups", {"organization_ids": ["{org}"], "patent_numbers": ["{patent}"]}, EVERYONE),
    ("PUT", "/api/v1/title-changes/new-deal", "new-title-change", ADMIN),
    ("POST", "/api/v1/title-changes", "new-title-changes", ADMIN),
    ("PUT", "/api/v1/title-changes/{deal}/reversal", {"effective_on": "2022-05-01"}, ADMIN),
    ("PUT", "/api/v1/encumbrances/new-pledge", "new-encumbrance", {"admin", "bank"}),
    ("PUT", "/api/v1/encumbrances/{pledge}/release", {"released_on": "2022-10-01"}, {"admin", "bank"}),
    ("PUT", "/api/v1/open-licence-declarations/new-declaration", "new-declaration", {"admin", "partner"}),
    ("PUT", "/api/v1/open-licence-declarations/{declaration}/withdrawal", {"withdrawn_on": "2023-06-01"},
     {"admin", "partner"}),
    ("POST", "/api/v1/users", "new-user", ADMIN),
    ("GET", "/api/v1/users", None, ADMIN),
    ("GET", "/api/v1/users/{user}", None, ADMIN),
    ("PATCH", "/api/v1/users/{user}", {"display_name": "新名字"}, ADMIN),
    ("POST", "/api/v1/users/{user}/password", {"password": "reset-password-123"}, ADMIN),
    ("POST", "/api/v1/users/{user}/unlock", None, ADMIN),
    ("GET", "/api/v1/audit", None, ADMIN),
    ("GET", "/api/v1/outbox/parked", None, ADMIN),
    ("POST", "/api/v1/outbox/parked/{event}/retry", None, ADMIN),
    ("POST", "/api/v1/outbox/parked/retry", None, ADMIN),
]
PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/login"), ("GET", "/.well-known/jwks.json")}
# A staff user's own account, for any signed-in user (an API client has none: 404); test_staff_users.py.
OWN_ACCOUNT = {("GET", "/api/v1/users/me"), ("POST", "/api/v1/users/me/password")}


def park_first_event(registry_app) -> str:  # noqa: ANN001
    """Parks the oldest outbox row, as the relay would after its tries (the relay is off in unit tests)."""
    outbox = kit_tables.outbox
    with registry_app.state.kit.session_factory() as session:
        event_id = session.scalars(select(outbox.c.id).order_by(outbox.c.position).limit(1)).one()
        session.execute(update(outbox).where(outbox.c.id == event_id).values(parked_at=utcnow(), attempts=10))
        session.commit()
    return event_id


@pytest.fixture
def records(api, admin, registry_app, make_org, make_patent, new_uscc, new_patent_number):  # noqa: ANN201
    org = make_org()
    patent = make_patent([org["id"]])
    client = api.post("/api/v1/auth/clients", json={"name": "平台", "role": "partner", "org_id": org["id"]}, headers=admin).json()
    user = api.post("/api/v1/users", json={"username": "matrix.user", "display_name": "矩阵", "role": "viewer",
                                           "password": "matrix-password-1"}, headers=admin).json()
    buyer = make_org()["id"]
    sold, pledged, free, declared = (make_patent([org["id"]])["number"] for _ in range(4))
    change = {"kind": "transfer", "transferor_ids": [org["id"]], "transferee_id": buyer, "effective_on": "2022-03-01"}
    # The bank role's organization is `org`: it pledges its own patent to itself here, which the registry leaves
    # to the pledge service to refuse.
    encumbrance = {"pledgor_id": org["id"], "pledgee_id": org["id"], "registered_on": "2022-04-01"}
    assert api.put("/api/v1/title-changes/sold", json=change | {"patent_numbers": [sold]}, headers=admin).status_code == 200
    assert api.put("/api/v1/encumbrances/held", json=encumbrance | {"patent_numbers": [pledged]}, headers=admin).status_code == 200
    declaration = {"declarant_ids": [org["id"]], "declared_on": "2023-03-01"}
    assert api.put("/api/v1/open-licence-declarations/declared", json=declaration | {"patent_numbers": [declared]},
                   headers=admin).status_code == 200
    bodies = {
        "new-org": lambda: {"name": "贵州新企业有限公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520102"},
        "new-user": lambda: {"username": f"user.{uuid.uuid4().hex[:8]}", "display_name": "新用户", "role": "viewer",
                             "password": "a-new-password-1"},
        "new-patent": lambda: {
            "number": new_patent_number(), "title": "一种方法", "type": "invention", "filing_date": "2021-01-05",
            "ipc": [], "owner_ids": [org["id"]], "status": "valid",
        },
    }
    bodies["new-title-change"] = lambda: change | {"patent_numbers": [free]}
    bodies["new-title-changes"] = lambda: {"changes": [change | {"deal_id": "batched-deal", "patent_numbers": [free]}]}
    bodies["new-encumbrance"] = lambda: encumbrance | {"patent_numbers": [free]}
    bodies["new-declaration"] = lambda: declaration | {"patent_numbers": [patent["number"]]}
    return {"org": org["id"], "patent": patent["number"], "client": client["client_id"], "user": user["id"], "deal": "sold", "pledge": "held", "declaration": "declared",
            "bodies": bodies, "event": park_first_event(registry_app)}


def call(api, method, path, body, records, headers):  # noqa: ANN001, ANN201
    url = path.format(**records)
    if isinstance(body, str):
        body = records["bodies"][body]()
    elif isinstance(body, dict):
        body = {name: [v.format(**records) for v in value] if isinstance(value, list) else value
                for name, value in body.items()}
    return api.request(method, url, json=body, headers=headers)


def org_of(role: str, records) -> str | None:  # noqa: ANN001
    return records["org"] if role in ("partner", "bank") else None


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_every_role_gets_exactly_the_access_the_matrix_gives(api, tokens, records, emitted, method, path, body, allowed):
    for role in ROLES:
        before = len(emitted())
        scope = {"prefecture_code": "520100"} if role == "prefecture" else {}
        response = call(api, method, path, body, records, tokens.headers(role, org_id=org_of(role, records), **scope))
        if role in allowed:
            assert 200 <= response.status_code < 300, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert len(emitted()) == before, f"a refused {role} request changed something"
    assert call(api, method, path, body, records, {}).status_code == 401


def test_the_public_endpoints_need_no_token(api):
    assert api.get("/.well-known/jwks.json").status_code == 200
    assert api.post("/api/v1/auth/token", data={"grant_type": "client_credentials"}).status_code == 401  # the client, not a token
    assert api.get("/healthz").status_code == 200
    assert api.get("/docs").status_code == 200


def test_the_matrix_covers_every_endpoint(registry_app):
    described = {
        (method.upper(), path)
        for path, operations in registry_app.openapi()["paths"].items()
        if path.startswith(("/api/", "/.well-known/"))
        for method in operations
    }
    placeholders = {"{org}": "{org_id}", "{patent}": "{number}", "{client}": "{client_id}", "/2022": "/{year}",
                    "{deal}": "{deal_id}", "new-deal": "{deal_id}", "{pledge}": "{pledge_id}", "new-pledge": "{pledge_id}",
                    "{event}": "{event_id}", "{user}": "{user_id}", "{declaration}": "{declaration_id}",
                    "new-declaration": "{declaration_id}"}
    listed = set()
    for method, path, _, _ in MATRIX:
        for ours, theirs in placeholders.items():
            path = path.replace(ours, theirs)
        listed.add((method, path))
    assert described == listed | PUBLIC | OWN_ACCOUNT
