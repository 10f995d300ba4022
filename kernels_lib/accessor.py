"""``da.tl``: terralab's tools as methods of xarray DataArrays, chained on lazy data.

::

    import terralab as tl
    import rioxarray

    da = rioxarray.open_rasterio("field.tif", chunks=True)   # or tl.run(..., save=False).data
    ndvi = da.tl.index("ndvi")                                # a lazy DataArray, nothing written
    out = da.tl.reproject("EPSG:4490").tl.clip(m.aoi)         # chained
    out.tl.show(m)                                            # a layer of a tl.Map
    saved = ndvi.tl.resample(factor=2, save=True)            # saved in my data, reopened

The methods are generated from the tool registry (:func:`terralab.tools.default_registry`)
on access, so a tool registered later (``ToolRegistry.register`` or the ``terralab.tools``
entry points) is there too, and ``dir(da.tl)`` (tab completion) lists them. Every tool whose
parameters hold exactly one raster input (:func:`terralab.tools.raster_input`) is a method:
``da.tl.<tool>(*args, **params)`` runs ``tl.run(tool, <raster input>=da, save=False,
**params)``. The first positional argument is the tool's first required parameter other than
the raster (its first parameter when none is required: ``index("ndvi")``,
``reproject("EPSG:4490")``, ``clip(area)``); the others are keywords, by name.
``help(da.tl.index)`` shows the signature and each parameter's help.

What a method answers:

- a raster output: the lazy DataArray (``RunResult.data``), with the tool's band names as
  ``long_name`` and its nodata value set, so the next tool of a chain sees them;
- a vector output: the GeoDataFrame as the tool returns it
  (``RunResult.data``);
- with ``save=True`` the result is saved in my data like ``tl.run`` and the saved raster is
  answered, opened lazily from its file (use ``tl.run`` for the :class:`RunResult` and its
  my-data record).

AI tools inside a hub run on the shared workers (``tl.run``), which cannot read a kernel's
memory: there they take items or files, and a DataArray is refused with a message saying so.
Tools taking a pair (``change_detection``) or a stack (``mosaic``) of rasters, or none, are
not methods: ``da.tl.change_detection`` raises an ``AttributeError`` saying how to call it
with ``tl.run``.

Registration: ``import terralab`` makes ``.tl`` appear on DataArrays without importing xarray
itself (see :mod:`terralab._xarray_hook`); importing this module registers it at once.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import xarray as xr

if TYPE_CHECKING:
    from terralab.tools.base import Tool

__all__ = ["ACCESSOR_NAME", "TerralabAccessor", "raster_inputs"]

ACCESSOR_NAME = "tl"
_OWN = ("save", "title")  # the keywords a method adds to the tool's parameters
_RASTER_SUFFIXES = (".tif", ".tiff")


def raster_inputs(tool: type[Tool]) -> dict[str, str]:
    """The raster inputs of a tool's parameters: name → ``"raster"`` or ``"rasters"`` (a list)."""
    found = {}
    for name, field in tool.Params.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        kind = extra.get("terralab:input")
        if kind in ("raster", "rasters"):
            found[name] = str(kind)
    return found


def _how_to_call(tool: type[Tool]) -> str | None:
    """Why a tool is not a method of ``da.tl`` and how to run it, or None when it is one."""
    name = tool.info.name
    inputs = raster_inputs(tool)
    single = [key for key, kind in inputs.items() if kind == "raster"]
    stacks = [key for key, kind in inputs.items() if kind == "rasters"]
    if len(single) == 1 and not stacks:
        return None
    if stacks:
        what = f"a list of rasters ({stacks[0]}=[...])"
        call = f"tl.run({name!r}, {stacks[0]}=[da, other, ...], save=False)"
    elif single:
        what = ("a pair of rasters" if len(single) == 2 else f"{len(single)} rasters") + \
            f" ({', '.join(single)})"
        call = f"tl.run({name!r}, {', '.join(f'{k}=...' for k in single)}, save=False)"
        call = call.replace("=...", "=da", 1)
    else:
        fields = ", ".join(tool.Params.model_fields) or "no parameters"
        what = f"no raster input (its parameters: {fields})"
        call = f"tl.run({name!r}, ...)"
    return (f"the tool {name!r} takes {what}, so it is not a method of da.tl (which runs "
            f"tools taking one raster); call {call}")


def _registry() -> Any:
    from terralab.tools.registry import default_registry

    return default_registry()


def _parameters(tool: type[Tool], raster: str) -> list[inspect.Parameter]:
    """The method's parameters: the tool's but its raster input, the first one positional."""
    fields = {key: field for key, field in tool.Params.model_fields.items()
              if key != raster}
    required = [key for key, field in fields.items() if field.is_required()]
    order = ([required[0]] if required else list(fields)[:1])
    order += [key for key in fields if key not in order]
    parameters = []
    for number, key in enumerate(order):
        field = fields[key]
        default = (inspect.Parameter.empty if field.is_required()
                   else field.get_default(call_default_factory=True))
        kind = (inspect.Parameter.POSITIONAL_OR_KEYWORD if number == 0
                else inspect.Parameter.KEYWORD_ONLY)
        parameters.append(inspect.Parameter(key, kind, default=default,
                                            annotation=field.annotation))
    if not any(key in fields for key in _OWN):  # a tool's own save/title would win
        parameters += [
            inspect.Parameter("save", inspect.Parameter.KEYWORD_ONLY, default=False,
                              annotation=bool),
            inspect.Parameter("title", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=str | None)]
    return parameters


def _docstring(tool: type[Tool], raster: str, parameters: list[inspect.Parameter]) -> str:
    info = tool.info
    fields = tool.Params.model_fields
    lines = [f"{info.title} ({info.title_zh}): the {info.kind} tool {info.name!r} on this "
             "DataArray.", ""]
    if info.description:
        lines += [info.description, ""]
    lines += [f"The DataArray is the tool's raster input ``{raster}``: the same as "
              f"``tl.run({info.name!r}, {raster}=da, save=False, ...)``.", "", "Args:"]
    own = {"save": "save the result in my data (like tl.run) and answer the saved raster, "
                   "opened lazily; default False: nothing is written.",
           "title": "the result's name in my data (with save=True)."}
    for parameter in parameters:
        field = fields.get(parameter.name)
        text = own[parameter.name] if field is None else (field.description or "")
        zh = ((field.json_schema_extra or {}).get("help_zh")
              if field is not None and isinstance(field.json_schema_extra, dict) else None)
        lines.append(f"    {parameter.name}: {text}" + (f" ({zh})" if zh else ""))
    if "raster" in info.outputs:
        answer = ("A lazy DataArray (band names as long_name, nodata set), chainable with "
                  "``.tl``; with save=True the saved result, reopened lazily.")
    else:
        answer = "What the tool makes, as RunResult.data: a GeoDataFrame for vector outputs."
    lines += ["", "Returns:", f"    {answer}"]
    return "\n".join(lines)


def _chainable(result: Any) -> Any:
    """A run's raster with the band names and nodata the tool reported, for the next tool."""
    output = result.output
    data = result.data
    if output is None or output.raster is None or data is not output.raster:
        return data
    names = tuple(output.band_names or ())
    if names and len(names) == data.sizes.get("band", 1):  # the tool's names, not its input's
        data = data.assign_attrs(long_name=names)
    if output.nodata is not None and data.rio.nodata is None:
        data = data.rio.write_nodata(output.nodata, encoded=False)
    return data


def _saved(result: Any) -> Any:
    """The saved result opened lazily from its file (a raster), else ``result.data``."""
    path = result.path
    if path is None or path.suffix.lower() not in _RASTER_SUFFIXES or not path.is_file():
        return result.data
    from terralab.home import terralab_home
    from terralab.identity import current_user
    from terralab.tools.inputs import open_raster

    return open_raster(str(path), user=current_user(), home=terralab_home())


def _method(data: xr.DataArray, tool: type[Tool]) -> Any:
    """``da.tl.<tool>``: a function running ``tool`` on ``data`` (see the module's doc)."""
    name = tool.info.name
    raster = next(iter(raster_inputs(tool)))
    parameters = _parameters(tool, raster)
    returns = xr.DataArray if "raster" in tool.info.outputs else Any
    signature = inspect.Signature(parameters, return_annotation=returns)
    takes_own = any(p.name == "save" for p in parameters)

    def method(*args: Any, **kwargs: Any) -> Any:
        import rioxarray  # noqa: F401 (the .rio accessor the runner reads the CRS with)

        from terralab.client.tools import run

        params = dict(signature.bind(*args, **kwargs).arguments)
        save = bool(params.pop("save", False)) if takes_own else False
        title = params.pop("title", None) if takes_own else None
        result = run(name, save=save, title=title, **{raster: data}, **params)
        return _saved(result) if save else _chainable(result)

    method.__name__ = method.__qualname__ = name
    method.__signature__ = signature
    method.__doc__ = _docstring(tool, raster, parameters)
    method.__module__ = __name__
    return method


class TerralabAccessor:
    """``da.tl``: every registered tool taking one raster, as a method; and :meth:`show`."""

    def __init__(self, data: xr.DataArray) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        registry = _registry()
        if name not in registry:
            methods = ", ".join(self._tools(registry))
            raise AttributeError(f"da.tl has no {name!r}: no registered tool of that name "
                                 f"takes one raster (those that do: {methods})")
        tool = registry[name]
        refusal = _how_to_call(tool)
        if refusal is not None:
            raise AttributeError(refusal)
        return _method(self._data, tool)

    def __dir__(self) -> list[str]:
        return sorted({*object.__dir__(self), *self._tools(_registry())})

    @staticmethod
    def _tools(registry: Any) -> list[str]:
        """The registered tools that are methods (one raster input)."""
        return [name for name in registry if _how_to_call(registry[name]) is None]

    def show(self, m: Any = None, *, name: str | None = None, **style: Any) -> Any:
        """Add the array to a terralab map as a layer (``m.add(da, ...)``).

        The array is written to your tile cache (:mod:`terralab.widgets.array_cache`) and
        drawn by your tile endpoint, like ``m.add`` of any DataArray.

        Args:
            m: a :class:`terralab.widgets.Map`; default a new one.
            name: the layer's name (default: the array's name).
            **style: ``bands``, ``rescale``, ``colormap``, ``nodata``, ``tilesize``,
                ``opacity`` (see :meth:`terralab.widgets.Map.add`).

        Returns:
            The layer added to ``m``; with no ``m``, the new map holding it (to display).
        """
        if m is None:
            from terralab.widgets import Map

            shown = Map()
            shown.add(self._data, name=name, **style)
            return shown
        return m.add(self._data, name=name, **style)


xr.register_dataarray_accessor(ACCESSOR_NAME)(TerralabAccessor)
