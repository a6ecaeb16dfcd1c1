"""``cta-tui serve --web``: the dashboard in a browser (textual-serve), behind a token."""
