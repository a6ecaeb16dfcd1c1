"""Station labels (pure), for the network's panels and the map: short names placed on a
row without overlapping."""

from __future__ import annotations


def short_label(name: str, limit: int = 14) -> str:
    """A station name short enough for the labels row: "Harold Washington Library-State/Van
    Buren" -> "Harold", "95th/Dan Ryan" -> "95th"."""
    head = name.split("/")[0].split("-")[0].strip()
    if len(head) > limit:
        head = head.split(" ")[0]
    return head[:limit]


def place_labels(items: list[tuple[int, str, int]], width: int) -> list[tuple[int, str]]:
    """Station labels placed on one row without overlapping: ``items`` are (column,
    text, priority); higher priority first, each centred on its column and kept inside
    ``width``, with a blank cell between two labels. Returns (start column, text)."""
    taken: list[tuple[int, int]] = []
    placed: list[tuple[int, str]] = []
    for x, text, _ in sorted(items, key=lambda i: (-i[2], i[0])):
        text = text[:width]
        start = min(max(0, x - len(text) // 2), width - len(text))
        end = start + len(text)
        if any(start < e + 1 and s < end + 1 for s, e in taken):
            continue
        taken.append((start, end))
        placed.append((start, text))
    return sorted(placed)
