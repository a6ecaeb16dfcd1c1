"""One set of Kafka consumers for every SSH session (the record hub behind `--feed shared`).

The server reads the dashboard's topics once (:class:`RecordHub`, with the
dashboard's own :class:`~cta_tui.feeds.kafka_source.KafkaSource`) and streams the
decoded batches to each session's dashboard over a Unix socket in a private
directory; the dashboard reads them with :class:`SocketSource`, a
:class:`~cta_tui.feeds.source.RecordSource`. Eight viewers then cost the broker
one consumer, not eight.

A dashboard that joins late first gets a :class:`Snapshot` of what it would have
read itself at start: the compacted tables (latest record per key), the last
weather readings, the last simulator status, and the arrivals of the replay
window; then the live batches.

Frames are a 4-byte big-endian length and a pickle of ``("batch", Batch)`` or
``("error", message)``. Pickle is acceptable here because both ends are this
program, run by the same user, and the socket lives in a 0700 directory.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import pickle
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cta_core import topics
from cta_core.backoff import Backoff
from cta_core.errors import ServiceUnavailable
from cta_tui.feeds.source import RecordSource
from cta_tui.state.records import Batch, Record, settle_batch

log = logging.getLogger(__name__)

#: Environment variable that tells a session's dashboard where the shared feed is.
FEED_ENV = "CTA_TUI_SSH_FEED"
_HEADER = struct.Struct(">I")
#: A session whose dashboard falls this far behind is disconnected (it reconnects
#: and starts again from a snapshot) rather than making the server buffer forever.
MAX_BUFFERED = 16 * 2**20

TABLE_TOPICS = (topics.STATIONS_TABLE, topics.TURNSTILE_SUMMARY)
LAST_N = {topics.WEATHER: 3, topics.SIM_STATUS: 1}
#: Value fields that identify a table row when a record comes without a key.
_ROW_ID_FIELDS = ("station_id", "STATION_ID", "line")


def table_key(record: Record) -> str:
    """The row a table record updates: its key, or (keyless writers) its id fields."""
    if record.key is not None:
        return repr(record.key)
    value = record.value
    if isinstance(value, dict):
        ids = tuple(value.get(f) for f in _ROW_ID_FIELDS if f in value)
        if ids:
            return repr(ids)
    return repr(value)


def encode_frame(kind: str, payload: Any) -> bytes:
    body = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


@dataclass
class Snapshot:
    """What a dashboard starting now would read from Kafka (pure)."""

    replay_seconds: float = 300.0
    clock: Callable[[], float] = time.time
    tables: dict[str, dict[str, Record]] = field(default_factory=dict)
    last: dict[str, collections.deque[Record]] = field(default_factory=dict)
    arrivals: collections.deque[Record] = field(default_factory=collections.deque)

    def apply(self, batch: Batch) -> None:
        for topic, records in batch.records.items():
            if topic in TABLE_TOPICS:
                table = self.tables.setdefault(topic, {})
                for r in records:
                    k = table_key(r)
                    if r.value is None:
                        table.pop(k, None)
                    else:
                        table[k] = r
            elif topic in LAST_N:
                self.last.setdefault(topic, collections.deque(maxlen=LAST_N[topic])).extend(records)
            elif topic == topics.ARRIVALS:
                self.arrivals.extend(records)
        self._trim()

    def _trim(self) -> None:
        oldest = (self.clock() - self.replay_seconds) * 1000
        while self.arrivals and (self.arrivals[0].timestamp_ms or oldest) < oldest:
            self.arrivals.popleft()

    def batch(self) -> Batch:
        self._trim()
        out = Batch()
        for topic, table in self.tables.items():
            if table:
                out.records[topic] = list(table.values())
        for topic, records in self.last.items():
            if records:
                out.records[topic] = list(records)
        if self.arrivals:
            out.records[topics.ARRIVALS] = list(self.arrivals)
        return out


class RecordHub:
    """Polls one record source in a thread and streams its batches to every session."""

    def __init__(self, source: RecordSource, snapshot: Snapshot, *, poll_timeout: float = 0.2):
        self.source = source
        self.snapshot = snapshot
        self.poll_timeout = poll_timeout
        self.clients: set[asyncio.StreamWriter] = set()
        self.error: str | None = None
        self.batches = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self, path: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_unix_server(self._client_connected, path=path)
        self._thread = threading.Thread(target=self._run, name="cta-ssh-feed", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for writer in list(self.clients):
            writer.close()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
        with contextlib.suppress(Exception):
            self.source.close()

    def _run(self) -> None:
        """The one consumer loop (a thread: the source blocks); retries with backoff."""
        backoff = Backoff(0.5, 10.0)
        while not self._stop.is_set():
            try:
                batch = self.source.poll(5000, self.poll_timeout)
            except Exception as exc:
                self._publish("error", str(exc))
                self._stop.wait(backoff.next())
                continue
            backoff.reset()
            settle_batch(batch)  # the sessions' processes decode nothing the hub can
            if batch or self.error is not None:
                self._publish("batch", batch)

    def _publish(self, kind: str, payload: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(self._broadcast, kind, payload)

    def _broadcast(self, kind: str, payload: Any) -> None:
        if kind == "batch":
            self.error = None
            self.batches += 1
            self.snapshot.apply(payload)
        else:
            self.error = payload
        frame = encode_frame(kind, payload)
        for writer in list(self.clients):
            self._send(writer, frame)

    def _send(self, writer: asyncio.StreamWriter, frame: bytes) -> None:
        transport = writer.transport
        if transport.is_closing():
            self.clients.discard(writer)
            return
        if transport.get_write_buffer_size() > MAX_BUFFERED:
            log.warning("a session's dashboard fell behind the shared feed; disconnecting it")
            self.clients.discard(writer)
            writer.close()
            return
        writer.write(frame)

    async def _client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Snapshot and registration happen in one loop step: no batch falls between them.
        self._send(writer, encode_frame("batch", self.snapshot.batch()))
        if self.error is not None:
            self._send(writer, encode_frame("error", self.error))
        self.clients.add(writer)
        try:
            await reader.read()  # until the dashboard goes away
        except ConnectionError:
            pass  # a dashboard killed with its session resets the socket: same as a close
        finally:
            self.clients.discard(writer)
            writer.close()


class SocketSource:
    """The dashboard's side: batches from the server's shared feed (a RecordSource)."""

    def __init__(self, path: str, bootstrap_servers: str = "the SSH server's Kafka"):
        self.path = path
        self.bootstrap_servers = bootstrap_servers
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise ServiceUnavailable(
                "the SSH server's shared feed", self.path, hint="restart `cta-tui serve`", cause=str(exc)
            ) from None
        self._sock = sock
        self._buffer.clear()
        return sock

    def _frame(self) -> tuple[str, Any] | None:
        if len(self._buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buffer)
        if len(self._buffer) < _HEADER.size + size:
            return None
        body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
        del self._buffer[: _HEADER.size + size]
        kind, payload = pickle.loads(body)
        return str(kind), payload

    def poll(self, max_records: int, timeout: float) -> Batch:
        sock = self._sock or self._connect()
        deadline = time.monotonic() + timeout
        merged = Batch()
        while True:
            frame = self._frame()
            if frame is not None:
                kind, payload = frame
                if kind == "error":
                    raise ServiceUnavailable("Kafka", self.bootstrap_servers, cause=str(payload))
                for topic, records in payload.records.items():
                    merged.records.setdefault(topic, []).extend(records)
                for topic, n in payload.malformed.items():
                    merged.malformed[topic] = merged.malformed.get(topic, 0) + n
                merged.lag.update(payload.lag)
                if merged.count() >= max_records:
                    return merged
                continue
            if merged:
                return merged
            left = deadline - time.monotonic()
            if left <= 0:
                return merged
            sock.settimeout(left)
            try:
                data = sock.recv(1 << 20)
            except TimeoutError:
                return merged
            except OSError as exc:
                self.close()
                raise ServiceUnavailable(
                    "the SSH server's shared feed", self.path, hint="restart `cta-tui serve`", cause=str(exc)
                ) from None
            if not data:
                self.close()
                raise ServiceUnavailable(
                    "the SSH server's shared feed", self.path, hint="restart `cta-tui serve`", cause="closed"
                )
            self._buffer += data

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
