"""The app's actions in one table: keys, footer label, palette title and what each does.

As harlequin's actions: :data:`ACTIONS` maps a name to an :class:`Action`, and the app
builds its ``BINDINGS`` (:func:`app_bindings`), the command palette
(:func:`palette_entries`) and docs/keys.md (:func:`keys_markdown`) from it; the help
screen lists the bindings active where it is opened, so its labels come from here too.
A binding runs an action as ``do('<name>', ...)`` (screens: ``app.do('<name>', ...)``).
The functions below take the app; they hold no state of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from cta_tui.control import next_speed
from cta_tui.help.screen import HelpScreen
from cta_tui.line.screen import LineScreen
from cta_tui.map.screen import MapScreen
from cta_tui.network.screen import NetworkScreen
from cta_tui.pipeline.screen import PipelineScreen
from cta_tui.state.model import LINE_ORDER

if TYPE_CHECKING:
    from cta_tui.app import CtaApp

#: the footer shows + and - as one key group
SPEED = Binding.Group("Speed", compact=True)
#: and [ ] as one: a simulated minute back or forward (the other rewind keys are in
#: help and the palette; below 100 columns the footer is compact to make room)
REWIND = Binding.Group("Rewind", compact=True)


@dataclass(frozen=True)
class Action:
    """One thing the user can do from any screen."""

    #: what it does (None: Textual's own action of the same name, e.g. quit)
    run: Callable[..., None] | None
    #: the footer's (short) label, also the help screen's
    description: str
    #: Textual key names bound on the app ("" when only some screens bind it)
    keys: str = ""
    #: the key as docs, help and palette write it (default: the first of ``keys``)
    key_display: str | None = None
    #: shown in the footer
    show: bool = True
    #: the command palette's title ("" keeps it out of the palette)
    palette: str = ""
    tooltip: str = ""
    group: Binding.Group | None = None
    priority: bool = False

    def shown_key(self) -> str:
        return self.key_display or self.keys.split(",")[0]


def _speed(app: CtaApp) -> float | str | None:
    sim = app.live_state.sim  # the live simulator's, even while rewound
    return sim.speed if sim is not None else None


def toggle_pause(app: CtaApp) -> None:
    sim = app.live_state.sim
    paused = sim.paused if sim is not None else False
    app.send_command("resume" if paused else "pause")


def rewind_back(app: CtaApp, minutes: str = "1") -> None:
    app.rewind_by(-float(minutes))


def rewind_forward(app: CtaApp, minutes: str = "1") -> None:
    app.rewind_by(float(minutes))


def rewind_back_10(app: CtaApp) -> None:
    app.rewind_by(-10)


def rewind_forward_10(app: CtaApp) -> None:
    app.rewind_by(10)


def go_to(app: CtaApp) -> None:
    """Ask for a simulated time (HH:MM) and show that moment."""
    from cta_tui.common.goto_prompt import GoToPrompt

    if isinstance(app.screen, GoToPrompt):
        return
    from cta_tui.rewind.timeline import format_sim

    shown = app.shown_sim_ms()
    prompt = GoToPrompt(format_sim(shown) if shown is not None else "--:--")
    app.push_screen(prompt, lambda text: app.rewind_to(text or ""))


def back_to_live(app: CtaApp) -> None:
    app.back_to_live()


def play_forward(app: CtaApp) -> None:
    app.play_forward()


def faster(app: CtaApp) -> None:
    app.send_command("set_speed", speed=next_speed(_speed(app), faster=True))


def slower(app: CtaApp) -> None:
    app.send_command("set_speed", speed=next_speed(_speed(app), faster=False))


def toggle_units(app: CtaApp) -> None:
    app.celsius = not app.celsius
    app.render_now()


def open_pipeline(app: CtaApp) -> None:
    if not isinstance(app.screen, PipelineScreen):
        app.push_screen(
            PipelineScreen(app.settings.bootstrap_servers, read_only=app.read_only, backend=app.pipeline)
        )
        app.call_after_refresh(app.render_now)


def open_tail(app: CtaApp, topic: str | None = None) -> None:
    """Tail a topic (any screen; the tail screen itself reads what it shows)."""
    from cta_tui.tail.screen import TopicTailScreen

    if isinstance(app.screen, TopicTailScreen):
        return
    from cta_tui.tail.clients import tail_clients

    clients = tail_clients(app, app.settings)  # one consumer for every visit
    app.push_screen(TopicTailScreen(clients.reader, clients.topics, topic=topic))


#: Textual's own keys (focus, copy, ctrl+q): help lists them after the dashboard's
TEXTUAL_ACTIONS = frozenset(b.action for b in (*App.BINDINGS, *Screen.BINDINGS) if isinstance(b, Binding))


def help_keys(app: CtaApp) -> list[tuple[str, str]]:
    """The keys of the bindings active on the app and its current screen (widgets' own
    navigation keys are summarised in the help's notes); 1-8 as one row; Textual's own
    keys last."""
    keys: list[tuple[str, str]] = []
    textual_keys: list[tuple[str, str]] = []
    seen = set()
    lines = False
    for active in app.screen.active_bindings.values():
        binding = active.binding
        if not isinstance(active.node, App | Screen) or not binding.description:
            continue
        if "show_line" in binding.action:
            if not lines:
                keys.append(("1-8", "Choose a line (Red … Orange)"))
                lines = True
            continue
        key = binding.key_display or app.get_key_display(binding)
        if key in seen:
            continue
        seen.add(key)
        (textual_keys if binding.action in TEXTUAL_ACTIONS else keys).append((key, binding.description))
    return keys + textual_keys


def open_help(app: CtaApp) -> None:
    if isinstance(app.screen, HelpScreen):
        return
    notes = [
        "↑ ↓ move · enter or click: open a station's board",
        "ctrl+p: command palette · mouse: tabs, stations, trains",
    ]
    if app.read_only:
        notes.append("read-only: space, + and - and starting/stopping jobs are disabled")
    app.push_screen(HelpScreen(help_keys(app), notes))


def show_line(app: CtaApp, line: str) -> None:
    """Open today's view of ``line`` (the line screen above the network)."""
    if not any(isinstance(s, LineScreen) for s in app.screen_stack):
        app.push_screen(LineScreen(read_only=app.read_only, line=line))
        app.call_after_refresh(app.render_now)
        return
    while not isinstance(app.screen, LineScreen):
        app.pop_screen()
    app.line_screen().action_show_line(line)


def home(app: CtaApp) -> None:
    """Back to the network screen (the home screen)."""
    while len(app.screen_stack) > 1 and not isinstance(app.screen, NetworkScreen):
        app.pop_screen()
    app.mark_dirty()


def open_map(app: CtaApp) -> None:
    if not isinstance(app.screen, MapScreen):
        app.push_screen(MapScreen(read_only=app.read_only))
        app.call_after_refresh(app.render_now)


# Order matters: the footer shows the app's keys in this order (space + - p ? q fit in
# 80 columns; help lists every key in full).
ACTIONS: dict[str, Action] = {
    "toggle_pause": Action(
        toggle_pause,
        "Pause",
        "space",
        palette="Pause or resume the simulator",
        tooltip="Pause or resume the simulator",
    ),
    "faster": Action(
        faster, "Faster", "plus,equals_sign", key_display="+", palette="Simulator faster", group=SPEED
    ),
    "slower": Action(slower, "Slower", "minus", key_display="-", palette="Simulator slower", group=SPEED),
    "rewind_back": Action(
        rewind_back,
        "Back 1 min",
        "left_square_bracket",
        key_display="[",
        palette="Rewind one simulated minute",
        group=REWIND,
    ),
    "rewind_forward": Action(
        rewind_forward,
        "Ahead 1 min",
        "right_square_bracket",
        key_display="]",
        palette="Forward one simulated minute",
        group=REWIND,
    ),
    "rewind_back_10": Action(
        rewind_back_10,
        "Back 10 min",
        "left_curly_bracket",
        key_display="{",
        show=False,
        palette="Rewind ten simulated minutes",
    ),
    "rewind_forward_10": Action(
        rewind_forward_10,
        "Ahead 10 min",
        "right_curly_bracket",
        key_display="}",
        show=False,
        palette="Forward ten simulated minutes",
    ),
    "go_to": Action(go_to, "Go to a time", "g", show=False, palette="Go to a simulated time (rewind)"),
    "play_forward": Action(
        play_forward,
        "Play 1x/10x/60x",
        "greater_than_sign",
        key_display=">",
        show=False,
        palette="Play forward: 1x, 10x, 60x, stop",
    ),
    "back_to_live": Action(back_to_live, "Back to live", "L", show=False, palette="Back to live"),
    "toggle_units": Action(toggle_units, "°F/°C", "u", show=False, palette="Toggle °F / °C"),
    "pipeline": Action(open_pipeline, "Pipeline", "p", palette="Pipeline health"),
    # shown in the pipeline screen's footer (and in help): 80 columns keep ? and q
    "tail": Action(open_tail, "Tail", "t", show=False, palette="Tail a topic"),
    "home": Action(home, "Network", "0", show=False, palette="Network (home)"),
    # bound by the screens that offer them (network, line, map)
    "map": Action(open_map, "Map", key_display="m", palette="Map of the system"),
    "show_line": Action(show_line, "Choose a line (Red … Orange)", key_display="1-8"),
    "help": Action(open_help, "Help", "question_mark", key_display="?", palette="Keys (help)"),
    "quit": Action(None, "Quit", "q"),
    "interrupt": Action(None, "Quit", "ctrl+c", show=False, priority=True),
}


def binding_action(name: str, *args: str) -> str:
    """The Textual action string that runs ``name`` (Textual's own for quit)."""
    if ACTIONS[name].run is None:
        return "quit"
    return f"do({', '.join(repr(a) for a in (name, *args))})"


def app_bindings() -> list[BindingType]:
    """The app's BINDINGS, in the table's order."""
    return [
        Binding(
            action.keys,
            binding_action(name),
            action.description,
            show=action.show,
            key_display=action.key_display,
            priority=action.priority,
            tooltip=action.tooltip,
            group=action.group,
        )
        for name, action in ACTIONS.items()
        if action.keys
    ]


def run(app: CtaApp, name: str, *args: Any) -> None:
    """Run the action ``name`` on ``app``."""
    action = ACTIONS[name].run
    if action is None:
        raise LookupError(f"{name} is Textual's own action: bind {binding_action(name)!r}")
    action(app, *args)


def palette_entries() -> list[tuple[str, str, tuple[str, ...], str]]:
    """(title, action name, arguments, key) for the command palette: one per action with a
    palette title, one per line."""
    out: list[tuple[str, str, tuple[str, ...], str]] = [
        (a.palette, name, (), a.shown_key()) for name, a in ACTIONS.items() if a.palette
    ]
    out += [
        (f"Show the {line.title()} line", "show_line", (line,), str(i + 1))
        for i, line in enumerate(LINE_ORDER)
    ]
    return out


def keys_markdown() -> str:
    """docs/keys.md's table of the keys every screen has."""
    rows = ["| key | action |", "|---|---|"]
    seen: set[str] = set()
    for action in ACTIONS.values():
        key = action.shown_key()
        if key in seen:
            continue
        seen.add(key)
        rows.append(f"| `{key}` | {action.palette or action.description} |")
    return "\n".join(rows) + "\n"
