"""What the market views receive: the roles of CONTRACT.md §9 and the kit's typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pb_market.declarations.acceptances import DealMaker
from pbkit.context import Actor
from pbkit.web.auth import require_roles
from pbkit.web.deps import ActorUow, Arbiter, Command, CurrentActor, Kit, Registry, Today
from pbkit.web.pagination import Pagination

Declarant = Annotated[Actor, Depends(require_roles("admin", "partner"))]
"""Declares and withdraws open licences: the office, or a partner whose organization is the owner (its own
technology-transfer platform); takes licences for SMEs."""
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "bank", "viewer", "prefecture"))]
"""The catalogue is public to every role."""

AcceptanceReader = Annotated[Actor, Depends(require_roles("admin", "partner", "viewer"))]
"""Reads acceptances: the office all of them, a partner those it made."""


async def _deal_maker(request: Request, _actor: CurrentActor) -> DealMaker:
    # The transactions service is asked with the caller's own token, as if the caller had submitted the deal.
    deals, token = request.app.state.deals, request.state.bearer_token
    return lambda acceptance_id, deal: deals.open_licence_deal(token=token, acceptance_id=acceptance_id, deal=deal)


Deals = Annotated[DealMaker, Depends(_deal_maker)]
"""Makes the `open` licence deal of an acceptance through the transactions service's public API."""

__all__ = ["AcceptanceReader", "Deals", "ActorUow", "Arbiter", "Command", "Declarant", "Kit", "Pagination", "Reader", "Registry", "Today"]
