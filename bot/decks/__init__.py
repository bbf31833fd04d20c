"""Decks as files: loading and validating YAML banks, importing other formats, exporting."""
