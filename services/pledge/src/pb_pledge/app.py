"""Builds the pledge service's FastAPI app: the kit and the pledge routes."""

from __future__ import annotations

from fastapi import FastAPI

from pb_pledge.events import EVENTS
from pb_pledge.models import CONFLICTS, kit_tables
from pb_pledge.pledges.title import recover_pending
from pb_pledge.pledges.views import router as pledges_router
from pb_pledge.settings import Settings
from pbkit.kit import ServiceKit
from pbkit.registry_client import RegistryClient
from pbkit.service import create_app

DESCRIPTION = """\
Patent pledge registrations (专利权质押登记) posted by banks (CONTRACT.md §5).

- **Pledgee.** A bank's pledges are its own organization's (`org_id` of its token). A bank may omit
  `pledgee_id`; naming another organization is **403**. An admin acting for a bank must give
  `pledgee_id`, a registered bank organization (**422** otherwise).
- **Registry checks**, made with the caller's token: the pledgor exists and is not the pledgee; every
  patent exists, is `valid` and is owned by the pledgor; a patent with other co-owners needs
  `co_owner_consent: true` (an addition to the contract); `term_end` may not run past any patent's
  expiry (invention 20, utility model 10, design 15 years from filing, 10 for designs filed before
  2021-06-01; the term ends the day before the anniversary). A failed check is **422** naming the field
  or the item. When the registry cannot be reached the answer is **503** and nothing is written.
- **One active pledge per patent**, decided by the registry, the arbiter of title (docs/TITLE_ARBITER.md):
  it encumbers the patents under their locks, against its own rows, so that a patent just transferred
  away, or pledged to another bank a moment ago, is **409**, also when requests race for it. This
  service's own database holds the rule among its pledges too. Releasing frees the patents in the
  registry before the answer.
- **Tenant isolation.** A bank sees, lists and releases only its own pledges; another bank's pledge is
  **404**. Admin and viewer see all; a prefecture user (a staff viewer limited to one 市州) sees the pledges
  whose pledgor is in its prefecture, and any other is **404**; partners have no access (**403**).
- Registration and release honour `Idempotency-Key`.
"""


def build_app(settings: Settings | None = None, *, registry: RegistryClient | None = None) -> FastAPI:
    """`registry` replaces the client the kit would build from the settings (tests pass a fake registry's)."""
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EVENTS, conflicts=CONFLICTS, registry=registry)
    # Registrations and releases left pending (a crash, a registry outage) are driven to their end.
    kit.add_title_recovery(recover_pending)
    return create_app(kit, title="PatentBridge Pledge", description=DESCRIPTION, routers=[pledges_router])
