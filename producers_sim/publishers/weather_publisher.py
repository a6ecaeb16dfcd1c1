"""Weather through the REST Proxy v2 (Avro), from a background thread.

The runner only enqueues; a daemon thread POSTs batches to ``/topics/<weather>`` with
the key and value schemas as strings on the first request and the ids the proxy
returned afterwards. When the proxy is down or answers 5xx the batch is retried with
exponential backoff, so trains never wait for the weather. A 4xx answer means the
records themselves were refused: they are counted as failed and dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import httpx

from cta_core import topics
from cta_core.backoff import Backoff
from cta_core.refusals import http_message
from cta_core.schemas import schema_text
from producers_sim.control import TopicCounters
from producers_sim.events import Event, WeatherEvent
from producers_sim.records import SinkRecord

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.kafka.avro.v2+json"
ACCEPT = "application/vnd.kafka.v2+json"
MAX_BATCH = 100


def avro_json_record(event: WeatherEvent) -> dict[str, Any]:
    """The record in Avro's JSON encoding (unions as ``{"type": value}``)."""
    return {
        "key": {"timestamp": event.sim_time},
        "value": {
            "temperature": event.temperature,
            "status": event.status,
            "sim_time": {"long": event.sim_time},
        },
    }


class WeatherPublisher:
    def __init__(
        self,
        rest_proxy_url: str,
        *,
        max_queue: int = 10_000,
        backoff_initial: float = 0.25,
        backoff_max: float = 10.0,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
        topic: str = topics.WEATHER,
        http: dict[str, Any] | None = None,
    ):
        """``http``: httpx's ``auth`` and ``verify`` for the proxy (:meth:`Settings.rest_proxy_http`)."""
        self.url = rest_proxy_url.rstrip("/")
        self.topic = topic
        self.counters = TopicCounters()
        self._queue: queue.Queue[WeatherEvent | None] = queue.Queue(maxsize=max_queue)
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._client = client or httpx.Client(timeout=timeout, **(http or {}))
        self._user: str | None = (http or {}).get("auth", (None,))[0]
        self._key_schema_id: int | None = None
        self._value_schema_id: int | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="cta-sim-weather", daemon=True)
        self._thread.start()

    # -- runner side -----------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        if not isinstance(event, WeatherEvent):
            raise TypeError("WeatherPublisher publishes weather only")
        with self._lock:
            self.counters.produced[topics.WEATHER] += 1
        try:
            self._idle.clear()
            self._queue.put_nowait(event)
        except queue.Full:
            with self._lock:
                self.counters.failed[topics.WEATHER] += 1

    def publish_many(self, records: list[SinkRecord]) -> None:
        """Weather records carry the event itself (see :class:`~producers_sim.prepare.KafkaPreparer`)."""
        for record in records:
            self.publish(record[2])

    def poll(self) -> None:
        pass

    def flush(self, timeout: float) -> int:
        """Wait up to ``timeout`` for the queue to drain; return what is left (counted failed on close)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and self._idle.is_set():
                return 0
            time.sleep(0.02)
        return self._queue.qsize() + (0 if self._idle.is_set() else 1)

    def close(self) -> None:
        self._stop.set()
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left += 1
        self._queue.put(None)
        self._thread.join(timeout=self._backoff_max + 6.0)
        with self._lock:
            self.counters.failed[topics.WEATHER] += left
        self._client.close()

    # -- background thread -----------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._stop.set()
                    break
                batch.append(nxt)
            self._send_with_retry(batch)
            if self._queue.empty():
                self._idle.set()
        self._idle.set()

    def _body(self, batch: list[WeatherEvent]) -> dict[str, Any]:
        body: dict[str, Any] = {"records": [avro_json_record(e) for e in batch]}
        if self._key_schema_id is None or self._value_schema_id is None:
            body["key_schema"] = schema_text("weather_key")
            body["value_schema"] = schema_text("weather_value")
        else:
            body["key_schema_id"] = self._key_schema_id
            body["value_schema_id"] = self._value_schema_id
        return body

    def _send_with_retry(self, batch: list[WeatherEvent]) -> None:
        backoff = Backoff(self._backoff_initial, self._backoff_max)
        while True:
            outcome = self._send(batch)
            if outcome is not None:
                ok, bad = outcome
                with self._lock:
                    self.counters.delivered[topics.WEATHER] += ok
                    self.counters.failed[topics.WEATHER] += bad
                return
            if self._stop.wait(backoff.next()):
                with self._lock:
                    self.counters.failed[topics.WEATHER] += len(batch)
                return

    def _send(self, batch: list[WeatherEvent]) -> tuple[int, int] | None:
        """POST once; (delivered, failed) when the proxy answered for good, None to retry."""
        try:
            resp = self._client.post(
                f"{self.url}/topics/{self.topic}",
                json=self._body(batch),
                headers={"Content-Type": CONTENT_TYPE, "Accept": ACCEPT},
            )
        except httpx.HTTPError as exc:
            self.last_error = f"REST Proxy at {self.url}: {exc}"
            log.debug("weather: %s", self.last_error)
            return None
        if resp.status_code >= 500 or resp.status_code == 408:
            self.last_error = f"REST Proxy at {self.url} answered {resp.status_code}"
            return None
        if resp.status_code in (401, 403):
            self.last_error = http_message("REST Proxy", self.url, self._user, resp.status_code)
            log.error("%s", self.last_error)
            return 0, len(batch)
        if resp.status_code >= 400:
            self.last_error = f"REST Proxy refused weather: {resp.status_code} {resp.text[:200]}"
            log.warning("%s", self.last_error)
            return 0, len(batch)
        self.last_error = None
        doc = resp.json()
        if doc.get("key_schema_id") is not None:
            self._key_schema_id = doc["key_schema_id"]
        if doc.get("value_schema_id") is not None:
            self._value_schema_id = doc["value_schema_id"]
        offsets = doc.get("offsets") or []
        bad = sum(1 for o in offsets if o.get("error") or o.get("error_code"))
        return len(batch) - bad, bad
