"""The AI interpretation tools, one module each (PRODUCT.md §4); found by the tool registry."""
