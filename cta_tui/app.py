"""The Textual app: feed and health workers, the state, and redraws coalesced to ~7/s.

Workers run in threads and only post messages; the message handlers apply records to
the pure :class:`DashboardState` and mark it dirty; a 0.15 s timer redraws the current
screen when dirty (and once a second for ages). The keys run the actions of one table
(:mod:`cta_tui.actions`) through :meth:`CtaApp.action_do`. :func:`make_app` builds the
app for the CLI and the tests alike.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState, get_current_worker

from cta_core import topics
from cta_core.backoff import Backoff
from cta_core.records.control import make_command
from cta_core.settings import Settings
from cta_tui.actions import app_bindings
from cta_tui.actions import run as run_action
from cta_tui.commands import CtaCommands
from cta_tui.control import (
    ACK_TIMEOUT,
    ControlPublisher,
    PendingAcks,
    default_sender,
)
from cta_tui.feeds.health import HealthProbe
from cta_tui.feeds.pipeline_probe import PipelineBackend
from cta_tui.feeds.source import RecordSource
from cta_tui.line.screen import LineScreen
from cta_tui.messages import (
    ArrivalsReceived,
    FeedConnected,
    FeedFailed,
    FeedRecovered,
    FeedStatsReceived,
    HealthChecked,
    RecordsReceived,
    SimStatusReceived,
    SimulatorAcknowledged,
    StationsReceived,
    SummaryReceived,
    WeatherReceived,
)
from cta_tui.network.screen import NetworkScreen
from cta_tui.rewind.controller import RewindControl
from cta_tui.rewind.engine import Rewinder
from cta_tui.state.model import DashboardState, ServiceHealth
from cta_tui.state.records import Batch
from cta_tui.state.reducers import apply_records
from cta_tui.station.screen import StationBoardScreen
from cta_tui.station.view import followed_stops

#: Which message carries which topic's records.
MESSAGE_FOR_TOPIC: dict[str, type[RecordsReceived]] = {
    topics.ARRIVALS: ArrivalsReceived,
    topics.STATIONS_TABLE: StationsReceived,
    topics.TURNSTILE_SUMMARY: SummaryReceived,
    topics.WEATHER: WeatherReceived,
    topics.SIM_STATUS: SimStatusReceived,
}

#: Themes: the default, and a low-colour one (ANSI colours only) for --theme low.
THEMES = {"default": "textual-dark", "low": "ansi-dark"}
#: the feed hands the screens at most one batch this often (seconds): records that come
#: in meanwhile wait in the consumer, so a busy stream costs one wake-up of the app per
#: period instead of one per fetch (well within the 0.15 s redraw period)
FEED_PERIOD = 0.02


class CtaApp(App[None], RewindControl):
    CSS_PATH = "app.tcss"
    TITLE = "cta-live"
    COMMANDS: ClassVar = App.COMMANDS | {CtaCommands}
    #: built from the actions table (cta_tui/actions.py), in its order
    BINDINGS: ClassVar[list[BindingType]] = app_bindings()

    #: coalesced redraw period (about 7 per second at most): trains move a cell every
    #: ~0.4 s at 120 columns, and each redraw costs; 0.1 s cost a third more CPU at
    #: --speed 60 for no visible gain (docs/benchmarks.md, tui), within the p99 250 ms
    REFRESH_PERIOD = 0.15
    #: the screen under a modal (help) is redrawn at most this often: it is shown
    #: dimmed, and each change to it makes Textual tint and repaint the whole terminal
    UNDER_MODAL_PERIOD = 2.0
    #: batches posted and not yet applied; the feed worker waits beyond this (backpressure,
    #: so a fast topic cannot queue unbounded memory in the message queue)
    MAX_IN_FLIGHT = 4

    def __init__(
        self,
        settings: Settings,
        source: RecordSource,
        control: ControlPublisher,
        *,
        read_only: bool = False,
        health: HealthProbe | None = None,
        clock: Callable[[], float] = time.time,
        theme: str = "default",
        max_records: int = 5000,
        poll_timeout: float = 0.2,
        feed_period: float = FEED_PERIOD,
        backoff: tuple[float, float] = (0.5, 10.0),
        health_interval: float = 5.0,
        feeds: bool = True,
        sender: str | None = None,
        pipeline: Callable[[], PipelineBackend] | None = None,
        rewind: Callable[[], Rewinder] | None = None,
        start_at: tuple[str | None, str | None] = (None, None),
    ) -> None:
        super().__init__()
        self.init_rewind(rewind)
        #: ``--at TIME [--run RUN_ID]``: the moment to open at
        self.start_at = start_at
        #: makes the pipeline screen's backend (jobs, lag); None: no job control here
        self.pipeline = pipeline
        #: who this dashboard's commands come from (``sender`` in docs/control-protocol.md)
        self.sender = sender if sender is not None else default_sender()
        self.settings = settings
        self.source = source
        self.control = control
        self.read_only = read_only
        self.health = health
        self.clock = clock
        self.max_records = max_records
        self.poll_timeout = poll_timeout
        self.feed_period = feed_period
        self.backoff = backoff
        self.health_interval = health_interval
        self.feeds_enabled = feeds
        #: what the live feed applies to; ``state`` is what the screens show (this, or a
        #: rewound moment's own state)
        self.live_state = DashboardState()
        self.state = self.live_state
        self.pending = PendingAcks()
        self.follow_train: str | None = None
        #: weather in °C instead of °F (the `u` key), for every screen's status bar
        self.celsius = False
        self.note = ""
        self._dirty = True
        self._last_draw = 0.0
        self._last_under_modal = 0.0
        self._predictions_shown = True
        self.redraws = 0
        self.theme = THEMES.get(theme, theme)
        self._in_flight = threading.BoundedSemaphore(self.MAX_IN_FLIGHT)

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        self.push_screen(NetworkScreen(read_only=self.read_only))
        self.set_interval(self.REFRESH_PERIOD, self._tick)
        if self.feeds_enabled:
            self.consume_feeds()
            if self.health is not None:
                self.check_health()
        at, run_id = self.start_at
        if at is not None:
            self._run_id = run_id
            self.read_moment(None, at)

    def on_unmount(self) -> None:
        with contextlib.suppress(Exception):  # closing must not mask the exit
            self.control.close()
        if self._rewinder is not None:
            with contextlib.suppress(Exception):
                self._rewinder.reader.close()

    # ------------------------------------------------------------------ workers

    @work(thread=True, exclusive=True, exit_on_error=False, group="feeds")
    def consume_feeds(self) -> None:
        """Poll the source until cancelled; one message per topic per batch; retry with backoff."""
        worker = get_current_worker()
        backoff = Backoff(*self.backoff)
        failing = False
        announced = False
        try:
            while not worker.is_cancelled:
                started = time.monotonic()
                try:
                    batch = self.source.poll(self.max_records, self.poll_timeout)
                except Exception as exc:
                    failing = True
                    delay = backoff.next()
                    self.post_message(FeedFailed(str(exc), delay))
                    deadline = time.monotonic() + delay
                    while not worker.is_cancelled and time.monotonic() < deadline:
                        time.sleep(0.05)
                    continue
                backoff.reset()
                if failing:
                    failing = False
                    announced = True
                    self.post_message(FeedRecovered())
                elif not announced:
                    # On a fresh cluster no topic may have data yet: still say Kafka answers.
                    announced = True
                    self.post_message(FeedConnected())
                if batch.records:
                    while not self._in_flight.acquire(timeout=0.1):
                        if worker.is_cancelled:
                            return
                self._post_batch(batch)
                if batch.records:
                    # let the next records gather: one batch per period, not one per fetch
                    rest = self.feed_period - (time.monotonic() - started)
                    if rest > 0:
                        time.sleep(rest)
        finally:
            self.source.close()

    def _post_batch(self, batch: Batch) -> None:
        """One message per topic; the batch holds one in-flight slot, released when its
        last message has been applied."""
        items = list(batch.records.items())
        for i, (topic, records) in enumerate(items):
            message = MESSAGE_FOR_TOPIC.get(topic, RecordsReceived)(records)
            message.releases_slot = i == len(items) - 1
            self.post_message(message)
        if batch.malformed or batch.lag:
            self.post_message(FeedStatsReceived(Batch(malformed=batch.malformed, lag=batch.lag)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="health")
    def check_health(self) -> None:
        worker = get_current_worker()
        probe = self.health
        if probe is None:
            return
        try:
            while not worker.is_cancelled:
                try:
                    services = probe.check()
                except Exception as exc:  # a probe bug must not stop the checks
                    services = [ServiceHealth("health checks", "", False, f"failed: {exc}")]
                self.post_message(HealthChecked(services))
                deadline = time.monotonic() + self.health_interval
                while not worker.is_cancelled and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            probe.close()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died shows as a feed error; the app keeps running."""
        if event.state == WorkerState.ERROR and event.worker.group == "rewind":
            self._reading = None
            self.notify_rewind(f"rewind failed: {event.worker.error}", warning=True)
            self.rewind_changed()
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.state.feed_error = f"{event.worker.group} worker failed: {error}"
            self.notify(f"{self.state.feed_error}; restarting it", severity="error", timeout=8)
            restart = self.consume_feeds if event.worker.group == "feeds" else self.check_health
            self.set_timer(self.backoff[1], restart)
            self.mark_dirty()

    # ------------------------------------------------------------------ messages

    def _apply(self, message: RecordsReceived, topic: str) -> None:
        if message.releases_slot:
            message.releases_slot = False
            self._in_flight.release()
        live = self.live_state
        apply_records(live, topic, message.records, self.clock())
        live.feed_connected = True
        live.feed_error = None
        self.mark_dirty()

    def on_arrivals_received(self, message: ArrivalsReceived) -> None:
        self._apply(message, topics.ARRIVALS)

    def on_stations_received(self, message: StationsReceived) -> None:
        self._apply(message, topics.STATIONS_TABLE)

    def on_summary_received(self, message: SummaryReceived) -> None:
        self._apply(message, topics.TURNSTILE_SUMMARY)

    def on_weather_received(self, message: WeatherReceived) -> None:
        self._apply(message, topics.WEATHER)

    def on_sim_status_received(self, message: SimStatusReceived) -> None:
        self._apply(message, topics.SIM_STATUS)
        sim = self.live_state.sim
        if sim is not None and sim.last_command_id:
            command = self.pending.acknowledged(sim.last_command_id)
            if command is not None:
                self.post_message(SimulatorAcknowledged(command, sim.last_command_id))

    def on_records_received(self, message: RecordsReceived) -> None:
        if message.records:
            self._apply(message, message.records[0].topic)

    def on_feed_stats_received(self, message: FeedStatsReceived) -> None:
        live = self.live_state
        for topic, n in message.batch.malformed.items():
            live.topic(topic).malformed += n
        for topic, lag in message.batch.lag.items():
            live.topic(topic).lag = lag
        live.feed_connected = True
        self.mark_dirty()

    def on_feed_failed(self, message: FeedFailed) -> None:
        first = self.live_state.feed_error is None
        self.live_state.feed_error = message.error
        self.live_state.feed_connected = False
        if first:
            self.notify(f"{message.error} — retrying", severity="warning", timeout=6)
        self.mark_dirty()

    def on_feed_connected(self, _message: FeedConnected) -> None:
        self.live_state.feed_connected = True
        self.mark_dirty()

    def on_feed_recovered(self, _message: FeedRecovered) -> None:
        self.live_state.feed_error = None
        self.live_state.feed_connected = True
        self.notify("Kafka is reachable again")
        self.mark_dirty()

    def on_health_checked(self, message: HealthChecked) -> None:
        self.live_state.services = {s.name: s for s in message.services}
        self.mark_dirty()

    def on_simulator_acknowledged(self, message: SimulatorAcknowledged) -> None:
        self.note = f"✔ {message.command} applied"
        self.notify(f"simulator applied {message.command}", timeout=3)
        self.mark_dirty()

    # ------------------------------------------------------------------ drawing

    def mark_dirty(self) -> None:
        """Note that the state changed. The 0.15 s timer redraws; under a flood of
        batches the timer can be starved, so a redraw that is due happens here."""
        self._dirty = True
        if self._last_draw and time.monotonic() - self._last_draw >= self.REFRESH_PERIOD * 1.5:
            self.render_now()

    def _tick(self) -> None:
        now = self.clock()
        for name in self.pending.expired(now, ACK_TIMEOUT):
            self.note = f"✖ {name}: no simulator answered"
            self.notify(f"no simulator answered ({name}) within {ACK_TIMEOUT:g} s", severity="warning")
            self._dirty = True
        if self._dirty or time.monotonic() - self._last_draw >= 1.0:
            self.render_now()

    def render_now(self) -> None:
        """Redraw the visible screen from the state (the timer calls this at most ~7/s);
        under a modal (help) the screen below is visible too, redrawn less often."""
        if not self.screen_stack:  # shutting down (or not started): nothing to draw
            return
        self._dirty = False
        self._last_draw = time.monotonic()
        visible = [self.screen]
        if self._under_modal_due():
            self._last_under_modal = self._last_draw
            visible.append(self.screen_stack[-2])
        now = self.view_now()
        self._mirror_live()
        self._want_predictions()
        for screen in visible:
            show = getattr(screen, "show_state", None)
            if show is not None:
                try:
                    show(self.state, now, self.note)
                except NoMatches:  # the screen is still being composed: next tick
                    self._dirty = True
                    continue
                self.redraws += 1

    def _want_predictions(self) -> None:
        """Read the predictions only while a screen that shows them is open (the station
        board, the line view's delay marks) or a train is followed: about 14 records per
        arrival, the biggest stream the dashboard reads, which the others never show."""
        want = getattr(self.source, "want", None)
        if want is not None:
            shown = self.follow_train is not None or any(
                isinstance(screen, (StationBoardScreen, LineScreen)) for screen in self.screen_stack
            )
            want(topics.PREDICTIONS, shown)
            if not shown and self._predictions_shown:
                # what waits undecoded is read again, its newest part, when one opens
                self.live_state.predictions.pending.clear()
            self._predictions_shown = shown

    def _mirror_live(self) -> None:
        """A rewound state shows the live feed's health and the services as they are now."""
        shown, live = self.state, self.live_state
        if shown is not live:
            shown.feed_error, shown.feed_connected, shown.services = (
                live.feed_error,
                live.feed_connected,
                live.services,
            )

    def notify_rewind(self, text: str, warning: bool = False) -> None:
        self.notify(text, severity="warning" if warning else "information", timeout=6 if warning else 3)

    def rewind_changed(self) -> None:
        self.mark_dirty()
        self.render_now()

    def _under_modal_due(self) -> bool:
        """A modal (help) is up and the screen under it is due for a redraw."""
        if not isinstance(self.screen, ModalScreen) or len(self.screen_stack) < 2:
            return False
        return self._last_draw - self._last_under_modal >= self.UNDER_MODAL_PERIOD

    def line_screen(self) -> LineScreen:
        for screen in self.screen_stack:
            if isinstance(screen, LineScreen):
                return screen
        raise LookupError("no line screen")

    # ------------------------------------------------------------------ actions

    def send_command(self, command: str, **fields: Any) -> None:
        """Send a control command to the simulator on screen (refused when read-only)."""
        if self.read_only:
            self.notify("read-only: control keys are disabled", severity="warning", timeout=3)
            return
        sim = self.live_state.sim
        if sim is not None and sim.run_id:
            fields["run_id"] = sim.run_id  # the run on screen, not every simulator on the topic
        cmd = make_command(command, sender=self.sender, **fields)
        try:
            self.control.send(cmd)
        except Exception as exc:
            self.notify(f"could not send {command}: {exc}", severity="error")
            return
        self.pending.sent(cmd, self.clock())
        self.note = f"… {command} sent" + (" to the live simulator" if self.rewinding else "")
        self.mark_dirty()

    def action_do(self, name: str, *args: str) -> None:
        """Run an action of the table (:data:`cta_tui.actions.ACTIONS`): every binding of
        the app, and the screens' bindings to app actions, come here."""
        run_action(self, name, *args)

    def open_station(self, station_id: int) -> None:
        self.push_screen(StationBoardScreen(station_id, read_only=self.read_only))
        self.call_after_refresh(self.render_now)

    def follow(self, train_id: str) -> None:
        """Follow a train: back to the line screen on its line, its station highlighted."""
        self.follow_train = train_id
        train = self.state.trains.get(train_id)
        while not isinstance(self.screen, LineScreen | NetworkScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        if train is not None:
            if isinstance(self.screen, LineScreen):
                self.line_screen().show_station(train.line, train.station_id)
            else:  # the line view opens on the train's line; its first redraw highlights it
                self.action_do("show_line", train.line)
        stops = followed_stops(self.state, train_id)  # its next stops, from the predictions
        self.notify(stops or f"following train {train_id}", timeout=8 if stops else 3)
        self.mark_dirty()


def make_app(
    settings: Settings,
    source: RecordSource,
    *,
    read_only: bool = False,
    control: ControlPublisher | None = None,
    health: HealthProbe | None = None,
    clock: Callable[[], float] = time.time,
    theme: str = "default",
    **options: Any,
) -> CtaApp:
    """Build the dashboard. Without ``control`` commands go to Kafka (``SIM_CONTROL``)."""
    if control is None:
        from cta_tui.control import KafkaControlPublisher

        control = KafkaControlPublisher(settings)
    return CtaApp(
        settings, source, control, read_only=read_only, health=health, clock=clock, theme=theme, **options
    )
