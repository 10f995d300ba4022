"""JupyterHub configuration of terralab (the embedded default).

Run with ``terralab up`` (or ``jupyterhub -f hub_config/jupyterhub_config.py``). Everything
is set by :class:`terralab.hub.settings.TerralabHub`; to change a setting, write a site file
and name it in ``TERRALAB_HUB_SITE_CONFIG``, e.g.::

    c.TerralabHub.spawner_mode = "system"          # one system user per hub user (root)
    c.TerralabHub.dashboard_groups = ["students"]   # these users land on the dashboards
    c.TerralabHub.bind_url = "http://0.0.0.0:8000"

Any other JupyterHub option may be set in that file too, and wins over terralab's value
(e.g. ``c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"``; see
hub_config/README.md for the production settings).
"""

from terralab.hub.settings import TerralabHub
from terralab.settings import settings

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)
site_config = settings().launch.site_config  # $TERRALAB_HUB_SITE_CONFIG
if site_config:
    load_subconfig(str(site_config))  # noqa: F821
TerralabHub(config=c).apply(c)
