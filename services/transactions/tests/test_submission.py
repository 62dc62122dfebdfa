"""Submitting a deal: the body's own rules, the registry's facts, snapshots and the submitted event."""

from __future__ import annotations

import pytest

from pbkit.domain import check_character

DEALS = "/api/v1/deals"


def test_a_transfer_is_submitted_with_canonical_numbers_and_party_snapshots(service, registry, deal_body):
    body = deal_body(patents=2, external_ref="GZ-TP-2022-0001")
    response = service.post(DEALS, body, "partner", "platform-1")
    assert response.status_code == 201, response.text
    deal = response.json()
    assert deal["status"] == "submitted"
    assert deal["patent_numbers"] == [n.removeprefix("ZL") for n in body["patent_numbers"]]
    assert deal["patent_count"] == 2
    assert deal["contract_amount"] == "1250000.00" and deal["received_amount"] == "0.00"
    assert deal["created_by"] == "platform-1" and deal["external_ref"] == "GZ-TP-2022-0001"
    seller = registry.organizations[body["transferor_ids"][0]]
    assert deal["transferors"] == [{
        "org_id": seller["id"], "name": "贵州大学", "kind": "university", "size": None,
        "region_code": "520100", "prefecture_code": "520100", "industry": None,
    }]
    assert deal["transferee"]["kind"] == "enterprise" and deal["transferee"]["size"] == "small"
    assert service.get(f"{DEALS}/{deal['id']}").json() == deal


def test_the_snapshot_is_the_registry_at_submission_not_later(service, registry, submitted):
    deal = submitted()
    registry.organizations[deal["transferee_id"]]["size"] = "large"
    assert service.get(f"{DEALS}/{deal['id']}").json()["transferee"]["size"] == "small"


def test_the_submitted_event_carries_the_whole_deal(service, deal_body):
    deal = service.post(DEALS, deal_body("license", license_type="sole"), "partner", "platform-1").json()
    (event,) = service.events(deal["id"])
    assert event["type"] == "pb.deal.submitted.v1" and event["topic"] == "pb.transactions.deals"
    assert event["source"] == "/pb/transactions" and event["sequence"] == 1
    assert event["data"] == {
        "deal_id": deal["id"], "kind": "license", "license_type": "sole",
        "patent_numbers": deal["patent_numbers"], "patent_count": 1,
        "transferors": deal["transferors"], "transferee": deal["transferee"],
        "contract_date": "2022-03-01", "contract_amount": "1250000.00", "pledgee_consent": False,
        "external_ref": None, "status": "submitted", "recorded_on": None, "recordation_no": None,
        "was_recorded": False, "cancelled_on": None, "cancel_reason": None, "received_amount": "0.00",
        "created_by": "platform-1", "term_start": None, "term_end": None,
    }


def test_submission_is_audited(service, submitted):
    deal = submitted("partner", "platform-1")
    (entry,) = service.get("/api/v1/audit", target_id=deal["id"]).json()["items"]
    assert (entry["actor"], entry["action"], entry["target_type"]) == ("platform-1", "deal.create", "deal")


def _fields(response) -> list[tuple]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [tuple(e["loc"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "sale"}, ("body", "kind")),
        ({"kind": "license"}, ("body", "license_type")),
        ({"license_type": "ordinary"}, ("body", "license_type")),
        ({"kind": "license", "license_type": "perpetual"}, ("body", "license_type")),
        ({"patent_numbers": []}, ("body", "patent_numbers")),
        ({"patent_numbers": ["202110123456.8"]}, ("body", "patent_numbers", 0)),
        ({"patent_numbers": ["CN112345678A"]}, ("body", "patent_numbers", 0)),
        ({"transferor_ids": []}, ("body", "transferor_ids")),
        ({"contract_date": "2022-02-30"}, ("body", "contract_date")),
        ({"contract_amount": None}, ("body", "contract_amount")),
        ({"pledgee_consent": "perhaps"}, ("body", "pledgee_consent")),
        ({"external_ref": ""}, ("body", "external_ref")),
        ({"surprise": 1}, ("body", "surprise")),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field_and_writes_nothing(service, registry, deal_body, change, field):
    body = deal_body() | change
    before = registry.lookups()
    assert field in _fields(service.post(DEALS, body))
    assert service.written() == {"deals": 0, "payments": 0, "events": 0, "audit": 0}
    assert registry.lookups() == before


def test_a_patent_listed_twice_in_any_form_is_a_422(service, deal_body):
    body = deal_body()
    number = body["patent_numbers"][0].removeprefix("ZL")
    body["patent_numbers"] = [number, number.replace(".", "")]
    response = service.post(DEALS, body)
    assert _fields(response) == [("body", "patent_numbers")]
    assert "listed twice" in response.json()["errors"][0]["msg"]


def test_a_transferor_listed_twice_and_a_transferee_among_transferors_are_422(service, deal_body):
    body = deal_body()
    seller = body["transferor_ids"][0]
    assert _fields(service.post(DEALS, body | {"transferor_ids": [seller, seller]})) == [("body", "transferor_ids")]
    assert _fields(service.post(DEALS, body | {"transferee_id": seller})) == [("body", "transferee_id")]


def test_every_offending_item_is_named_at_once(service, registry, deal_body):
    body = deal_body(patents=3)
    registry.patents[body["patent_numbers"][1].removeprefix("ZL")]["status"] = "lapsed"
    body["patent_numbers"][2] = "ZL" + registry.patent(registry.organization())  # someone else's
    body["transferee_id"] = "no-such-org"
    response = service.post(DEALS, body)
    fields = _fields(response)
    assert ("body", "patent_numbers", 1) in fields
    assert ("body", "transferor_ids", 0) in fields  # not an owner of the third patent
    assert ("body", "transferee_id") in fields
    assert ("body", "patent_numbers", 0) not in fields
    assert service.written()["deals"] == 0


def test_an_unknown_patent_and_an_unknown_transferor_are_named(service, registry, deal_body):
    body = deal_body()
    digits = "202110999999"
    body["patent_numbers"].append(f"{digits}.{check_character(digits)}")
    body["transferor_ids"].append("ghost-org")
    response = service.post(DEALS, body)
    fields = _fields(response)
    assert ("body", "patent_numbers", 1) in fields and ("body", "transferor_ids", 1) in fields
    msgs = " ".join(e["msg"] for e in response.json()["errors"])
    assert "no patent" in msgs and "no organization ghost-org" in msgs


@pytest.mark.parametrize("kind", ["transfer", "equity_contribution"])
def test_every_co_owner_must_join_a_change_of_title(service, registry, deal_body, kind):
    body = deal_body(kind)
    co_owner = registry.organization(name="贵州省某研究院", kind="research_institute")
    number = body["patent_numbers"][0].removeprefix("ZL")
    registry.set_owners(number, body["transferor_ids"][0], co_owner)
    response = service.post(DEALS, body)
    assert _fields(response) == [("body", "transferor_ids")]
    assert co_owner in response.json()["errors"][0]["msg"]
    assert service.post(DEALS, body | {"transferor_ids": [body["transferor_ids"][0], co_owner]}).status_code == 201


def test_one_co_owner_may_grant_a_licence(service, registry, deal_body):
    body = deal_body("license")
    co_owner = registry.organization(kind="research_institute")
    registry.set_owners(body["patent_numbers"][0].removeprefix("ZL"), body["transferor_ids"][0], co_owner)
    assert service.post(DEALS, body).status_code == 201


@pytest.mark.parametrize("status", ["lapsed", "expired", "invalidated"])
def test_only_a_valid_patent_can_be_dealt_in(service, registry, deal_body, status):
    body = deal_body()
    registry.patents[body["patent_numbers"][0].removeprefix("ZL")]["status"] = status
    response = service.post(DEALS, body)
    assert _fields(response) == [("body", "patent_numbers", 0)]
    assert status in response.json()["errors"][0]["msg"]


def test_the_registry_is_asked_with_the_callers_own_token(service, registry, deal_body):
    headers = service.as_("partner", "platform-1")
    assert service.http.post(DEALS, json=deal_body(), headers=headers).status_code == 201
    assert {r.headers["authorization"] for r in registry.requests} == {headers["Authorization"]}


def test_a_registry_outage_is_a_503_and_nothing_is_written(service, registry, deal_body):
    registry.down = True
    response = service.post(DEALS, deal_body(), "partner", "platform-1", **{"Idempotency-Key": "k-1"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "registry" in response.json()["detail"]
    assert service.written() == {"deals": 0, "payments": 0, "events": 0, "audit": 0}
    registry.down = False
    retried = service.post(DEALS, deal_body(), "partner", "platform-1", **{"Idempotency-Key": "k-1"})
    assert retried.status_code == 201  # the failed attempt did not burn the key


@pytest.mark.parametrize("status", [500, 502, 403])
def test_a_registry_that_fails_or_refuses_the_lookup_is_a_503(service, registry, deal_body, status):
    registry.failing_with = status
    response = service.post(DEALS, deal_body())
    assert response.status_code == 503, response.text
    assert service.written()["deals"] == 0


class TestLicenceTypes:
    """DOMAIN.md: an open licence is not given on a patent under an exclusive or sole licence within its term. The
    other way round (no exclusive or sole licence while an open-licence declaration stands) is the registry's
    decision at recording, where the declarations are (services/market/tests/test_declarations.py)."""

    def _licence(self, service, registry, seller, number, license_type, **terms):
        body = {
            "kind": "license", "license_type": license_type, "patent_numbers": [number],
            "transferor_ids": [seller], "transferee_id": registry.organization(),
            "contract_date": "2022-03-01", "contract_amount": "10000.00",
        } | terms
        return service.post(DEALS, body)

    @pytest.mark.parametrize(("first", "second"), [("exclusive", "open"), ("sole", "open")])
    def test_refused_under_a_recorded_licence_of_the_other_sort(self, service, registry, first, second):
        seller = registry.organization(kind="university")
        number = registry.patent(seller)
        deal = self._licence(service, registry, seller, number, first).json()
        assert self._licence(service, registry, seller, number, second).status_code == 201  # not recorded yet
        assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
        refused = self._licence(service, registry, seller, number, second)
        assert refused.status_code == 409 and deal["id"] in refused.json()["detail"]

    def test_an_exclusive_licence_excludes_an_open_one_only_within_its_term(self, service, registry):
        seller = registry.organization(kind="university")
        ended, running = registry.patent(seller), registry.patent(seller)
        for number, term_end in ((ended, "2022-02-28"), (running, "2022-03-01")):
            deal = self._licence(service, registry, seller, number, "exclusive", term_start="2021-01-01",
                                 term_end=term_end, contract_date="2021-01-01").json()
            assert (deal["term_start"], deal["term_end"]) == ("2021-01-01", term_end)
            assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-03-05"}).status_code == 200
        assert self._licence(service, registry, seller, ended, "open").status_code == 201  # contract date 2022-03-01
        assert self._licence(service, registry, seller, running, "open").status_code == 409

    def test_a_term_belongs_to_licences_and_ends_after_it_starts(self, service, registry):
        seller = registry.organization(kind="university")
        number = registry.patent(seller)
        backwards = self._licence(service, registry, seller, number, "ordinary", term_start="2023-01-01",
                                  term_end="2022-12-31")
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["loc"] == ["body", "term_end"]
        transfer = {"kind": "transfer", "patent_numbers": [number], "transferor_ids": [seller],
                    "transferee_id": registry.organization(), "contract_date": "2022-03-01",
                    "contract_amount": "10000.00", "term_start": "2022-03-01"}
        assert service.post(DEALS, transfer).status_code == 422
        assert service.written()["deals"] == 0

    @pytest.mark.parametrize(("first", "second"), [("exclusive", "ordinary"), ("open", "ordinary"),
                                                   ("ordinary", "open"), ("ordinary", "exclusive"),
                                                   ("open", "exclusive"), ("open", "sole")])
    def test_other_combinations_are_allowed(self, service, registry, first, second):
        seller = registry.organization(kind="university")
        number = registry.patent(seller)
        deal = self._licence(service, registry, seller, number, first).json()
        assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
        assert self._licence(service, registry, seller, number, second).status_code == 201

    def test_at_recording_the_registry_decides_and_its_refusal_is_the_answer(self, service, registry):
        # Two licences submitted before either was recorded: the registry judges the second against the first.
        seller = registry.organization(kind="university")
        number = registry.patent(seller)
        exclusive = self._licence(service, registry, seller, number, "exclusive").json()
        open_licence = self._licence(service, registry, seller, number, "open").json()
        assert service.post(f"{DEALS}/{exclusive['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
        registry.refusing = f"patent {number} is under the recorded exclusive licence {exclusive['id']}"
        refused = service.post(f"{DEALS}/{open_licence['id']}/record", {"recorded_on": "2022-04-02"})
        assert refused.status_code == 409 and registry.refusing in refused.json()["detail"]
        assert service.get(f"{DEALS}/{open_licence['id']}").json()["status"] == "submitted"
        registry.refusing = None  # the refusal left nothing pending: a later try is judged afresh
        assert service.post(f"{DEALS}/{open_licence['id']}/record", {"recorded_on": "2022-04-02"}).status_code == 200

    def test_a_cancelled_licence_no_longer_stands_in_the_way(self, service, registry):
        seller = registry.organization(kind="university")
        number = registry.patent(seller)
        exclusive = self._licence(service, registry, seller, number, "exclusive").json()
        service.post(f"{DEALS}/{exclusive['id']}/record", {"recorded_on": "2022-04-01"})
        service.post(f"{DEALS}/{exclusive['id']}/cancel", {"reason": "licence terminated"})
        assert self._licence(service, registry, seller, number, "open").status_code == 201
