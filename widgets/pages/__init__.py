"""The pages of the no-code lab: one module per page, one call per page notebook.

Each notebook in ``dashboards/`` holds a single call, rendered by Voilà with the ``terralab``
template: ``home.show()``, ``search.show()``, ``mydata.show()``, ``tools.show()`` (the
gallery), ``tool_page.show_tool_page()`` (one tool, ``tool.ipynb?tool=NAME``), ``jobs.show()``,
``projects.show()``. :mod:`~terralab.widgets.pages.shell` gives them their header,
navigation, messages and the ``data-tl-ready`` marker.
"""
