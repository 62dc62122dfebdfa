"""The unit of work: the single commit boundary of a service.

Everything a use case changes, the events it raises (outbox rows) and its
audit entry are written through one session and committed together by
`uow.commit()`. Leaving the block without committing rolls everything back.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from pbkit.context import SYSTEM, Actor, request_id_var
from pbkit.db import KitTables
from pbkit.events import REQUEST_ID_HEADER, Event, EventCatalog, rfc3339, utcnow
from pbkit.ids import new_id


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        kit: KitTables,
        *,
        source: str,
        catalog: EventCatalog,
        actor: Actor = SYSTEM,
        request_id: str | None = None,
    ):
        self._session_factory = session_factory
        self.kit = kit
        self.source = source
        self.catalog = catalog
        self.actor = actor
        self.request_id = request_id or request_id_var.get()
        self.session: Session
        self.emitted: list[Event] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.emitted = []
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
        self.emitted = []

    def emit(
        self, *, event_type: str, aggregate_type: str, aggregate_id: str, data: dict[str, Any], at: datetime | None = None
    ) -> Event:
        """Write an event into the outbox, in this transaction, with the aggregate's next sequence. `at`: the
        event's time, when its data carries the same moment (one reading of the clock for both); else now."""
        event = Event(
            id=new_id(),
            type=event_type,
            source=self.source,
            subject=aggregate_id,
            time=rfc3339(at or utcnow()),
            sequence=self._next_sequence(aggregate_type, aggregate_id),
            data=data,
        )
        headers = {"content-type": "application/cloudevents+json", "ce_type": event_type}
        if self.request_id:
            headers[REQUEST_ID_HEADER] = self.request_id
        self.session.execute(
            insert(self.kit.outbox).values(
                id=event.id,
                aggregatetype=aggregate_type,
                aggregateid=aggregate_id,
                type=event_type,
                topic=self.catalog.topic_for(event_type),
                sequence=event.sequence,
                payload=event.to_json(),
                headers=headers,
                created_at=utcnow(),
                attempts=0,
            )
        )
        self.emitted.append(event)
        return event

    def _next_sequence(self, aggregate_type: str, aggregate_id: str) -> int:
        # An upsert that also locks the aggregate's row until commit: concurrent writers to one
        # aggregate get consecutive sequences and their outbox rows land in commit order.
        table = self.kit.event_sequences
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(table)
            .values(aggregatetype=aggregate_type, aggregateid=aggregate_id, last_sequence=1)
            .on_conflict_do_update(
                index_elements=[table.c.aggregatetype, table.c.aggregateid],
                set_={"last_sequence": table.c.last_sequence + 1},
            )
            .returning(table.c.last_sequence)
        )
        return int(self.session.execute(stmt).scalar_one())

    def audit(
        self,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.execute(
            insert(self.kit.audit_log).values(
                id=new_id(),
                at=utcnow(),
                actor=self.actor.client_id,
                role=self.actor.role,
                action=action,
                target_type=target_type,
                target_id=target_id,
                request_id=self.request_id,
                details=json.loads(json.dumps(details, default=str)) if details is not None else None,
            )
        )
