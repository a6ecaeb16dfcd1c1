"""The records that cross a process boundary, defined once for their writers and readers.

- :mod:`~cta_core.records.control`: the simulator's control command (the dashboard
  builds it, the simulator parses and validates it);
- :mod:`~cta_core.records.status`: the simulator's status message (the simulator writes
  it, the dashboard and ``cta-weather`` read it);
- :mod:`~cta_core.records.arrival`: an arrival and the train statuses (the simulator
  writes it, the prediction job and the dashboard read it);
- :mod:`~cta_core.records.prediction`: a Train Tracker prediction (the prediction job
  writes it, the dashboard reads it).

Each is plain data with its wire form (``value()``/``to_json()``) and a tolerant reader
(``from_value``/``from_json``/``parse_command``). Pure: the standard library and
:mod:`cta_core.topics` only, no Kafka.
"""
