"""The local event log: a durable, multi-process event bus in one SQLite file.

It is the embedded default (`make run`): topics with a single partition,
keys, monotonically increasing offsets per topic, and consumer groups whose
committed offsets live in the same file. A group has one active member at a
time, held by an OS file lock that dies with its process, so a restarted
consumer resumes from the group's committed offset.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pbkit.bus.base import BusError, Message

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, next_offset INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL, offset INTEGER NOT NULL, key TEXT, value BLOB NOT NULL,
    headers TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, PRIMARY KEY (topic, offset));
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL, topic TEXT NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic));
"""


def _use_wal(conn: sqlite3.Connection, *, attempts: int = 50) -> None:
    # Switching a new file to WAL needs its exclusive lock, and SQLite answers "database is locked" at once,
    # without waiting out busy_timeout, while another process or thread opens the same file: retry briefly.
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))


# How often an idle poll asks whether the log changed: `PRAGMA data_version`, which moves whenever another
# connection committed, costs microseconds, so a waiting consumer sees a new message within this time.
CHANGE_CHECK_S = 0.002


def _poll_until(conn: sqlite3.Connection, fetch: Callable[[], list[Message]], timeout: float) -> list[Message]:
    """`fetch()`'s first non-empty answer within `timeout`: asked again as soon as anyone commits to the log,
    not after a fixed sleep (nothing committed between a fetch and the wait that follows it goes unseen)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = _data_version(conn)
        batch = fetch()
        if batch:
            return batch
        while _data_version(conn) == seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            time.sleep(min(CHANGE_CHECK_S, remaining))


def _data_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA data_version").fetchone()[0]


def _read(conn: sqlite3.Connection, positions: dict[str, int], max_records: int) -> list[Message]:
    """The next messages of each topic from its position in `positions`, which moves past them."""
    out: list[Message] = []
    for topic in positions:
        if len(out) >= max_records:
            break
        rows = conn.execute(
            "SELECT offset, key, value, headers FROM messages WHERE topic = ? AND offset >= ? "
            "ORDER BY offset LIMIT ?",
            (topic, positions[topic], max_records - len(out)),
        ).fetchall()
        for offset, key, value, headers in rows:
            out.append(Message(topic, 0, offset, key, bytes(value), json.loads(headers)))
        if rows:
            positions[topic] = rows[-1][0] + 1
    return out


class _Done:
    def result(self, timeout: float) -> None:
        return None


class LocalLogBus:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as conn:
            conn.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    def ensure_topics(self, topics: list[str]) -> None:
        conn = self._connection()
        conn.executemany("INSERT OR IGNORE INTO topics(name, next_offset) VALUES (?, 0)", [(t,) for t in topics])

    def missing_topics(self, topics: list[str]) -> list[str]:
        existing = {name for (name,) in self._connection().execute("SELECT name FROM topics")}
        return [t for t in topics if t not in existing]

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> _Done:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO topics(name, next_offset) VALUES (?, 0)", (topic,))
            (offset,) = conn.execute("SELECT next_offset FROM topics WHERE name = ?", (topic,)).fetchone()
            conn.execute(
                "INSERT INTO messages(topic, offset, key, value, headers, timestamp_ms) VALUES (?,?,?,?,?,?)",
                (topic, offset, key, value, json.dumps(headers), int(time.time() * 1000)),
            )
            conn.execute("UPDATE topics SET next_offset = ? WHERE name = ?", (offset + 1, topic))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise BusError(f"local log write failed: {exc}") from exc
        return _Done()

    def flush(self, timeout: float) -> None:
        return None

    def consumer(self, group_id: str, topics: list[str]) -> LocalLogConsumer:
        return LocalLogConsumer(self, group_id, topics)

    def reader(self, topics: list[str]) -> LocalLogReader:
        return LocalLogReader(self, topics)

    def ping(self, timeout: float) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        conn = self._connection()
        return {
            (t, 0): (conn.execute("SELECT next_offset FROM topics WHERE name = ?", (t,)).fetchone() or (0,))[0]
            for t in topics
        }

    def committed_offsets(self, group_id: str, topics: list[str]) -> dict[tuple[str, int], int]:
        rows = self._connection().execute(
            "SELECT topic, next_offset FROM group_offsets WHERE group_id = ?", (group_id,)).fetchall()
        return {(topic, 0): offset for topic, offset in rows if topic in topics}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class LocalLogConsumer:
    def __init__(self, bus: LocalLogBus, group_id: str, topics: list[str]):
        self._bus = bus
        self.group_id = group_id
        self.topics = list(topics)
        self._positions: dict[str, int] | None = None
        lock_dir = bus.path.parent / "groups"
        lock_dir.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in group_id)
        self._lock_file = open(lock_dir / f"{safe}.lock", "a+")  # noqa: SIM115 - held for the consumer's life
        self._is_member = False

    def _join(self) -> bool:
        if not self._is_member:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self._is_member = True
            conn = self._bus._connection()
            committed = dict(
                conn.execute(
                    "SELECT topic, next_offset FROM group_offsets WHERE group_id = ?", (self.group_id,)
                ).fetchall()
            )
            self._positions = {t: committed.get(t, 0) for t in self.topics}
        return True

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        deadline = time.monotonic() + timeout
        while not self._join():  # another member holds the group: wait for it to go
            if time.monotonic() >= deadline:
                return []
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return _poll_until(self._bus._connection(), lambda: self._fetch(max_records), deadline - time.monotonic())

    def _fetch(self, max_records: int) -> list[Message]:
        assert self._positions is not None
        return _read(self._bus._connection(), self._positions, max_records)

    def commit(self, messages: list[Message]) -> None:
        if not messages:
            return
        if not self._is_member:
            raise BusError("not a member of the group")
        last: dict[str, int] = {}
        for m in messages:
            last[m.topic] = max(last.get(m.topic, -1), m.offset)
        conn = self._bus._connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO group_offsets(group_id, topic, next_offset) VALUES (?,?,?) "
            "ON CONFLICT(group_id, topic) DO UPDATE SET next_offset = excluded.next_offset",
            [(self.group_id, t, o + 1) for t, o in last.items()],
        )
        conn.execute("COMMIT")

    def close(self) -> None:
        if self._is_member:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._is_member = False
        self._lock_file.close()


class LocalLogReader:
    """Every message of the topics from offset 0, for this reader alone: no group lock, no committed offset."""

    def __init__(self, bus: LocalLogBus, topics: list[str]):
        self._bus = bus
        self._positions = dict.fromkeys(topics, 0)

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        conn = self._bus._connection()
        try:
            return _poll_until(conn, lambda: _read(conn, self._positions, max_records), timeout)
        except sqlite3.Error as exc:
            raise BusError(f"local log read failed: {exc}") from exc

    def behind(self) -> int:
        try:
            ends = self._bus.end_offsets(list(self._positions))
        except sqlite3.Error as exc:
            raise BusError(f"local log read failed: {exc}") from exc
        return sum(max(0, ends[(topic, 0)] - position) for topic, position in self._positions.items())

    def close(self) -> None:
        return None
