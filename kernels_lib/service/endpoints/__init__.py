"""The declarations of the hub service's endpoints, one module per domain.

Each module declares its operations with :func:`terralab.service.registry.declare`; the
registry imports them all (:data:`terralab.service.registry.DOMAINS`).
"""
