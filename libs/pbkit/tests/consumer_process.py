"""A consumer in a process of its own, so a test can kill it mid-batch (SIGKILL) and start it again.

usage: python consumer_process.py DATABASE_URL BUS(local|kafka) BUS_ARG TOPIC_PREFIX GROUP_ID [KILL_AT]

With KILL_AT, the process kills itself (SIGKILL, no clean-up of any kind) in the middle of applying its
KILL_AT-th event: inside the handler, after the effect is written but before the transaction commits,
and in the middle of a polled batch.
"""

import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import Pipeline, make_bus, record_event  # noqa: E402
from pbkit.bus.namespaced import NamespacedBus  # noqa: E402


def main() -> None:
    database_url, kind, bus_arg, prefix, group_id = sys.argv[1:6]
    kill_at = int(sys.argv[6]) if len(sys.argv) > 6 else None
    calls = 0

    def record_then_maybe_die(uow, event):
        nonlocal calls
        calls += 1
        record_event(uow, event)
        if calls == kill_at:
            uow.session.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    if kind == "local":
        from pbkit.bus.local import LocalLogBus

        bus = LocalLogBus(bus_arg)
    else:
        bus = NamespacedBus(make_bus("kafka", kafka_bootstrap=bus_arg).inner, prefix)
    pipeline = Pipeline(database_url, bus, group_id, handler=record_then_maybe_die)
    pipeline.consumer.run(threading.Event())


if __name__ == "__main__":
    main()
