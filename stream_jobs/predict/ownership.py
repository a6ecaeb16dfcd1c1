"""Which trains one worker publishes for when several share the arrivals (pure).

Every worker reads every partition of the arrivals topic and learns from every train: a
prediction needs segment times and follow gaps learned from all trains, and the plan of
the train ahead, which may be in any partition. The consumer group gives each partition
to one worker, which publishes the predictions (and writes the changelog records) of the
trains in it. Arrivals are keyed by train, so a train's partition is the one its arrivals
come in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ownership:
    """The partitions this worker owns and the partition of every train seen."""

    owned: set[int] = field(default_factory=set)
    partition_of: dict[str, int] = field(default_factory=dict)
    #: partitions assigned since the last :meth:`take_gained`
    gained: set[int] = field(default_factory=set)

    def saw(self, train_id: str, partition: int) -> None:
        self.partition_of[train_id] = partition

    def owns_partition(self, partition: int) -> bool:
        return partition in self.owned

    def owns_train(self, train_id: str) -> bool:
        """True for a train whose arrivals come in a partition this worker owns (a train
        not seen yet belongs to nobody until its next arrival)."""
        return self.partition_of.get(train_id, -1) in self.owned

    def assign(self, partitions: set[int]) -> None:
        self.gained |= partitions - self.owned
        self.owned |= partitions

    def revoke(self, partitions: set[int]) -> None:
        self.owned -= partitions
        self.gained -= partitions

    def take_gained(self) -> set[int]:
        gained, self.gained = self.gained, set()
        return gained

    def trains_in(self, partitions: set[int]) -> list[str]:
        return sorted(t for t, p in self.partition_of.items() if p in partitions)
