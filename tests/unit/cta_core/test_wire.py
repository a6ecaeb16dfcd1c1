"""Confluent's wire format, shared by every producer and consumer of the project."""

from __future__ import annotations

import pytest

from cta_core import wire


def test_frame_then_split_round_trips() -> None:
    framed = wire.frame(258, b"body")
    assert framed == b"\x00\x00\x00\x01\x02body"
    assert wire.header(258) == framed[: wire.HEADER_SIZE]
    assert wire.split(framed) == (258, b"body")


@pytest.mark.parametrize("data", [None, b"", b"\x00\x00\x00\x01", b"\x01\x00\x00\x00\x01x", b'{"a": 1}'])
def test_unframed_bytes_are_refused(data: bytes | None) -> None:
    with pytest.raises(wire.NotFramed):
        wire.split(data)
