"""Builds the product-filing service's FastAPI app: the kit and the filings router."""

from fastapi import FastAPI

from pb_product_filing.events import EVENTS
from pb_product_filing.filings.views import router as filings_router
from pb_product_filing.models import CONFLICTS, kit_tables
from pb_product_filing.settings import Settings
from pbkit.kit import ServiceKit
from pbkit.registry_client import RegistryClient
from pbkit.service import create_app

DESCRIPTION = """\
Patent-product filings (专利产品备案) and their review, as CONTRACT.md §6 describes them.

Where the contract is silent, this service decides:

- **Who may file.** The filer must be a registered organization of kind `enterprise`. A
  `state_owned_enterprise` is refused: the programme targets SMEs, and its indicators count
  state-owned enterprises with the institutions (universities, research institutes), not as SMEs.
- **Which patents.** At least one and at most 100, each listed once (a number given twice in two
  spellings is still a duplicate). Each must be in the registry with status `valid` and be owned
  by or licensed to the filer (`owner_ids` or `licensee_ids`). The registry is asked with the
  caller's own token; when it cannot be reached the answer is 503 and nothing is written.
- **Money.** `sales_last_year` and `export_last_year` are optional yuan strings; the export value
  is part of the sales, so it may not exceed them.
- **Region.** `region_code` is where the product is made, checked like the registry's; a retired
  code (5222xx, 5224xx) is stored, as in the registry, as the code that replaced it, so the
  `prefecture_code` is always one of today's prefectures. `industry` is the
  product's own and stays null when not given (the filer's industry is in the `filer` snapshot).
- **Review** (admin only): `submitted → approved | rejected`, `approved → revoked`; any other
  move is 409. `approved_on` may be today or earlier in the programme's time zone (Asia/Shanghai),
  never later; earlier dates let the office record approvals given before this service existed.
  A reason is 1–1000 characters.
- **Who sees what.** A partner sees only the filings it submitted (another's is 404); admin and
  viewer see all; a prefecture user (a staff viewer limited to one 市州) sees the filings whose region is
  in its prefecture (another's is 404); a bank has no business here (403).
- **Retries.** Every POST, the review actions included, honours `Idempotency-Key`.
- **Events.** `pb.filing.submitted|approved|rejected|revoked.v1` on `pb.product_filing.filings`,
  each carrying the whole filing as docs/EVENTS.md lays it out.
"""


def build_app(settings: Settings | None = None, *, registry: RegistryClient | None = None) -> FastAPI:
    """`registry` replaces the client the settings would build (tests pass a fake's)."""
    kit = ServiceKit.from_settings(
        settings or Settings(), kit_tables, catalog=EVENTS, conflicts=CONFLICTS, registry=registry
    )
    return create_app(kit, title="PatentBridge Product filing", description=DESCRIPTION, routers=[filings_router])
