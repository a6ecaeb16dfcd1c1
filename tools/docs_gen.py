"""Write every generated part of the user docs, or check that none is stale.

* tools/cli_docs.py: docs/cli.md (every command's --help) and docs/troubleshooting.md
  (from cta_core.troubles.TROUBLES);
* tools/screen_docs.py: docs/images/*.svg (from the snapshot tests' SVGs) and docs/keys.md
  (from cta_tui/actions.py and the screens' BINDINGS).

    python tools/docs_gen.py          # write them all
    python tools/docs_gen.py --check  # exit 1 when one is stale (unit tests run the checks)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_docs
import screen_docs


def main(argv: list[str]) -> int:
    return max(cli_docs.main(argv), screen_docs.main(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
