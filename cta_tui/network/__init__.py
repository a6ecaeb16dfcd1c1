"""The network screen (home): every line as a panel with its trains travelling along it."""
