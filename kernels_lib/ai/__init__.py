"""AI interpretation: the inference engine, the model registry and the AI tools (PRODUCT.md §4).

- :mod:`terralab.ai.engine`: tiled, lazy processing with halos and blended sliding windows;
- :mod:`terralab.ai.models`: models in ``TERRALAB_HOME/models/<tool>/<version>/``;
- :mod:`terralab.ai.checks`, :mod:`terralab.ai.thresholds`, :mod:`terralab.ai.polygons`:
  what the tools share;
- :mod:`terralab.ai.tools`: one module per tool, registered like the processing tools.
"""
