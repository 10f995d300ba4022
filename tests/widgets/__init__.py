"""Unit tests of terralab.widgets (no browser)."""
