"""``cta-tui serve --ssh``: the dashboard over SSH, one dashboard process per session."""
