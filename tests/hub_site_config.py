"""The site configuration of the tests' shared hub (the ``hub`` fixture of tests/conftest.py).

Each line is a ``c.…`` statement of a JupyterHub config file. Tests that need a setting of
their own on the shared hub add it here, for a user of their own, so that they change
nothing another test measures.
"""

from __future__ import annotations

__all__ = ["SITE_LINES"]

SITE_LINES: list[str] = [
    # the storage-quota tests upload as admin, who gets 10 MB here
    'c.TerralabHub.storage_quota_users = {"admin": "10MB"}',
    # the job-limit test (tests/security/test_queue.py): q8-nojobs may queue no job at all
    'c.TerralabHub.job_limit_users = {"q8-nojobs": 0}',
    # the jobs page test (tests/browser/test_nocode_shell.py): a queue no worker serves, so
    # a job of it stays queued, first in line
    'c.TerralabHub.job_queues = {"nocode-idle": {"workers": 0, "groups": ["nocode-idle"]}}',
    # the cull test (tests/browser/test_nocode_shell.py): dashboards members' idle kernels
    # without a page go after 10 s, not 2 min
    "c.TerralabHub.dashboard_kernel_cull = 10",
]
