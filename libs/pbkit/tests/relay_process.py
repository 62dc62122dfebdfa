"""An outbox relay in a process of its own, so a test can kill it (SIGKILL) while it leads.

usage: python relay_process.py DATABASE_URL KAFKA_BOOTSTRAP TOPIC_PREFIX PUBLISH_LOG

Every message it hands to the broker is a line `<pid> <monotonic time> <key>` appended to PUBLISH_LOG, so that
the test can tell which relay published what, and when (the monotonic clock is the machine's, shared by every
process). The file PUBLISH_LOG.<pid>.ready says that it is about to run its first round.
"""

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import kit  # noqa: E402
from pbkit.bus.kafka import KafkaBus  # noqa: E402
from pbkit.bus.namespaced import NamespacedBus  # noqa: E402
from pbkit.db import make_engine, make_session_factory  # noqa: E402
from pbkit.outbox import OutboxRelay  # noqa: E402


class LoggedBus:
    def __init__(self, inner: NamespacedBus, log: Path):
        self.inner = inner
        self.log = log.open("a", buffering=1)
        self.pid = os.getpid()

    def publish(self, topic, key, value, headers):  # noqa: ANN001, ANN201
        self.log.write(f"{self.pid} {time.monotonic():.6f} {key}\n")
        # A broker a little slow to take each message: a round of 500 lasts a quarter of a second, long enough
        # for a second publisher, if there were one, to find the same rows.
        time.sleep(0.0005)
        return self.inner.publish(topic, key, value, headers)

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return getattr(self.inner, name)


def main() -> None:
    database_url, bootstrap, prefix, log = sys.argv[1:5]
    bus = LoggedBus(NamespacedBus(KafkaBus(bootstrap, partitions=3, delivery_timeout_s=10), prefix), Path(log))
    relay = OutboxRelay(session_factory=make_session_factory(make_engine(database_url)), kit=kit, bus=bus,
                        name="kit-test", ack_timeout_s=10)
    Path(f"{log}.{os.getpid()}.ready").touch()  # about to run its first round
    relay.run(threading.Event())


if __name__ == "__main__":
    main()
