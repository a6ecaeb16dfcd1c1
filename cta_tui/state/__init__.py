"""The dashboard's pure state model: dataclasses and reducers, no Textual, no Kafka."""

from cta_tui.state.model import DashboardState
from cta_tui.state.records import Batch, Record
from cta_tui.state.reducers import apply_batch
from cta_tui.state.snapshot import snapshot_json

__all__ = ["Batch", "DashboardState", "Record", "apply_batch", "snapshot_json"]
