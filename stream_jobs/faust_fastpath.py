"""Cheaper per-message plumbing for the Faust worker (same semantics, fewer asyncio tasks).

Faust's fetcher hands every message to the conductor with
``await consumer.wait_first(callback(message), consumer.suspend_flow.wait())``:
four asyncio tasks and an ``asyncio.wait`` per message, about a third of the
worker's time at 10k events/s. The callback (decode, put on the stream's queue)
almost never has to wait, so :class:`EagerConsumer` first runs it synchronously
up to its first suspension, as Python 3.12's eager tasks do. When it finishes
there (the common case) no task is created; when it does suspend (queue full,
rebalance lock) the rest of it runs under Faust's own ``wait_first``, so a
rebalance's ``suspend_flow`` still interrupts it exactly as before.

:class:`QuietMonitor` drops the per-event bookkeeping of Faust's default
``Monitor`` (latency deques, per-topic counters used only by Faust's web views,
which this worker disables); commit, rebalance and offset tracking are kept.

:class:`RawSchema` hands the key and value bytes through without Faust's codec
registry (the agents decode the bytes themselves).

:class:`BatchSink` takes a topic's records out of each fetch whole: the consumer's
``_getmany`` hands them to the sink as one batch of ``(partition, offset, value)``
triples instead of letting Faust wrap every record in a message, an event and a trip
through the stream (about 60 us a record, most of the summary's time). Faust never
tracks or acks those records, so the agent that drains the sink commits their offsets
itself (:meth:`EagerConsumer.commit_offsets`) once its state for them is durable.

:meth:`EagerApp.on_rebalance_end` seeks the streams' partitions back to their committed
offsets (their first offsets when none) once a rebalance is over. Faust resumes a newly assigned partition and seeks it
while the flow is already running for the changelog restore, then clears every stream
queue when it resumes flow control: the records fetched in between are dropped with
the fetch position past them. A survivor taking over the stations partitions lost
rows this way. Reading them again is safe: the stations transform is idempotent.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from typing import Any, cast

import faust
from faust.sensors.monitor import Monitor
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, AppT
from faust.types.tuples import Message
from mode.services import WaitResults

log = logging.getLogger(__name__)


class _Resume:
    """Await the rest of a coroutine that was already stepped once and is
    suspended on ``pending`` (what it yielded to the event loop)."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Any, pending: Any):
        self._coro, self._pending = coro, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation etc.: deliver it where the coroutine waits
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


#: (partition, offset, value) as fetched
Record = tuple[int, int, bytes | None]


class BatchSink:
    """Whole fetches of one topic for an agent to drain (see the module's docstring).
    At most ``max_pending`` fetches wait: past that the fetch loop waits too."""

    def __init__(self, topic: str, max_pending: int = 4) -> None:
        self.topic = topic
        self._queue: asyncio.Queue[tuple[list[Record], dict[int, int]]] = asyncio.Queue(max_pending)
        #: records per partition handed over and not yet counted (waiting or in the agent's hands)
        self.pending: dict[int, int] = {}

    async def put(self, records: Mapping[Any, Sequence[Any]]) -> None:
        batch = [(tp.partition, r.offset, r.value) for tp, recs in records.items() for r in recs]
        if batch:
            sizes = {tp.partition: len(recs) for tp, recs in records.items()}
            for partition, n in sizes.items():
                self.pending[partition] = self.pending.get(partition, 0) + n
            await self._queue.put((batch, sizes))

    async def batches(self) -> AsyncIterator[list[Record]]:
        """Every batch as it comes, several waiting ones joined into one; its records stay
        in :attr:`pending` until the agent asks for the next batch."""
        while True:
            batch, sizes = await self._queue.get()
            sizes = dict(sizes)
            while not self._queue.empty():
                more, more_sizes = self._queue.get_nowait()
                batch += more
                for partition, n in more_sizes.items():
                    sizes[partition] = sizes.get(partition, 0) + n
            yield batch
            for partition, n in sizes.items():
                left = self.pending.get(partition, 0) - n
                if left > 0:
                    self.pending[partition] = left
                else:
                    self.pending.pop(partition, None)


class EagerConsumer(faust_aiokafka.Consumer):
    async def _getmany(self, active_partitions: Any, timeout: float) -> Any:
        records = await super()._getmany(active_partitions, timeout)
        sinks: Mapping[str, BatchSink] = getattr(self.app, "batch_sinks", {})
        if not records or not sinks:
            return records
        rest = {}
        taken: dict[str, dict[Any, Any]] = {}
        for tp, recs in records.items():
            if tp.topic in sinks:
                taken.setdefault(tp.topic, {})[tp] = recs
            else:
                rest[tp] = recs
        for topic, part in taken.items():
            await sinks[topic].put(part)
        return rest

    async def seek_fetch(self, partition: TP, offset: int) -> None:
        """Seek on the consumer's own thread, between two of its fetches: Faust's ``seek``
        calls aiokafka from the worker's loop while the consumer thread may be inside a
        fetch, which then fails on the partition's buffer it just dropped (KeyError)."""
        thread = self._thread

        async def seek() -> None:
            thread.seek(partition, offset)

        await thread.call_thread(seek)

    async def reseek_streams(self, generation: int) -> dict[TP, int]:
        """Seek every assigned partition that Faust's streams ack (a :class:`BatchSink`'s
        records never reach them) back to its committed offset (its first offset when
        none), on the consumer's thread; nothing is sought once ``generation`` is over.
        Returns the offsets sought. See the module's docstring for why."""
        sinks: Mapping[str, BatchSink] = getattr(self.app, "batch_sinks", {})
        acked = self.app.topics.acks_enabled_for
        tps = sorted(tp for tp in self.assignment() if acked(tp.topic) and tp.topic not in sinks)
        if not tps:
            return {}
        thread, app = self._thread, self.app

        async def seek() -> dict[TP, int]:
            consumer = thread._ensure_consumer()
            parts = {tp: faust_aiokafka.ensure_aiokafka_TP(tp) for tp in tps}
            first = await consumer.beginning_offsets(list(parts.values()))
            sought: dict[TP, int] = {}
            for tp, part in parts.items():
                committed = await consumer.committed(part)
                sought[tp] = committed if committed is not None and committed >= 0 else first[part]
            if app.rebalancing or app.consumer_generation_id != generation:
                return {}  # the next rebalance seeks on its own
            for tp, offset in sought.items():
                # Faust drops a record below the last offset it read: forget it first.
                # A concrete offset, never seek_to_beginning: that leaves the position
                # unset until the next fetch, and Faust's livelock check asserts on it.
                self._read_offset[tp] = offset
                consumer.seek(parts[tp], offset)
            return sought

        return cast(dict[TP, int], await thread.call_thread(seek))

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> bool:
        """Commit ``offsets`` (the next offset to read, per partition) of records that
        reached a :class:`BatchSink` (Faust commits only what its own streams acked)."""
        return bool(await self._commit(offsets))

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        first = coros[0] if coros else None
        if timeout is not None or not inspect.iscoroutine(first) or self.suspend_flow.is_set():
            return await super().wait_first(*coros, timeout=timeout)
        try:
            pending = first.send(None)
        except StopIteration as stop:
            _close_unstarted(coros[1:])
            return WaitResults([first], [stop.value], False)
        except BaseException:
            _close_unstarted(coros[1:])  # the first failed inline: the others never run
            raise
        return await super().wait_first(_resume(first, pending), *coros[1:])


def _close_unstarted(coros: Any) -> None:
    for other in coros:
        if inspect.iscoroutine(other):
            other.close()  # never started: nothing to clean up but the "never awaited" warning


async def _resume(coro: Any, pending: Any) -> Any:
    return await _Resume(coro, pending)


class EagerTransport(faust_aiokafka.Transport):
    Consumer = EagerConsumer


class QuietMonitor(Monitor):
    def on_message_in(self, tp: Any, offset: int, message: Message) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        return None

    def on_stream_event_out(self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Message) -> None:
        return None


class RawSchema(faust.Schema):
    def loads_key(self, app: AppT, message: Message, *, loads: Any = None, serializer: Any = None) -> Any:
        return message.key

    def loads_value(self, app: AppT, message: Message, *, loads: Any = None, serializer: Any = None) -> Any:
        return message.value


class EagerApp(faust.App):
    """A Faust app whose consumer uses :class:`EagerConsumer`; ``batch_sinks`` (topic ->
    :class:`BatchSink`) are the topics whose records bypass Faust's streams."""

    batch_sinks: dict[str, BatchSink]
    _reseek: asyncio.Future[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_sinks = {}

    def _new_transport(self) -> Any:
        return EagerTransport(self.conf.broker_consumer, self)

    def on_rebalance_end(self) -> None:
        super().on_rebalance_end()
        generation = self.consumer_generation_id
        self._reseek = asyncio.ensure_future(self._reseek_streams(generation))

    async def _reseek_streams(self, generation: int) -> None:
        if self.consumer_generation_id != generation or self.rebalancing:
            return  # another rebalance began: its own end seeks again
        try:
            sought = await cast(EagerConsumer, self.consumer).reseek_streams(generation)
        except Exception as exc:  # a rebalance may take the partitions meanwhile
            log.info("streams not sought back after the rebalance: %r", exc)
            return
        if sought:
            log.info(
                "after the rebalance the streams read again from %s",
                ", ".join(f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sought.items()),
            )
