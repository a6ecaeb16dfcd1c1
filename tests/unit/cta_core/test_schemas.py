"""The .avsc files of the topic contract parse and keep the course project's fields."""

from __future__ import annotations

import io

import fastavro
import pytest

from cta_core import schemas


@pytest.mark.parametrize("name", schemas.ALL)
def test_schema_parses(name: str) -> None:
    fastavro.parse_schema(schemas.schema_dict(name))


def test_arrival_value_keeps_original_fields_first_and_extras_optional() -> None:
    fields = schemas.schema_dict(schemas.ARRIVAL_VALUE)["fields"]
    names = [f["name"] for f in fields]
    assert names[:7] == [
        "station_id",
        "train_id",
        "direction",
        "line",
        "train_status",
        "prev_station_id",
        "prev_direction",
    ]
    for extra in fields[7:]:
        assert "default" in extra, f"{extra['name']} must be optional for Avro evolution"


def test_old_reader_reads_new_record() -> None:
    """A consumer with the course project's seven fields reads our records."""
    new = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    old_dict = schemas.schema_dict(schemas.ARRIVAL_VALUE)
    old_dict["fields"] = old_dict["fields"][:7]
    old = fastavro.parse_schema(old_dict)
    record = {
        "station_id": 40380,
        "train_id": "red-001",
        "direction": "a",
        "line": "red",
        "train_status": "in_service",
        "prev_station_id": None,
        "prev_direction": None,
        "sim_time": 1,
        "branch": None,
        "delay_s": 0,
        "seq": 3,
    }
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, new, record)
    buf.seek(0)
    back = fastavro.schemaless_reader(buf, new, old)
    assert back == {k: record[k] for k in list(record)[:7]}


def test_unknown_schema_name_is_an_error() -> None:
    with pytest.raises(KeyError):
        schemas.schema_text("nope")
