"""The basic processing tools (PRODUCT.md §5), one module per tool.

Every module here that defines a tool is registered by :mod:`terralab.tools.registry`; adding
a tool means adding one module, no other file changes.
"""
