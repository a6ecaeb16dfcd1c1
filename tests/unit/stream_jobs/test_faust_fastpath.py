"""EagerConsumer.wait_first: same results as Faust's wait_first, without a task when it can.

Uses a real (unstarted) Faust app and consumer; no broker is contacted."""

from __future__ import annotations

import asyncio

import pytest

from stream_jobs.faust_fastpath import EagerApp, EagerConsumer


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


async def test_wait_flow_parked_returns_once_the_fetch_loop_waits_for_the_flow(
    consumer: EagerConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-read's condition: after stop_flow, the fetch loop's next fetch parks before
    fetching anything; wait_flow_parked returns then (and times out when no loop runs)."""
    from faust.transport.consumer import Consumer as FaustConsumer

    fetched: list[float] = []

    async def fetch(self: object, timeout: float) -> tuple[dict, set]:
        fetched.append(timeout)
        return {}, set()

    monkeypatch.setattr(FaustConsumer, "_wait_next_records", fetch)
    assert not await consumer.wait_flow_parked(0.05)  # no fetch loop parked
    consumer.stop_flow()
    assert not await consumer.wait_flow_parked(0.05)  # stopped, but no fetch loop yet
    loop_step = asyncio.ensure_future(consumer._wait_next_records(1.0))
    assert await consumer.wait_flow_parked(1.0)
    assert fetched == [] and not loop_step.done()  # parked: nothing fetched while stopped
    consumer.resume_flow()
    assert await asyncio.wait_for(loop_step, 1.0) == ({}, set())
    assert fetched == [1.0] and not consumer.flow_parked.is_set()
    # a running flow fetches straight away, without parking
    assert await consumer._wait_next_records(0.5) == ({}, set()) and fetched == [1.0, 0.5]
