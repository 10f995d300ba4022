"""The queues: one shared FIFO for everybody, plus optional dedicated queues bound to groups.

A dedicated queue is the "dedicated instance" of PRODUCT.md §6: its own workers, open only
to members of its groups (and to admins). A deployment names them in
``c.TerralabHub.job_queues``, which the hub hands to its service and to the workers in the
settings document (``queue.queues`` of :mod:`terralab.settings`; ``$TERRALAB_JOB_QUEUES``
without a hub), e.g.::

    {"shared": {"workers": 2}, "lab-a": {"workers": 1, "groups": ["lab-a"]}}

The ``shared`` queue always exists and is open to every user.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from terralab.queue.errors import QueueNotAllowed
from terralab.settings import settings_of

__all__ = ["SHARED", "QueueConfig", "QueueSpec"]

SHARED = "shared"


@dataclass(frozen=True)
class QueueSpec:
    """One queue.

    Attributes:
        name: the queue's name.
        workers: how many worker processes serve it.
        groups: who may submit to it (empty: everybody, as for ``shared``).
    """

    name: str
    workers: int = 1
    groups: tuple[str, ...] = ()

    def allows(self, groups: Iterable[str], *, admin: bool = False) -> bool:
        """Return True when a member of ``groups`` (or an admin) may submit here."""
        return admin or not self.groups or bool(set(self.groups) & set(groups))


@dataclass(frozen=True)
class QueueConfig:
    """All queues of a deployment."""

    queues: Mapping[str, QueueSpec] = field(
        default_factory=lambda: {SHARED: QueueSpec(SHARED)})

    def check(self, queue: str, groups: Iterable[str], *, admin: bool = False) -> QueueSpec:
        """Return queue ``queue`` if the user may submit to it.

        Raises:
            QueueNotAllowed: for an unknown queue or one bound to other groups.
        """
        spec = self.queues.get(queue)
        if spec is None:
            raise QueueNotAllowed(f"no queue {queue!r}; queues: {', '.join(sorted(self.queues))}")
        if not spec.allows(groups, admin=admin):
            raise QueueNotAllowed(f"queue {queue!r} is dedicated to the groups "
                                  f"{', '.join(spec.groups)}; submit to {SHARED!r}")
        return spec

    @classmethod
    def parse(cls, data: Mapping[str, object]) -> QueueConfig:
        """Build the configuration from ``{"name": {"workers": n, "groups": [...]}}``.

        Raises:
            ValueError: naming the queue and the bad value.
        """
        queues: dict[str, QueueSpec] = {SHARED: QueueSpec(SHARED)}
        for name, value in data.items():
            if not isinstance(value, Mapping):
                raise ValueError(f"job queue {name!r}: give an object such as "
                                 '{"workers": 1, "groups": ["lab-a"]}')
            unknown = set(value) - {"workers", "groups"}
            if unknown:
                raise ValueError(f"job queue {name!r}: unknown keys {sorted(unknown)}")
            workers = value.get("workers", 1)
            if not isinstance(workers, int) or workers < 0:
                raise ValueError(f"job queue {name!r}: workers must be a whole number ≥ 0")
            groups = value.get("groups", [])
            if isinstance(groups, str) or not all(isinstance(g, str) for g in groups):
                raise ValueError(f"job queue {name!r}: groups must be a list of group names")
            if name == SHARED and groups:
                raise ValueError("the shared queue is open to everybody; it takes no groups")
            queues[str(name)] = QueueSpec(str(name), workers, tuple(groups))
        return cls(queues)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> QueueConfig:
        """The queues configured: the settings' ``queue.queues``; else ``shared`` alone.

        Without a hub ``$TERRALAB_JOB_QUEUES`` (JSON) sets them; ``environ``: another
        process's. ``shared`` has one worker unless the settings say otherwise.

        Raises:
            ValueError: naming the queue and the bad value.
        """
        return cls.parse(settings_of(environ).queue.queues)

    def to_env(self) -> dict[str, str]:
        """The environment variable :meth:`from_env` reads back."""
        return {"TERRALAB_JOB_QUEUES": json.dumps(
            {name: {"workers": spec.workers, "groups": list(spec.groups)}
             for name, spec in self.queues.items()})}
