"""``cta-stack acls``' renderings of the ACL plan: a table per principal and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.table import Table

from cta_stack.acl_plan import Grant
from cta_stack.principals import PRINCIPALS, WHAT


def table(grants: Sequence[Grant], principal: str | None = None) -> Table:
    """One row per grant, principals in :data:`PRINCIPALS` order; ``admin`` shown as the
    super user it is (no ACL)."""
    out = Table(title="ACLs of the secured pipeline (ALLOW, any host)")
    for col in ("principal", "resource", "pattern", "name", "operations", "why"):
        out.add_column(col, overflow="fold")
    shown = [principal] if principal else list(PRINCIPALS)
    for who in shown:
        mine = [g for g in grants if g.principal == who]
        if not mine:
            out.add_row(f"User:{who}", "-", "-", "-", "super user (super.users)", WHAT[who])
        for i, g in enumerate(mine):
            out.add_row(
                g.user if i == 0 else "",
                g.resource.lower(),
                g.pattern.lower(),
                g.name,
                ", ".join(g.operations),
                g.why,
            )
    return out


def as_json(grants: Sequence[Grant]) -> str:
    rows = [
        {
            "principal": g.user,
            "resource_type": g.resource,
            "pattern_type": g.pattern,
            "name": g.name,
            "operations": list(g.operations),
            "permission": "ALLOW",
            "host": "*",
        }
        for g in grants
    ]
    return json.dumps(rows, indent=2)
