"""A three-broker local cluster (``cta-stack up --brokers 3``) and kill -9 of one broker
while the simulator produces at full speed: producing goes on after a leader election,
every event is read back exactly once, and the broker rejoins after ``cta-stack up``.

Runs on its own stack (temporary CTA_STACK_DIR, free ports), never the shared one, with
a bounded number of events so it takes about two minutes; `python -m bench.trials broker-kill` runs the same
trial with more events for docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.admin import ConfigResource

from bench.trials.broker_kill import broker_kill
from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_stack.scratch import ScratchStack

pytestmark = pytest.mark.integration

EVENTS = 300_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[ScratchStack]:
    with ScratchStack.running(3, only=("rest-proxy",)) as trial:
        yield trial


def test_clients_get_every_broker_and_the_stack_records_three(cluster: ScratchStack) -> None:
    settings = cluster.settings
    assert settings.ports.kafka_brokers == 3
    assert settings.bootstrap_servers.count(",") == 2
    meta = make_admin(settings).list_topics(timeout=10)
    assert sorted(meta.brokers) == [1, 2, 3]
    schemas = meta.topics[topics.SCHEMAS]
    assert all(len(p.replicas) == 3 for p in schemas.partitions.values())


def test_kill_one_of_three_brokers_during_the_simulator_loses_and_duplicates_nothing(
    cluster: ScratchStack,
) -> None:
    result = broker_kill(cluster, EVENTS)
    assert result.sim_exit == 0 and result.sim_failed == 0, result
    assert result.produced > EVENTS * 0.9
    assert (result.read_back, result.lost, result.duplicated) == (result.produced, 0, 0), result
    # Without a leader election the producer would wait for the dead broker until its
    # 300 s message timeout (the simulator would not have finished before `up`).
    assert result.stall_s < 60, result
    assert result.in_sync, "the killed broker did not rejoin every partition's in-sync replicas"

    settings = cluster.settings
    admin = make_admin(settings)
    turnstiles = next(
        t for t in admin.list_topics(timeout=10).topics if t.startswith(topics.TURNSTILES + ".fault")
    )
    meta = admin.list_topics(turnstiles, timeout=10).topics[turnstiles]
    assert all(len(p.replicas) == 3 for p in meta.partitions.values())
    resource = ConfigResource(ConfigResource.Type.TOPIC, turnstiles)
    config = admin.describe_configs([resource])[resource].result(10)
    assert config["min.insync.replicas"].value == "2"
