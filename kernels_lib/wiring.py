"""Where the layers are wired together: the callbacks a lower layer calls, registered once.

A lower layer never imports a higher one; when it must tell one something it calls the
callbacks registered with it. They are registered here, once per process, by ``import
terralab`` (every process that submits or runs jobs imports it first: a kernel, the hub
service, the worker pool and each of its workers, ``terralab`` commands):

- the queue's job events (:mod:`terralab.queue.events`) → the projects
  (:mod:`terralab.projects.runs`): a job submitted in a project must name one of its
  owner's projects, is recorded among its runs, and its results are added as layers.
"""

from __future__ import annotations

from terralab.projects import runs

__all__ = ["wire"]


def wire() -> None:
    """Register every cross-layer callback (calling it again changes nothing)."""
    runs.install()
