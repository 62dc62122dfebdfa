"""Event bus: the port and its two adapters, chosen by `PB_BUS`."""

from __future__ import annotations

from pbkit.bus.base import BusError, Consumer, Delivery, EventBus, Message, Reader
from pbkit.settings import ServiceSettings


def bus_from_settings(settings: ServiceSettings) -> EventBus:
    bus = _adapter(settings)
    if settings.topic_prefix:
        from pbkit.bus.namespaced import NamespacedBus

        return NamespacedBus(bus, settings.topic_prefix)
    return bus


def _adapter(settings: ServiceSettings) -> EventBus:
    if settings.bus == "kafka":
        from pbkit.bus.kafka import KafkaBus

        return KafkaBus(
            settings.kafka_bootstrap_servers,
            client_id=f"pb-{settings.service_name}",
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
            min_insync_replicas=settings.kafka_min_insync_replicas,
        )
    from pbkit.bus.local import LocalLogBus

    assert settings.local_bus_path is not None
    return LocalLogBus(settings.local_bus_path)


__all__ = ["BusError", "Consumer", "Delivery", "EventBus", "Message", "Reader", "bus_from_settings"]
