"""The records that cross processes: what a writer makes, its reader reads back the same."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import fastavro
import pytest

from cta_core.avro import without_logical_types
from cta_core.records.arrival import (
    BROKEN_DOWN,
    FIELDS,
    IN_SERVICE,
    TRAIN_STATUSES,
    Arrival,
    MalformedArrival,
)
from cta_core.records.control import (
    COMMANDS,
    MAX_SENDER,
    Command,
    Rejected,
    make_command,
    parse_command,
)
from cta_core.records.prediction import Prediction
from cta_core.records.status import MalformedStatus, SimStatus, as_int
from cta_core.schemas import schema_dict

# ---------------------------------------------------------------------------- control


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("pause", {}, Command("?", "pause")),
        ("resume", {"run_id": "c0ffee12"}, Command("?", "resume", run_id="c0ffee12")),
        ("set_speed", {"speed": 120}, Command("?", "set_speed", speed=120.0)),
        ("set_speed", {"speed": "max"}, Command("?", "set_speed", speed=None)),
        ("step", {"seconds": 30}, Command("?", "step", seconds=30.0)),
        ("step", {}, Command("?", "step", seconds=60.0)),
    ],
)
def test_a_built_command_parses_back_to_the_same_command(
    name: str, fields: dict[str, object], expected: Command
) -> None:
    doc = make_command(name, sender="cta-tui ada@box pid 7", **fields)
    parsed = parse_command(json.dumps(doc).encode())
    assert isinstance(parsed, Command)
    assert parsed == Command(
        doc["command_id"],
        expected.command,
        speed=expected.speed,
        seconds=expected.seconds,
        run_id=expected.run_id,
        sender="cta-tui ada@box pid 7",
    )


def test_a_built_command_has_a_fresh_id_and_a_sender_the_parser_accepts() -> None:
    first, second = make_command("pause"), make_command("pause")
    assert first["command_id"] != second["command_id"] and "sender" not in first
    long = make_command("pause", sender="x" * 500)
    assert long["sender"] == "x" * MAX_SENDER
    assert isinstance(parse_command(json.dumps(long)), Command)
    too_long = {**long, "sender": "x" * (MAX_SENDER + 1)}
    rejected = parse_command(json.dumps(too_long))
    assert rejected == Rejected(
        long["command_id"], f"sender must be a string of at most {MAX_SENDER} characters"
    )


def test_building_an_unknown_command_fails_with_the_parsers_message() -> None:
    with pytest.raises(ValueError) as built:
        make_command("explode")
    parsed = parse_command(b'{"command_id": "x", "command": "explode"}')
    assert isinstance(parsed, Rejected) and str(built.value) == parsed.reason
    assert parsed.reason == "unknown command 'explode'; expected one of " + ", ".join(COMMANDS)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "not JSON: "),
        (b"[1]", "not a JSON object"),
        (b'{"command": "pause"}', "command_id missing or not a non-empty string"),
        (b'{"command_id": "x", "command": "pause", "run_id": 5}', "run_id must be a string"),
        (b'{"command_id": "x", "command": "set_speed", "speed": -3}', "speed must be > 0, got -3"),
        (
            b'{"command_id": "x", "command": "set_speed", "speed": true}',
            "speed must be a number > 0 or 'max'",
        ),
        (b'{"command_id": "x", "command": "step", "seconds": 0}', "seconds must be a number > 0, got 0"),
    ],
)
def test_malformed_commands_keep_their_messages(raw: bytes, reason: str) -> None:
    result = parse_command(raw)
    assert isinstance(result, Rejected) and result.reason.startswith(reason)


# ---------------------------------------------------------------------------- status


def _status() -> SimStatus:
    topics = ["org.chicago.cta.station.arrivals.v1", "org.chicago.cta.weather.v1"]
    return SimStatus(
        run_id="c0ffee12",
        state="paused",
        sim_time="2026-11-29T05:03:12.250-06:00",
        sim_time_ms=1795950192250,
        speed=60.0,
        paused=True,
        produced=dict.fromkeys(topics, 5),
        delivered=dict.fromkeys(topics, 4),
        failed=dict.fromkeys(topics, 1),
        last_command_id="6f1c",
        last_command_sender="cta-tui ada@laptop pid 4242",
        rejected_commands=2,
        last_rejected=Rejected(None, "not a JSON object"),
        started_at="2026-11-29T11:02:58.101+00:00",
        updated_at="2026-11-29T11:03:15.402+00:00",
        seed=42,
        lines=["red", "blue"],
        trains=187,
    )


def test_a_status_reads_back_from_its_json() -> None:
    status = _status()
    doc = json.loads(json.dumps(status.to_json()))
    assert list(doc) == [
        "run_id", "state", "sim_time", "sim_time_ms", "speed", "paused", "produced", "delivered",
        "failed", "last_command_id", "last_command_sender", "rejected_commands", "last_rejected",
        "started_at", "updated_at", "seed", "lines", "trains",
    ]  # fmt: skip
    assert doc["last_rejected"] == {"command_id": None, "reason": "not a JSON object"}
    assert SimStatus.from_json(doc) == status
    at_max = SimStatus.from_json({**doc, "speed": "max"})
    assert at_max.speed == "max" and at_max.speed_factor is None and status.speed_factor == 60.0


def test_a_status_reader_ignores_unknown_fields_and_defaults_missing_ones() -> None:
    assert SimStatus.from_json({**_status().to_json(), "future_field": [1, 2]}) == _status()
    bare = SimStatus.from_json({"paused": True})
    assert bare == SimStatus(state="paused", paused=True)
    assert not bare.stopped and SimStatus.from_json({"state": "stopped"}).stopped
    odd = SimStatus.from_json(
        {"run_id": 5, "sim_time_ms": "1795950192250", "speed": True, "trains": 1.0, "last_rejected": "?"}
    )
    assert odd.run_id is None and odd.sim_time_ms == 1795950192250 and odd.speed is None
    assert odd.trains == 1 and odd.last_rejected is None and odd.rejected_commands == 0


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([1], "not a JSON object"),
        (None, "not a JSON object"),
        ({"paused": "yes"}, "paused must be a boolean"),
    ],
)
def test_a_message_that_is_no_status_is_malformed(doc: object, message: str) -> None:
    with pytest.raises(MalformedStatus, match=message):
        SimStatus.from_json(doc)


def test_as_int() -> None:
    assert [as_int(x) for x in (3, 3.0, "-4", " 12 ", 2.5, True, None, "x")] == [
        3,
        3,
        -4,
        12,
        None,
        None,
        None,
        None,
    ]


# ---------------------------------------------------------------------------- arrival


def _arrival() -> Arrival:
    return Arrival.at(
        1_795_950_192.25, 40380, "brown-0001", "b", "brown", BROKEN_DOWN, 40260, "a", "main", 75, 9
    )


def test_the_arrival_fields_are_the_schemas() -> None:
    assert tuple(f["name"] for f in schema_dict("arrival_value")["fields"]) == FIELDS
    assert tuple(_arrival().value()) == FIELDS
    assert IN_SERVICE in TRAIN_STATUSES and BROKEN_DOWN in TRAIN_STATUSES


def test_an_arrival_reads_back_from_its_value_and_its_avro() -> None:
    arrival = _arrival()
    assert arrival.sim_time == 1_795_950_192_250
    assert Arrival.from_value(arrival.value()) == arrival
    schema = fastavro.parse_schema(without_logical_types(schema_dict("arrival_value")))
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, arrival.value())
    decoded = fastavro.schemaless_reader(io.BytesIO(buf.getvalue()), schema, None)
    assert Arrival.from_value(decoded) == arrival
    # a reader that keeps logical types gets a datetime for sim_time
    dated = {**arrival.value(), "sim_time": datetime.fromtimestamp(arrival.t, UTC)}
    assert Arrival.from_value(dated) == arrival


def test_an_arrival_reader_defaults_what_the_course_records_lack() -> None:
    a = Arrival.from_value({"station_id": 40380, "train_id": 7, "line": "Brown"})
    assert (a.train_id, a.direction, a.train_status, a.sim_time, a.seq) == ("7", "a", IN_SERVICE, None, None)
    assert a.t != a.t  # NaN: no time


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1, 2],
        {"train_id": "t", "line": "red"},
        {"station_id": "40380", "train_id": "t", "line": "red"},
        {"station_id": 40380, "line": "red"},
        {"station_id": 40380, "train_id": "t", "line": None},
        {"station_id": 40380, "train_id": "t", "line": "red", "sim_time": "noon"},
    ],
)
def test_a_malformed_arrival_is_rejected(value: object) -> None:
    with pytest.raises(MalformedArrival):
        Arrival.from_value(value)


# ---------------------------------------------------------------------------- prediction


def _prediction() -> Prediction:
    return Prediction(
        40900, "red", "a", "red-0001", "95th/Dan Ryan", 1796130000123, 1796129900000, True, False, True
    )


def test_a_prediction_reads_back_from_its_value_and_its_avro() -> None:
    p = _prediction()
    assert Prediction.from_value(p.value()) == p
    schema = fastavro.parse_schema(without_logical_types(schema_dict("prediction_value")))
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, p.value())
    assert Prediction.from_value(fastavro.schemaless_reader(io.BytesIO(buf.getvalue()), schema, None)) == p


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("x", TypeError),
        ({"station_id": 1, "line": "red", "direction": "a", "train_id": "t"}, KeyError),
        (
            {
                "station_id": "x", "line": "red", "direction": "a", "train_id": "t",
                "predicted_arrival": 1, "generated_at": 0,
            },
            ValueError,
        ),
    ],
)  # fmt: skip
def test_a_malformed_prediction_is_rejected(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        Prediction.from_value(value)


def test_minutes_label() -> None:
    p = Prediction(1, "red", "a", "t", "Howard", 10 * 60_000, 0)
    assert p.minutes_label(0) == "10 min" and p.minutes_label(9 * 60_000 + 1) == "Due"
    p.approaching = True
    assert p.minutes_label(0) == "Due"


# ---------------------------------------------------------------------------- imports


def test_the_records_load_nothing_but_the_standard_library() -> None:
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import cta_core.records.arrival, cta_core.records.control\n"
        "import cta_core.records.prediction, cta_core.records.status\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert "cta_core" in loaded
    assert loaded - set(sys.stdlib_module_names) - {"cta_core"} == set()
