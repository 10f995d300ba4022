"""terralab.products (being written)."""
