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
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Generator
from typing import Any

import faust
from faust.sensors.monitor import Monitor
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import AppT
from faust.types.tuples import Message
from mode.services import WaitResults


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


class EagerConsumer(faust_aiokafka.Consumer):
    _parked: asyncio.Event | None = None

    @property
    def flow_parked(self) -> asyncio.Event:
        """Set while the fetch loop waits for the flow to resume (see :meth:`wait_flow_parked`)."""
        if self._parked is None:
            self._parked = asyncio.Event()
        return self._parked

    async def _wait_next_records(self, timeout: float) -> Any:
        while not self.flow_active and not self.should_stop:
            self.flow_parked.set()
            try:
                await self.wait(self.can_resume_flow)  # type: ignore[arg-type]
            finally:
                self.flow_parked.clear()
        return await super()._wait_next_records(timeout)

    async def wait_flow_parked(self, timeout: float) -> bool:
        """After :meth:`stop_flow`: wait until the fetch loop is parked waiting for the
        flow to resume. It gets there only after letting go of the record it was handing
        over (which moves its read offset) and of a fetch in flight (which, returning
        with the flow stopped, seeks back to the committed offsets); a seek made after
        this is not undone by either. Faust's own ``wait_for_stopped_flow`` waits on an
        event that is never cleared. Returns False on timeout (no fetch loop running)."""
        try:
            await asyncio.wait_for(self.flow_parked.wait(), timeout)
        except TimeoutError:
            return False
        return True

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
    """A Faust app whose consumer uses :class:`EagerConsumer`."""

    def _new_transport(self) -> Any:
        return EagerTransport(self.conf.broker_consumer, self)
