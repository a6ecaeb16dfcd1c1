"""cta-sim: the 'L' train simulator (trains, turnstiles, weather, a controllable clock).

The core (network, clock, schedule, movement, ridership, weather, events, engine, control)
is pure Python; Kafka and HTTP live only in :mod:`producers_sim.publishers`.
"""
