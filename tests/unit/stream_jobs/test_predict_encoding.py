"""The hand-written prediction encoder writes what the schema says (fastavro reads it back)."""

from __future__ import annotations

import io

import fastavro
import pytest

from cta_core.records.prediction import Prediction
from cta_core.schemas import PREDICTION_VALUE, schema_dict
from stream_jobs.predict.encoding import ValueWriter


@pytest.mark.parametrize(
    "pred",
    [
        Prediction(40900, "red", "a", "red-0001", "95th/Dan Ryan", 1796130000123, 1796129900000),
        Prediction(41320, "brown", "b", "brown-0042", "Kimball", 1500, 0, True, True, True, True),
        Prediction(-3, "ë", "a", "x" * 300, "", 4102444800000, 4102444799999, scheduled=True),
    ],
)
def test_encoded_values_decode_with_fastavro(pred: Prediction) -> None:
    raw = ValueWriter().encode(pred)
    schema = fastavro.parse_schema(schema_dict(PREDICTION_VALUE))
    buf = io.BytesIO(raw)
    decoded = fastavro.schemaless_reader(buf, schema, None, return_record_name=False)
    assert buf.tell() == len(raw)
    expected = pred.value()
    for name in ("predicted_arrival", "generated_at"):
        decoded[name] = (
            int(decoded[name].timestamp() * 1000 + 0.5)
            if hasattr(decoded[name], "timestamp")
            else decoded[name]
        )
    assert decoded == expected


def test_the_header_comes_first() -> None:
    pred = Prediction(1, "red", "a", "t", "d", 0, 0)
    assert ValueWriter(b"\x00\x00\x00\x00\x07").encode(pred).startswith(b"\x00\x00\x00\x00\x07")
