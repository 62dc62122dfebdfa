"""A consumer in a process of its own, so a test can kill it mid-batch (SIGKILL) and start it again.

usage: python consumer_process.py DATABASE_URL BUS(local|kafka) BUS_ARG TOPIC_PREFIX GROUP_ID
"""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import Pipeline, make_bus, record_event  # noqa: E402

from pbkit.bus.namespaced import NamespacedBus  # noqa: E402


def slow_record(uow, event):
    time.sleep(0.05)  # slow enough that a kill lands mid-batch
    record_event(uow, event)


def main() -> None:
    database_url, kind, bus_arg, prefix, group_id = sys.argv[1:6]
    if kind == "local":
        from pbkit.bus.local import LocalLogBus

        bus = LocalLogBus(bus_arg)
    else:
        bus = NamespacedBus(make_bus("kafka", kafka_bootstrap=bus_arg).inner, prefix)
    pipeline = Pipeline(database_url, bus, group_id, handler=slow_record)
    pipeline.consumer.run(threading.Event())


if __name__ == "__main__":
    main()
