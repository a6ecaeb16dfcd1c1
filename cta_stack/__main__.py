"""``python -m cta_stack`` is ``cta-stack``."""

from cta_stack.cli import main

if __name__ == "__main__":
    main()
