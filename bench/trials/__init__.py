"""Fault trials (docs/reliability.md): kill a Kafka broker or a Faust worker, stop
services, send bad input, while the simulator produces; then count what was read back
against what was produced. ``python -m bench.trials --help`` lists them.

Every trial but ``faust-kill --workload steady`` and ``faust-coalesce`` runs on its OWN
local stack (a temporary CTA_STACK_DIR, free ports), never the shared one, and deletes it
afterwards; those two use topics and an app id of their own on the stack of
``CTA_STACK_DIR`` and delete them afterwards. Not part of ``make bench``. What is counted:

- expected: the same simulator run (same seed, same ``--count``) with ``--dry-run``;
- read back: every arrival and turnstile event in the topics, decoded, compared with the
  expected ones as multisets (lost = expected but missing, duplicated = read more often
  than produced);
- stall: the longest time the topics' high watermarks did not grow while the simulator
  ran (sampled every 0.1 s), i.e. how long producing stopped;
- rejoin: how long ``cta-stack up`` took to bring the killed broker back, and until every
  partition had all its replicas in sync again.

Layout: :mod:`~bench.trials.harness` (stacks, processes, timing, the result type),
:mod:`~bench.trials.checks` (read-back checks), one module per trial, and
:mod:`~bench.trials.__main__` (the command line).
"""
