"""Feeds: where the runner gets its records from.

:class:`InlinePipe` runs the engine and the preparer in the runner's own process.
:class:`ProcessPipe` runs them in a second process and streams the records through a
pipe, so simulating and encoding (about half of the simulator's per-event work) run on
one core while the runner and confluent-kafka produce on another: at ``--speed max`` this
is what lets one simulator keep up with a bare producer. Both give the same records for
the same seed and options.

The engine process is a fresh interpreter (``python -m producers_sim.engine_process``;
never a fork: the simulator has threads by then, and not ``multiprocessing``'s spawn,
which re-runs the parent's main module). It gets the parent's ``sys.path``, then the spec
and preparer, pickled, on stdin, and writes framed pickles (``multiprocessing``'s
:class:`~multiprocessing.connection.Connection`) to a pipe of its own. It ignores Ctrl+C
(the terminal sends it to the whole process group; the runner decides when to stop) and
ends when the runner closes the pipe, or when it finds the pipe closed because the
runner died. It runs ahead of the runner only as far as the pipe holds, so memory stays
flat and a paused run costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Protocol

from producers_sim.engine import Engine, EngineOptions
from producers_sim.network import load_network
from producers_sim.prepare import Preparer
from producers_sim.records import SinkRecord, record_time

#: asked of the kernel for the pipe (Linux; the default is 64 KiB): the engine runs ahead
#: of the producer by up to this much, smoothing out the two sides' hiccups
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named only from Python 3.12 on


class EngineFailed(RuntimeError):
    """The engine process failed or went away."""


class EnginePipe(Protocol):
    seed: int
    start: float
    lines: list[str]

    @property
    def trains_in_service(self) -> int: ...

    def batches(self) -> Iterator[list[SinkRecord]]:
        """Records in time order, one list per simulated minute (some may be empty),
        forever; raises :class:`EngineFailed` if the engine process fails."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineSpec:
    """What builds an :class:`Engine`, in picklable form."""

    lines: tuple[str, ...]
    start: float
    seed: int
    options: EngineOptions

    def build(self) -> Engine:
        return Engine(load_network(self.lines), self.start, self.seed, self.options)


class InlinePipe:
    def __init__(self, engine: Engine, preparer: Preparer):
        self.engine = engine
        self.preparer = preparer
        self.seed = engine.seed
        self.start = engine.start
        self.lines = engine.network.lines

    @property
    def trains_in_service(self) -> int:
        return self.engine.trains_in_service

    def batches(self) -> Iterator[list[SinkRecord]]:
        prepare = self.preparer.prepare
        for minute in self.engine.minutes():
            records = prepare(minute)
            records.sort(key=record_time)
            yield records

    def close(self) -> None:
        pass


class ProcessPipe:
    def __init__(self, spec: EngineSpec, preparer: Preparer):
        self.seed = spec.seed
        self.start = spec.start
        self.lines = list(spec.lines)
        self._trains = 0
        read_fd, write_fd = os.pipe()
        _enlarge_pipe(write_fd)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "producers_sim.engine_process", str(write_fd)],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child's copy is the only writer left: its exit is our EOF
        self._conn = Connection(read_fd, writable=False)
        assert self._process.stdin is not None
        # (a child that died at once: batches() says so)
        with contextlib.suppress(BrokenPipeError), self._process.stdin as stdin:
            pickle.dump(sys.path, stdin)
            pickle.dump((spec, preparer), stdin, pickle.HIGHEST_PROTOCOL)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def trains_in_service(self) -> int:
        return self._trains

    def batches(self) -> Iterator[list[SinkRecord]]:
        recv, loads = self._conn.recv_bytes, pickle.loads
        while True:
            try:
                message = loads(recv())
            except (EOFError, OSError):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(timeout=5)
                raise EngineFailed(
                    f"the simulator's engine process ended unexpectedly (exit code {self._process.returncode})"
                ) from None
            if message[0] == "error":
                raise EngineFailed(f"the simulator's engine process failed:\n{message[1]}")
            self._trains = message[1]
            records = message[2]
            records.sort(key=record_time)  # here rather than there: this side waits more
            yield records

    def close(self) -> None:
        """Stop the engine process (it has nothing to save)."""
        self._conn.close()  # its next send fails, and it exits
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)


def _enlarge_pipe(fd: int) -> None:
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)


def run_engine(spec: EngineSpec, preparer: Preparer, conn: Connection) -> None:
    """The engine process's work: build, simulate, prepare, send; until the pipe closes."""
    dumps, send = pickle.dumps, conn.send_bytes
    try:
        engine = spec.build()
        prepare = preparer.prepare
        for minute in engine.minutes():
            send(dumps(("batch", engine.trains_in_service, prepare(minute)), pickle.HIGHEST_PROTOCOL))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the runner closed the pipe or died: nothing more to do
    except Exception:
        with contextlib.suppress(OSError):
            send(dumps(("error", traceback.format_exc()), pickle.HIGHEST_PROTOCOL))
    finally:
        with contextlib.suppress(OSError):
            conn.close()
