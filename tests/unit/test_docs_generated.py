"""The generated docs are fresh: docs/images (the screens, from the snapshot tests' SVGs)
and docs/keys.md (from the actions and the screens' bindings). A screen whose snapshot
changed, or a key added, fails here until `python tools/docs_gen.py` is run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import screen_docs as docs_gen


def test_every_generated_doc_is_fresh() -> None:
    stale = [str(p.relative_to(docs_gen.ROOT)) for p in docs_gen.stale()]
    assert not stale, f"stale: {stale}; run `python tools/docs_gen.py`"


def test_a_changed_snapshot_changes_its_picture(tmp_path: Path) -> None:
    svg = (docs_gen.SNAPSHOTS / docs_gen.PICTURES["network-80x24"]).read_text()
    changed = svg.replace("Howard", "Hovard")
    assert changed != svg
    assert docs_gen.derive_svg(changed) != docs_gen.derive_svg(svg)
    assert len(docs_gen.derive_svg(svg)) < len(svg)


def test_keys_cover_the_pipeline_tabs_units_tail_and_the_palette() -> None:
    keys = docs_gen.keys_markdown()
    for row in ("| `u` |", "| `t` |", "| `j` | Jobs tab |", "| `g` | Lag tab |", "| `v` | Services tab |"):
        assert row in keys
    assert "`ctrl+p`" in keys


def test_the_readme_opens_with_the_network_screen() -> None:
    readme = (docs_gen.ROOT / "README.md").read_text()
    first_image = readme.index("![")
    assert (
        readme[first_image:].startswith("![")
        and "docs/images/network-120x40.svg" in readme[: first_image + 200]
    )
    assert first_image < readme.index("\n## ")
