"""cta-tui: the live Textual dashboard of cta-live."""
