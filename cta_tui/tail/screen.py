"""Topic tail (``t``): any topic's newest records, decoded, live.

Pick a topic; a thread worker reads it (:class:`~cta_tui.feeds.tail_source.TailSource`:
Avro through the registry, JSON, text, else hex) and posts batches; the screen keeps
the last ``ring`` records (:class:`~cta_tui.state.tail.TailRing`) and shows those
matching the filter. ``space`` pauses (the worker stops reading), ``g`` / ``G``
jump to the oldest record / back to the newest (as in ``less``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from cta_tui.common.burst_keys import route_to_box
from cta_tui.common.footer import CtaFooter
from cta_tui.state.tail import TailRecord
from cta_tui.tail.view import TailRing

#: Records kept on screen: a few screens' worth to scroll back through (``g`` reads
#: the topic again from its start). Each record that falls out is a row the table
#: removes, at a cost that grows with the rows it holds, so more costs CPU on every batch
RING_SIZE = 200
#: Records per partition shown at once when a topic is opened.
BACKLOG = 50
#: Characters of a value shown in the table (the highlighted one is shown whole below):
#: every row the table repaints is rendered this wide, so wider costs CPU on every batch
VALUE_WIDTH = 120
#: The table's columns and their widths: fixed, so the rows added are not measured cell
#: by cell (nor the screen laid out again for a column grown wider); a longer time,
#: partition or offset is cut at the width. The key's column fits its keys (at most 24
#: characters are shown): short ones leave the value room at 80 columns
COLUMNS = (("time", 12), ("p", 2), ("offset", 9), ("key", None), ("value", VALUE_WIDTH))
#: Seconds the records read are gathered before the table changes (one repaint for all)
FLUSH_S = 0.5
#: Records a second past which rows scroll by faster than the eye reads them: the table
#: then changes every SLOW_FLUSH_S (the info line says so), a repaint of every visible
#: row each time, at half the cost or less
FAST_RATE = 10.0
SLOW_FLUSH_S = 2.0
#: Rows of records that fell out of the ring, left in the table until this many have
#: gathered and then dropped with one rebuild (a removed row costs in proportion to the
#: table's size, a rebuild about as much as one row each)
TRIM_BATCH = 50


class TailReader(Protocol):
    """What the tail worker reads from (``TailSource``, or a list in tests)."""

    def seek_start(self) -> None: ...

    def seek_end(self, last: int | None = None) -> None: ...

    def poll(self, max_records: int = 500, timeout: float = 0.2) -> list[TailRecord]: ...

    def close(self) -> None: ...


#: (topic) -> a reader; ``list_topics`` () -> names
ReaderFactory = Callable[[str], TailReader]
TopicLister = Callable[[], list[str]]


class TopicTailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("space", "pause", "Pause"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("g", "jump('start')", "Oldest"),
        Binding("G", "jump('end')", "Newest"),
        # the app's simulator keys leave the footer to this screen's at 80 columns
        Binding("plus,equals_sign", "app.do('faster')", "Faster", show=False),
        Binding("minus", "app.do('slower')", "Slower", show=False),
        Binding("p", "app.do('pipeline')", "Pipeline", show=False),
    ]

    @dataclass
    class TopicsListed(Message):
        names: list[str]

    @dataclass
    class RecordsRead(Message):
        generation: int
        records: list[TailRecord]

    @dataclass
    class TailFailed(Message):
        error: str

    def __init__(
        self,
        readers: ReaderFactory,
        lister: TopicLister,
        *,
        topic: str | None = None,
        ring: int = RING_SIZE,
        backlog: int = BACKLOG,
    ) -> None:
        super().__init__()
        self.readers = readers
        self.lister = lister
        self.topic = topic
        self.ring = TailRing(ring)
        self.backlog = backlog
        self.paused = False
        self.needle = ""
        #: bumped on every (re)start so batches of an earlier reader are dropped
        self.generation = 0
        self._shown: set[tuple[int, int]] = set()
        #: the highlighted row's key (the value below changes only when it does)
        self._highlighted_key: str | None = None
        self._error = ""
        #: records read and not shown yet (shown together every FLUSH_S)
        self._incoming: list[TailRecord] = []
        self._flush_due = False
        #: records a second over the last flush (sets the next flush's delay)
        self._rate = 0.0
        #: None until the first flush after a start (the backlog is no rate)
        self._last_flush: float | None = None
        #: records that fell out of the ring and whose rows are still in the table
        self._stale: dict[str, TailRecord] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="tail-bar"):
            yield Select[str]([], prompt="topic", id="tail-topic", allow_blank=True)
            yield Input(placeholder="filter (/)", id="tail-filter")
        yield Static("", id="tail-info")
        yield DataTable[str | Text](id="tail-table", cursor_type="row")
        yield Static("", id="tail-value")
        yield CtaFooter()

    def on_mount(self) -> None:
        table = self.query_one("#tail-table", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        self.list_topics()
        if self.topic:
            self.start(self.topic, "end")
        self._info()

    # ------------------------------------------------------------------ workers

    @work(thread=True, exit_on_error=False, group="tail-topics")
    def list_topics(self) -> None:
        self.post_message(self.TopicsListed(self.lister()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="tail")
    def read(self, topic: str, where: str, generation: int) -> None:
        worker = get_current_worker()
        reader = self.readers(topic)
        try:
            if where == "start":
                reader.seek_start()
            else:
                reader.seek_end(self.backlog)
            while not worker.is_cancelled:
                if self.paused:
                    time.sleep(0.1)
                    continue
                records = reader.poll(500, 0.2)
                if records and not worker.is_cancelled:
                    self.post_message(self.RecordsRead(generation, records))
        finally:
            reader.close()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            event.stop()
            self.post_message(self.TailFailed(str(event.worker.error)))

    # ------------------------------------------------------------------ control

    def start(self, topic: str, where: str) -> None:
        self.topic = topic
        self.generation += 1
        self.ring.clear()
        self._shown.clear()
        self._incoming.clear()
        self._stale.clear()
        self._rate, self._last_flush = 0.0, None
        self._highlighted_key = None
        self._error = ""
        self.query_one("#tail-table", DataTable).clear()
        self.read(topic, where, self.generation)
        self._info()

    def action_back(self) -> None:
        if self.focused is self.query_one("#tail-filter", Input):
            self.query_one("#tail-table", DataTable).focus()
            return
        self.app.pop_screen()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._info()

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#tail-filter", Input))

    def on_key(self, event: events.Key) -> None:
        route_to_box(
            self,
            event,
            self.query_one("#tail-filter", Input),
            open_key="slash",
            open_box=self.action_filter,
            submit=self._filter_done,
        )

    def action_jump(self, where: str) -> None:
        if self.topic is None:
            self.notify("pick a topic first", severity="warning", timeout=3)
            return
        self.paused = False
        self.start(self.topic, where)

    # ------------------------------------------------------------------ messages

    def on_topic_tail_screen_topics_listed(self, message: TopicsListed) -> None:
        select = self.query_one("#tail-topic", Select)
        names = list(message.names)
        if self.topic and self.topic not in names:
            names.append(self.topic)
        with select.prevent(Select.Changed):
            select.set_options((n, n) for n in names)
            if self.topic:
                select.value = self.topic

    @on(Select.Changed, "#tail-topic")
    def _topic_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.topic:
            self.start(event.value, "end")
            self.query_one("#tail-table", DataTable).focus()

    @on(Input.Changed, "#tail-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self._redraw()

    @on(Input.Submitted, "#tail-filter")
    def _filter_done(self) -> None:
        self.query_one("#tail-table", DataTable).focus()

    def on_topic_tail_screen_records_read(self, message: RecordsRead) -> None:
        if message.generation != self.generation:
            return
        self._incoming.extend(message.records)
        if not self._flush_due:
            self._flush_due = True
            self.set_timer(self._flush_delay(), self._flush)

    def _flush_delay(self) -> float:
        return SLOW_FLUSH_S if self._rate > FAST_RATE else FLUSH_S

    def _flush(self) -> None:
        """Show the records gathered since the last flush (one table change for all)."""
        self._flush_due = False
        records, self._incoming = self._incoming, []
        now = time.monotonic()
        last, self._last_flush = self._last_flush, now
        self._rate = 0.0 if last is None else len(records) / max(now - last, FLUSH_S)
        if not records:
            return
        table = self.query_one("#tail-table", DataTable)
        follow = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        for old in self.ring.extend(records):
            key = (old.partition, old.offset)
            if key in self._shown:
                self._shown.discard(key)
                self._stale[_row_key(old)] = old
        if len(self._stale) >= TRIM_BATCH or len(records) > self.ring.size:
            self._rebuild(table, follow)
            return
        for record in records:
            if record.matches(self.needle):
                self._add(table, record)
        if follow and table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self._info()

    def _rebuild(self, table: DataTable[Any], follow: bool) -> None:
        """The table again from the ring (drops the rows of records that fell out), the
        cursor kept on its record when it is still there, else on the newest."""
        at = (
            None
            if follow or table.row_count == 0
            else table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        )
        self._redraw()
        if at is not None and at in table.rows:
            table.move_cursor(row=table.get_row_index(at), animate=False)

    def on_topic_tail_screen_tail_failed(self, message: TailFailed) -> None:
        self._error = message.error
        self.notify(f"tail: {message.error}", severity="error", timeout=6)
        self._info()

    @on(DataTable.RowHighlighted, "#tail-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key == self._highlighted_key:
            return  # the table re-announces the row under the cursor on every row removed
        self._highlighted_key = key
        record = self._record(key)
        text = "" if record is None else f"key {record.key_text} · {record.value_format}: {record.value_text}"
        self.query_one("#tail-value", Static).update(Text(text[:2000]))

    def _record(self, key: str | None) -> TailRecord | None:
        """The record of a row (newest first: the cursor is mostly at the bottom)."""
        found = next((r for r in reversed(self.ring.records) if _row_key(r) == key), None)
        return found if found is not None or key is None else self._stale.get(key)

    # ------------------------------------------------------------------ drawing

    def _add(self, table: DataTable[Any], record: TailRecord) -> None:
        self._shown.add((record.partition, record.offset))
        cells = (
            record.time_text(),
            str(record.partition),
            str(record.offset),
            record.key_text[:24],
            record.value_text[:VALUE_WIDTH],
        )
        table.add_row(*(_cell(c) for c in cells), key=_row_key(record))

    def _redraw(self) -> None:
        table = self.query_one("#tail-table", DataTable)
        table.clear()
        self._shown.clear()
        self._stale.clear()
        for record in self.ring.matching(self.needle):
            self._add(table, record)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self._info()

    def _info(self) -> None:
        text = Text()
        if self.topic is None:
            text.append("pick a topic (tab to the list, enter)", style="dim")
        else:
            text.append(f"{self.topic} ", style="bold")
            text.append("⏸ paused" if self.paused else "▶ live", style="yellow" if self.paused else "green")
            if self._rate > FAST_RATE and not self.paused:
                text.append(f" {self._rate:.0f}/s, shown every {SLOW_FLUSH_S:g} s", style="dim")
            shown = len(self._shown)
            text.append(f" · {shown}/{len(self.ring)} shown (last {self.ring.size} kept)")
            if self.needle:
                text.append(f" · filter {self.needle!r}")
        if self._error:
            text.append(f" · ✖ {self._error}", style="bold red")
        self.query_one("#tail-info", Static).update(text)

    @property
    def rows(self) -> list[list[str]]:
        """The table's cells as text (tests)."""
        table = self.query_one("#tail-table", DataTable)
        return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _cell(text: str) -> Text:
    """A cell as plain text: a record's text is not Rich markup (``[b]`` is shown as is),
    and one line (no wrapping to measure)."""
    return Text(text, no_wrap=True, end="")


def _row_key(record: TailRecord) -> str:
    return f"{record.partition}:{record.offset}"
