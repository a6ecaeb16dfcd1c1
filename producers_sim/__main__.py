"""``python -m producers_sim`` is ``cta-sim``."""

from producers_sim.cli import main

main()
