"""The simulator's engine process (see :class:`producers_sim.engine_pipe.ProcessPipe`).

``python -m producers_sim.engine_process FD``: reads the parent's ``sys.path`` and then
``(EngineSpec, Preparer)``, pickled, from stdin; writes records to file descriptor FD.
"""

from __future__ import annotations

import pickle
import signal
import sys
from multiprocessing.connection import Connection


def main(argv: list[str]) -> None:
    # Ctrl+C reaches the whole process group; the runner decides when the run stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(argv[1]), readable=False)
    stdin = sys.stdin.buffer
    sys.path[:] = pickle.load(stdin)  # so the spec's and preparer's classes import as in the parent
    from producers_sim.engine_pipe import run_engine

    spec, preparer = pickle.load(stdin)
    run_engine(spec, preparer, conn)


if __name__ == "__main__":
    main(sys.argv)
