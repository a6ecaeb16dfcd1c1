"""The tail screen's clients against the real local stack: every visit's reader is lent
the same consumer (one librdkafka client per dashboard, not one per visit), reads its own
topic from it, and gives it back on close; the topic list comes through it too."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from cta_core.kafka_clients import ensure_topics, make_admin, make_producer
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from cta_tui.tail.clients import TailClients
from tests.integration.cta_tui.test_tui_tail import _read

pytestmark = pytest.mark.integration


@pytest.fixture
def two_topics(stack: Settings) -> Iterator[tuple[str, str]]:
    """Two fresh topics holding two JSON records each (``{"topic": n, "n": i}``)."""
    names = tuple(f"cta-tui-test-tail-clients-{uuid.uuid4().hex[:8]}" for _ in range(2))
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(name, partitions=1) for name in names])
    producer = make_producer(stack)
    for n, name in enumerate(names):
        for i in range(2):
            producer.produce(name, value=f'{{"topic": {n}, "n": {i}}}'.encode())
    assert producer.flush(10) == 0
    yield names[0], names[1]
    admin.delete_topics(list(names), operation_timeout=10)


def test_every_visit_reads_its_topic_through_the_one_consumer(
    stack: Settings, two_topics: tuple[str, str]
) -> None:
    clients = TailClients(stack)
    try:
        assert set(two_topics) <= set(clients.topics())
        seen = []
        for n, topic in enumerate(two_topics):
            reader = clients.reader(topic)
            try:
                reader.seek_start()
                records = _read(reader, 2)
            finally:
                reader.close()
            seen.append(reader._consumer)
            assert [(r.value["topic"], r.value["n"]) for r in records] == [(n, 0), (n, 1)]
        assert seen[0] is seen[1] is clients.consumer()
        # a reader that is not given back in time: the next one gets a consumer of its own
        held = clients.reader(two_topics[0])
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("cta_tui.tail.clients.HANDOVER_S", 0.1)
            own = clients.reader(two_topics[1])
        assert own._consumer is not clients.consumer()
        own.close()
        threading.Timer(0.2, held.close).start()
        again = clients.reader(two_topics[1])  # waits for the held one to be given back
        assert again._consumer is clients.consumer()
        again.close()
    finally:
        clients.close()
