"""EagerConsumer: wait_first with the same results as Faust's, without a task when it can;
whole fetches of a BatchSink's topic handed over past Faust's streams.

Uses a real (unstarted) Faust app and consumer; no broker is contacted."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from faust.types import TP

from stream_jobs.faust_fastpath import BatchSink, EagerApp, EagerConsumer


@pytest.fixture
async def consumer() -> EagerConsumer:
    app = EagerApp("test-fastpath", broker="kafka://127.0.0.1:1", web_enabled=False)
    cons = app.consumer
    assert isinstance(cons, EagerConsumer)
    return cons


async def test_a_callback_that_does_not_wait_runs_inline(consumer: EagerConsumer) -> None:
    ran_in: list[asyncio.Task[object] | None] = []

    async def callback() -> int:
        ran_in.append(asyncio.current_task())
        return 7

    result = await consumer.wait_first(callback(), consumer.suspend_flow.wait())
    # in this very task: no asyncio task was created for it (Faust's wait_first makes four)
    assert ran_in == [asyncio.current_task()] and result.results == [7] and not result.stopped


async def test_a_callback_that_waits_is_resumed_to_completion(consumer: EagerConsumer) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
    queue.put_nowait(0)  # full: the put below must wait

    async def callback() -> str:
        await queue.put(1)
        await asyncio.sleep(0)
        return "done"

    async def drain() -> None:
        await asyncio.sleep(0.01)
        queue.get_nowait()

    task = asyncio.ensure_future(drain())
    result = await consumer.wait_first(callback(), consumer.suspend_flow.wait())
    await task
    assert result.results == ["done"] and queue.get_nowait() == 1


async def test_suspend_flow_interrupts_a_waiting_callback(consumer: EagerConsumer) -> None:
    blocker = asyncio.Event()
    cancelled: list[bool] = []

    async def callback() -> None:
        try:
            await blocker.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def rebalance() -> None:
        await asyncio.sleep(0.01)
        consumer.suspend_flow.set()

    task = asyncio.ensure_future(rebalance())
    suspended = consumer.suspend_flow.wait()
    result = await consumer.wait_first(callback(), suspended)
    await task
    await asyncio.sleep(0)
    assert result.done == [suspended] and cancelled == [True]


async def test_errors_propagate(consumer: EagerConsumer) -> None:
    async def inline() -> None:
        raise ValueError("inline")

    async def later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    with pytest.raises(ValueError, match="inline"):
        await consumer.wait_first(inline(), consumer.suspend_flow.wait())
    with pytest.raises(ValueError, match="later"):
        await consumer.wait_first(later(), consumer.suspend_flow.wait())


async def test_a_sink_topic_s_records_leave_the_fetch_whole_and_the_rest_go_on_to_faust(
    consumer: EagerConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch of a topic with a BatchSink reaches the sink as one batch of (partition,
    offset, value); other topics' records go on to Faust's streams as before."""
    from faust.transport.consumer import ThreadDelegateConsumer

    def rec(offset: int) -> SimpleNamespace:
        return SimpleNamespace(offset=offset, value=f"v{offset}".encode())

    fetched = {TP("counts", 0): [rec(5), rec(6)], TP("other", 0): [rec(1)], TP("counts", 2): [rec(9)]}

    async def getmany(self: object, active: object, timeout: float) -> dict[TP, list[SimpleNamespace]]:
        return fetched

    monkeypatch.setattr(ThreadDelegateConsumer, "_getmany", getmany)
    sink = BatchSink("counts")
    consumer.app.batch_sinks["counts"] = sink  # type: ignore[attr-defined]
    rest = await consumer._getmany(None, 1.0)
    assert rest == {TP("other", 0): fetched[TP("other", 0)]}
    assert sink.pending == {0: 2, 2: 1}
    await consumer._getmany(None, 1.0)  # a second fetch waits too: joined into one batch
    batches = sink.batches()
    assert await anext(batches) == [(0, 5, b"v5"), (0, 6, b"v6"), (2, 9, b"v9")] * 2
    assert sink.pending == {0: 4, 2: 2}  # in the agent's hands until it asks for more
    await sink.put({TP("counts", 1): [rec(3)]})
    next_batch = asyncio.ensure_future(anext(batches))
    assert await next_batch == [(1, 3, b"v3")]
    assert sink.pending == {1: 1}
