"""The demo region: a small seeded "synthetic earth" written as real GeoTIFFs.

``terralab demo-data`` calls :func:`write_demo_data`. The generator is deterministic for a
given seed, so tests and tutorials see the same pixels every time.
"""

from terralab.demo.generate import DemoData, demo_data_exists, write_demo_data

__all__ = ["DemoData", "demo_data_exists", "write_demo_data"]
