"""terralab.hub: the trusted side of terralab, run by JupyterHub.

It holds the hub settings (:class:`~terralab.hub.settings.TerralabHub`), the authenticator
with admin approval, the spawners of the embedded default and the **terralab hub service**
(:mod:`terralab.hub.service`), which later carries the queue, quotas, catalog writes and
accounts. ``jupyterhub_config.py`` beside this file wires them into JupyterHub.
"""

__all__: list[str] = []
