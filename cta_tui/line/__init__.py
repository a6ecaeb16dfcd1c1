"""The line screen (1-8): one line's stations in order with trains, counts and sparklines."""
