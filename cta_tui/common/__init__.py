"""What several screen families share: the screen base class, the status bar, glyphs and colours."""
