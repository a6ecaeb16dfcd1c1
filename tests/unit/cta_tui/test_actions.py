"""The actions table: the app's bindings, the palette and docs/keys.md come from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cta_tui import actions
from cta_tui.app import CtaApp

DOCS_KEYS = Path(__file__).resolve().parents[3] / "docs" / "keys.md"


def test_the_app_binds_the_table_in_its_order_with_its_labels() -> None:
    bound = [(b.key, b.description, b.show) for b in CtaApp.BINDINGS if not isinstance(b, tuple)]
    assert bound == [
        ("space", "Pause", True),
        ("plus,equals_sign", "Faster", True),
        ("minus", "Slower", True),
        ("left_square_bracket", "Back 1 min", True),
        ("right_square_bracket", "Ahead 1 min", True),
        ("left_curly_bracket", "Back 10 min", False),
        ("right_curly_bracket", "Ahead 10 min", False),
        ("g", "Go to a time", False),
        ("greater_than_sign", "Play 1x/10x/60x", False),
        ("L", "Back to live", False),
        ("u", "°F/°C", False),
        ("p", "Pipeline", True),
        ("t", "Tail", False),
        ("0", "Network", False),
        ("question_mark", "Help", True),
        ("q", "Quit", True),
        ("ctrl+c", "Quit", False),
    ]


def test_bindings_run_table_actions_and_quit_stays_textuals() -> None:
    assert actions.binding_action("faster") == "do('faster')"
    assert actions.binding_action("show_line", "red") == "do('show_line', 'red')"
    assert actions.binding_action("quit") == actions.binding_action("interrupt") == "quit"
    ctrl_c = next(b for b in actions.app_bindings() if not isinstance(b, tuple) and b.key == "ctrl+c")
    assert ctrl_c.priority


def test_running_textuals_own_action_through_the_table_says_how_to_bind_it() -> None:
    with pytest.raises(LookupError, match="quit"):
        actions.run(None, "quit")  # type: ignore[arg-type]


def test_the_palette_offers_every_titled_action_and_each_line() -> None:
    entries = {title: (name, args, key) for title, name, args, key in actions.palette_entries()}
    assert entries["Pipeline health"] == ("pipeline", (), "p")
    assert entries["Simulator faster"] == ("faster", (), "+")
    assert entries["Show the Orange line"] == ("show_line", ("orange",), "8")
    assert all(name in actions.ACTIONS for name, _, _ in entries.values())


def test_docs_keys_holds_the_table_generated_from_the_actions() -> None:
    table = actions.keys_markdown()
    assert "| `?` | Keys (help) |" in table and "| `1-8` | Choose a line (Red … Orange) |" in table
    assert table in DOCS_KEYS.read_text(encoding="utf-8")
