"""terralab.catalog (being written)."""
