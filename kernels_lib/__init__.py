"""terralab: the helper library of the terralab Earth-observation AI lab.

Import it in a notebook as ``import terralab as tl``. It runs with no hub and no Jupyter:
without a hub the platform runs in-process against a local ``TERRALAB_HOME``.
"""

from terralab._version import __version__
from terralab.home import terralab_home

__all__ = ["__version__", "terralab_home"]
