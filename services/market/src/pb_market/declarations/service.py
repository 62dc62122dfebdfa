"""The rules of a declaration this service owns: what it checks early, what it stores, what the catalogue finds.

Whether a patent may be put under an open licence at all (valid and granted, declared by all its owners, under no
exclusive or sole licence within its term, not pledged without consent, not already declared) is the registry's
decision, under the patents' locks (docs/TITLE_ARBITER.md, `title.py`). What is checked here, against the
registry's answers, only refuses early (422) what cannot be declared in any state: unknown patents or declarants,
a utility model or design without its evaluation report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, select

from pb_market.declarations.schemas import OpenLicenceIn
from pb_market.models import OpenLicence, OpenLicenceIpc, OpenLicenceTerm
from pb_market.text import query_terms, terms
from pbkit.context import Actor
from pbkit.errors import Forbidden, NotFound, RuleBroken
from pbkit.parties import party_snapshot
from pbkit.queries import at_least, at_most, equals, where_given
from pbkit.registry_client import RegistryLookups

AGGREGATE = "open_licence"
PENDING, ACTIVE, WITHDRAWN = "pending", "active", "withdrawn"
NEEDS_EVALUATION_REPORT = ("utility_model", "design")


@dataclass(frozen=True)
class Snapshot:
    """The patents and declarants as the registry answered them, before the declaration is written."""

    patents: list[dict[str, Any]]
    declarants: list[dict[str, Any]]


def check_declaration(*, actor: Actor, registry: RegistryLookups, body: OpenLicenceIn) -> Snapshot:
    """The precheck: the declaration against the registry's answers, asked with the caller's token."""
    if actor.role == "partner" and actor.org_id not in body.declarant_ids:
        raise Forbidden("a partner declares open licences only for its own organization (org_id among declarant_ids)")
    registry.prefetch(organization_ids=body.declarant_ids, patent_numbers=body.patent_numbers)
    errors: list[dict[str, Any]] = []
    declarants = []
    for i, org_id in enumerate(body.declarant_ids):
        org = registry.organization(org_id)
        if org is None:
            errors.append({"loc": ["body", "declarant_ids", i], "msg": f"no organization {org_id} in the registry"})
        else:
            declarants.append(party_snapshot(org))
    patents = []
    for i, number in enumerate(body.patent_numbers):
        patent = registry.patent(number)
        if patent is None:
            errors.append({"loc": ["body", "patent_numbers", i], "msg": f"no patent {number} in the registry"})
            continue
        if patent["type"] in NEEDS_EVALUATION_REPORT and number not in body.evaluation_reports:
            errors.append({"loc": ["body", "evaluation_reports", number],
                           "msg": f"patent {number} is a {patent['type']}: its declaration needs the reference of its "
                                  "patent evaluation report (专利权评价报告)"})
        patents.append({"number": number, "title": patent["title"], "type": patent["type"], "ipc": list(patent["ipc"])})
    errors += [{"loc": ["body", "evaluation_reports", number], "msg": f"patent {number} is not declared here"}
               for number in body.evaluation_reports if number not in body.patent_numbers]
    if errors:
        raise RuleBroken("the open licence cannot be declared: " + "; ".join(e["msg"] for e in errors), errors=errors)
    return Snapshot(patents=patents, declarants=declarants)


def due_fen(body: OpenLicenceIn) -> int:
    """What an acceptance owes at once under the standard, the contract amount of its deal: the one-time fee; the
    annual fee for every year of the term; for a royalty, its minimum for the term (0 without one)."""
    fee = body.fee
    if fee.basis == "one_time":
        return fee.amount
    if fee.basis == "annual":
        return fee.amount * body.term_years
    return fee.minimum or 0


def index_rows(row: OpenLicence) -> None:
    """The declaration's IPC symbols and its words (titles and description), for the catalogue's filters."""
    symbols = dict.fromkeys(symbol for patent in row.patents for symbol in patent["ipc"])
    row.ipc = [OpenLicenceIpc(symbol=symbol) for symbol in symbols]
    text = " ".join([*(patent["title"] for patent in row.patents), row.description or ""])
    row.terms = [OpenLicenceTerm(term=term) for term in terms(text)]


def find_declaration(session: Any, declaration_id: str, *, for_update: bool = False) -> OpenLicence:
    row = session.get(OpenLicence, declaration_id, with_for_update=for_update)
    if row is None or row.status == PENDING:
        raise NotFound(f"no open-licence declaration {declaration_id}")
    return row


def refuse_other_partners(actor: Actor, row: OpenLicence) -> None:
    if actor.role == "partner" and actor.org_id not in row.declarant_ids:
        raise Forbidden("a partner withdraws only its own organization's open licences")


@dataclass(frozen=True)
class CatalogueFilter:
    status: str | None = ACTIVE
    ipc: str | None = None
    industry: str | None = None
    prefecture_code: str | None = None
    fee_basis: str | None = None
    fee_min: int | None = None
    fee_max: int | None = None
    q: str | None = None
    declared_from: date | None = None


def catalogue(f: CatalogueFilter) -> Select:
    """The declarations the filter names (never a pending one)."""
    stmt = select(OpenLicence).where(OpenLicence.status != PENDING)
    stmt = where_given(
        stmt,
        (f.status, equals(OpenLicence.status)),
        (f.industry, equals(OpenLicence.industry)),
        (f.prefecture_code, equals(OpenLicence.prefecture_code)),
        (f.fee_basis, equals(OpenLicence.fee_basis)),
        (f.fee_min, at_least(OpenLicence.due_fen)),
        (f.fee_max, at_most(OpenLicence.due_fen)),
    )
    if f.ipc:
        prefix = f.ipc.replace("\\", "").replace("%", "").replace("_", "")
        stmt = stmt.where(exists().where(OpenLicenceIpc.declaration_id == OpenLicence.id,
                                         OpenLicenceIpc.symbol.startswith(prefix)))
    if f.q is not None:
        words = query_terms(f.q)
        if not words:
            return stmt.where(OpenLicence.id.is_(None))  # a query of no words matches nothing
        for word in words:
            stmt = stmt.where(exists().where(OpenLicenceTerm.declaration_id == OpenLicence.id, OpenLicenceTerm.term == word))
    return stmt
