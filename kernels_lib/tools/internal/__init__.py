"""The platform's own tools, run as queued jobs by the workers but never listed to users.

Each module holds one :class:`~terralab.tools.base.Tool` with ``info.internal = True``; the
registry finds it by name (the queue and the workers) and leaves it out of every listing.
"""
