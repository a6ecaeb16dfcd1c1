"""``python -m producers_sim`` is ``cta-sim``."""

from producers_sim.cli import main

if __name__ == "__main__":  # the engine process (spawned) imports this module again
    main()
