"""The frozen tool registry: built-in tools plus plug-ins from the ``terralab.tools`` entry points.

Built-in tools are found by module: every module of :mod:`terralab.tools.processing`,
:mod:`terralab.ai.tools` and :mod:`terralab.tools.internal` that defines
:class:`~terralab.tools.base.Tool` subclasses adds them, so adding a tool means adding one
module. Internal tools (``info.internal``, e.g. ``publish_upload``) are found by name
(:meth:`ToolRegistry.get`, ``registry[name]``) but never listed: iterating a registry, its
length and ``name in registry`` see only the tools users run. Other packages add theirs
through the entry point group ``terralab.tools`` (``name = "package.module:ToolClass"``). A
registry never changes once built: :meth:`ToolRegistry.register` returns a new one.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType

from terralab.tools.base import Tool

__all__ = ["BUILTIN_PACKAGES", "ENTRY_POINT_GROUP", "ToolRegistry", "default_registry"]

ENTRY_POINT_GROUP = "terralab.tools"
BUILTIN_PACKAGES = ("terralab.tools.processing", "terralab.ai.tools", "terralab.tools.internal")


class ToolRegistry(Mapping[str, type[Tool]]):
    """An immutable name → tool class mapping."""

    def __init__(self, tools: Mapping[str, type[Tool]] | None = None) -> None:
        self._tools = MappingProxyType(dict(tools or {}))

    @classmethod
    def of(cls, tools: Iterable[type[Tool]]) -> ToolRegistry:
        """Build a registry from tool classes (names must be unique)."""
        registry = cls()
        for tool in tools:
            registry = registry.register(tool)
        return registry

    def register(self, tool: type[Tool], *, overwrite: bool = False) -> ToolRegistry:
        """Return a registry with ``tool`` added.

        Raises:
            ValueError: if the name is taken (unless ``overwrite``) or the class is not a
                complete tool.
        """
        if not (inspect.isclass(tool) and issubclass(tool, Tool)) or inspect.isabstract(tool):
            raise ValueError(f"{tool!r} is not a complete terralab Tool")
        for attribute in ("info", "Params"):
            if not hasattr(tool, attribute):
                raise ValueError(f"tool {tool.__name__} has no {attribute}")
        name = tool.info.name
        if name in self._tools and not overwrite and self._tools[name] is not tool:
            raise ValueError(f"a tool named {name!r} is already registered "
                             f"({self._tools[name].__module__}); pass overwrite=True")
        return ToolRegistry({**self._tools, name: tool})

    def get(self, name: str, default: type[Tool] | None = None) -> type[Tool] | None:
        """Return the tool ``name`` or ``default``."""
        return self._tools.get(name, default)

    def __getitem__(self, name: str) -> type[Tool]:
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(f"no tool {name!r}; known tools: {', '.join(self)}"
                           ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(name for name, tool in self._tools.items()
                           if not tool.info.internal))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        tool = self._tools.get(name) if isinstance(name, str) else None
        return tool is not None and not tool.info.internal


def _module_tools(module: object) -> list[type[Tool]]:
    return [value for _, value in inspect.getmembers(module, inspect.isclass)
            if issubclass(value, Tool) and value.__module__ == module.__name__  # type: ignore[attr-defined]
            and not inspect.isabstract(value) and hasattr(value, "info")]


def _builtin_tools() -> list[type[Tool]]:
    found: list[type[Tool]] = []
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            if module.name.startswith("_"):
                continue
            found += _module_tools(importlib.import_module(f"{package_name}.{module.name}"))
    return found


def _plugin_tools() -> list[type[Tool]]:
    return [point.load() for point in entry_points(group=ENTRY_POINT_GROUP)]


_default: ToolRegistry | None = None


def default_registry() -> ToolRegistry:
    """The registry of built-in and plug-in tools (built on first use)."""
    global _default
    if _default is None:
        _default = ToolRegistry.of([*_builtin_tools(), *_plugin_tools()])
    return _default
