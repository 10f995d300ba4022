"""terralab.areas (being written)."""
