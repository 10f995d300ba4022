"""The demo region: a small seeded "synthetic earth" in Deqing, Zhejiang, as real products.

``terralab demo-data`` calls :func:`write_demo_data`. It writes Landsat 8-9 C2L2,
Sentinel-2 L2A and Sentinel-1 GRD scenes over two years and a 0.5 m aerial pair with ground
truth, all rendered from one land-cover scene, in the real products' formats (see
:mod:`terralab.products`). The generator is deterministic for a given seed, so tests and
tutorials see the same pixels every time; :mod:`terralab.demo.truth` recomputes what each
file should hold.
"""

from terralab.demo.generate import DemoData, demo_data_exists, write_demo_data

__all__ = ["DemoData", "demo_data_exists", "write_demo_data"]
