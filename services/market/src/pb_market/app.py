"""Builds the market service's FastAPI app: the kit, the open-licence router, the recovery job."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from pb_market.deals_client import DealsClient
from pb_market.declarations.acceptances import recover_acceptances
from pb_market.declarations.title import recover_pending
from pb_market.declarations.views import router as declarations_router
from pb_market.demands.service import expire_due
from pb_market.demands.views import router as demands_router
from pb_market.events import EVENTS
from pb_market.matching import read_model
from pb_market.matching.rank import Index
from pb_market.matching.service import match_due
from pb_market.models import CONFLICTS, kit_tables
from pb_market.settings import Settings
from pbkit.consumer import ConsumerSpec
from pbkit.dates import business_today
from pbkit.kit import ServiceKit
from pbkit.registry_client import RegistryClient
from pbkit.service import create_app

DESCRIPTION = """\
Open licensing (专利开放许可, Patent Law 2020 arts. 50–52): the declarations of patent owners, their public
catalogue, and the acceptances that turn one into a licence (CONTRACT.md §9).

- **Who declares.** An admin, or a partner whose `org_id` is among the declarants (an institution's own
  technology-transfer platform; otherwise **403**). The declarants must be every current owner of every patent.
- **What a declaration names** (Implementing Rules 2023 art. 85): the patents, the declarants, the fee standard
  (`one_time` with its `amount`; `royalty` with a `rate` of sales, a decimal fraction of up to 4 places, and an
  optional `minimum` for the term; `annual` with its `amount` per year), `term_years`, the contact, and an
  optional description of the product or field. Money is yuan in decimal strings. A utility model or design
  needs the reference of its patent evaluation report (专利权评价报告) in `evaluation_reports` (**422**).
  An unknown patent or declarant is **422**.
- **Refusals (409)** are decided by the registry, the arbiter of each patent's title (docs/TITLE_ARBITER.md),
  under the patents' locks and against its own rows, so that two declarations, or a declaration and an
  exclusive licence, racing for one patent never both pass: a patent that is not valid or has no grant date;
  one under a recorded exclusive (独占) or sole (排他) licence within its term; one pledged without the
  pledgee's recorded consent (`pledgee_consent: true`); one already under an active declaration.
  **Not tracked:** unpaid annual fees and suspended procedures (ownership disputes, preservation), which the
  Implementing Rules also name (art. 86), are not known to PatentBridge, so they are not checked; the declarant
  answers for them.
- While a declaration stands, the registry refuses exclusive and sole licences on its patents. A withdrawal
  (`POST /api/v1/open-licences/{id}/withdraw`) lifts that; licences already given stay valid.
- **The catalogue** (`GET /api/v1/open-licences`) is readable by every role, with cursor pagination, and filters
  by IPC prefix, industry, prefecture, fee basis, fee range (of `fee.due_on_acceptance`) and Chinese full text
  (jieba segmentation) over the patents' titles and the description.
- A declaration being decided by the registry is not shown; a registry that cannot be reached is **503**, and a
  retry, or this service's recovery job, finishes it.
- **Taking a licence** (`POST /api/v1/open-licences/{id}/acceptances`, a partner or admin, for an SME: an
  enterprise of size micro, small or medium, not a declarant; **422** otherwise): the written notice (书面通知)
  of art. 51. It creates, through the transactions service's public API and with the caller's token, an `open`
  licence deal of every declared patent from all the declarants, on the declared terms: `contract_date` the day
  of acceptance, the term `term_years` from it, and `contract_amount` what the standard makes due at once (the
  one-time fee; the annual fee times the years; a royalty's minimum for the term, `0.00` without one). The deal
  is keyed by the acceptance (its `external_ref` and `Idempotency-Key`), so a retry makes no second deal. It is
  recorded as any deal (by the admin, decided by the registry), then paid, and metrics counts it as any licence.
  The acceptance keeps the deal's id and the fee due. A withdrawn declaration takes no acceptance (**409**); a
  refusal by the transactions service is its status (409, 422); an unreachable one is **503** (retry).
- **Technology demands** (技术需求, `POST /api/v1/demands`, a partner or admin, for an SME): what an SME looks for,
  in Chinese, with optional IPC classes, its industry, a budget range, its prefecture and an expiry date; readable
  by every role (`GET /api/v1/demands`, `GET /api/v1/demands/{id}`). A leader-elected job closes a demand the day
  after its expiry date.
- Every POST honours `Idempotency-Key`. Events: `pb.open_licence.declared|withdrawn|accepted.v1` on
  `pb.market.open_licences` (subject: the declaration); `pb.demand.posted|expired.v1` on `pb.market.demands`
  (subject: the demand).
"""


def build_app(settings: Settings | None = None, *, registry: RegistryClient | None = None,
              deals: DealsClient | None = None) -> FastAPI:
    """`registry` and `deals` replace the clients the settings would build (tests pass their own)."""
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EVENTS, conflicts=CONFLICTS, registry=registry)
    kit.add_title_recovery(recover_pending)
    deals = deals or DealsClient(settings.transactions_url)
    # Acceptances left pending (the transactions service unreachable, an answer lost) are driven to their end, with
    # this service's own credential (PB_SERVICE_CLIENT_ID), as the declarations' steps are.
    kit.add_periodic("acceptance-recovery", settings.pending_recovery_interval_s, lambda: recover_acceptances(
        uow_factory=kit.uow, older_than=timedelta(seconds=settings.pending_recovery_after_s),
        make_deal=lambda acceptance_id, deal: deals.open_licence_deal(
            token=kit.registry.service_token(), acceptance_id=acceptance_id, deal=deal),
    ))
    # Demands past their expiry date are closed by one replica at a time, on the programme's calendar day.
    kit.add_periodic("demand-expiry", settings.demand_expiry_interval_s, lambda: expire_due(
        uow_factory=kit.uow, today=business_today(settings.business_timezone)), leader_only=True)
    kit.add_consumer(ConsumerSpec(read_model.CONSUMER, read_model.TOPICS, read_model.apply))
    # Matches are computed off the request path: one replica ranks the demands marked due (posted, or candidates changed).
    # Its index stays in memory between rounds, updated with the candidates that changed.
    matching_index = Index()
    kit.add_periodic("matching", settings.matching_interval_s, lambda: match_due(
        uow_factory=kit.uow, read_session=kit.read_session, index=matching_index), leader_only=True)
    app = create_app(kit, title="PatentBridge Market", description=DESCRIPTION,
                     routers=[declarations_router, demands_router])
    app.state.deals = deals
    return app
