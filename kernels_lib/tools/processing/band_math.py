"""Band math: an arithmetic expression on named bands, parsed, never evaluated as Python.

``(nir - red) / (nir + red)``, ``b4 * 0.0001 - 0.1``, ``sqrt(abs(vv * vh))``: the expression
is parsed with :mod:`ast` and only these parts are accepted — numbers, band names, ``+ - * /
**``, unary minus, parentheses and the functions ``sqrt``, ``abs``, ``log``, ``log10``,
``exp``, ``min``, ``max`` (of two terms). Anything else (attributes, subscripts, calls of
other names, comparisons, strings…) is refused with the position, so an expression cannot do
anything but arithmetic. Band names are common names (``nir``, ``red``, ``swir16``…, through
the collection's conventions, in physical units) or band numbers ``b1``, ``b2``….
Division by zero gives NaN.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np
import xarray as xr
from pydantic import field_validator

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)

__all__ = ["BandMath", "ExpressionError", "parse_expression"]

_MAX_LENGTH = 500
_MAX_NODES = 200
_FUNCTIONS = {"sqrt": np.sqrt, "abs": np.abs, "log": np.log, "log10": np.log10, "exp": np.exp}
_PAIRS = {"min": np.fmin, "max": np.fmax}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_NUMBERED = re.compile(r"^b(\d{1,3})$")


class ExpressionError(ValueError):
    """An expression that is not plain arithmetic on band names."""


def _refuse(node: ast.AST, why: str) -> ExpressionError:
    where = f" at column {node.col_offset + 1}" if hasattr(node, "col_offset") else ""
    return ExpressionError(f"{why}{where}")


def parse_expression(text: str) -> tuple[ast.Expression, tuple[str, ...]]:
    """Parse and check an expression; return it and the band names it uses.

    Raises:
        ExpressionError: for anything but arithmetic on names and numbers.
    """
    if not text or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a valid expression: {error.msg} at column "
                              f"{error.offset}") from None
    names: list[tuple[int, str]] = []
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_NODES:
        raise ExpressionError(f"the expression has more than {_MAX_NODES} parts")
    for node in nodes:
        if isinstance(node, ast.Expression | ast.Load | ast.operator | ast.unaryop):
            continue
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, _OPERATORS):
                raise _refuse(node, f"operator {type(node.op).__name__} is not allowed "
                                    "(use + - * / **)")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise _refuse(node, "only unary minus and plus are allowed")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise _refuse(node, f"{node.value!r} is not a number")
        elif isinstance(node, ast.Name):
            if node.id in _FUNCTIONS or node.id in _PAIRS:
                continue
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", node.id):
                raise _refuse(node, f"{node.id!r} is not a band name (lower case, e.g. nir, "
                                    "red, b4)")
            names.append((node.col_offset, node.id))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise _refuse(node, "only sqrt, abs, log, log10, exp, min and max may be "
                                    "called")
            name = node.func.id
            count = 2 if name in _PAIRS else 1 if name in _FUNCTIONS else None
            if count is None:
                raise _refuse(node, f"{name!r} is not an allowed function (sqrt, abs, log, "
                                    "log10, exp, min, max)")
            if len(node.args) != count:
                raise _refuse(node, f"{name} takes {count} argument{'s' * (count > 1)}")
        else:
            raise _refuse(node, f"{type(node).__name__} is not allowed in band math")
    bands = tuple(dict.fromkeys(name for _, name in sorted(names)))  # in reading order
    if not bands:
        raise ExpressionError("the expression uses no band")
    return tree, bands


def _evaluate(node: ast.AST, bands: dict[str, xr.DataArray]) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, bands)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return bands[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, bands)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        args = [_evaluate(arg, bands) for arg in node.args]
        function = _FUNCTIONS.get(node.func.id) or _PAIRS[node.func.id]  # type: ignore[attr-defined]
        return function(*args)
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, bands), _evaluate(node.right, bands)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    if isinstance(node.op, ast.Pow):
        return left ** right
    if isinstance(right, xr.DataArray):
        return xr.where(right != 0, left / right.where(right != 0), np.nan)
    return left / right if right != 0 else left * np.nan


class BandMath(Tool):
    """A raster computed from an expression on named bands."""

    info = ToolInfo(name="band_math", title="Band math", title_zh="波段运算",
                    description_zh="按波段名称进行波段运算，例如 (nir - red) / (nir + red)。",
                    description="Arithmetic on named bands, e.g. (nir - red) / (nir + red).")

    class Params(ToolParams):
        """Parameters of band math."""

        image: Any = raster_input(help="The image: a catalog or my-data item, or a file",
                                  help_zh="影像：目录或我的数据中的条目，或文件")
        expression: str = param(
            ..., help="Arithmetic on band names (nir, red, swir16 … or b1, b2 …), + - * / **, "
                      "sqrt, abs, log, log10, exp, min, max",
            help_zh="波段名称（nir、red、swir16… 或 b1、b2…）的算术表达式，支持 + - * / ** 及 "
                    "sqrt、abs、log、log10、exp、min、max")
        band_map: dict[str, int] | None = param(
            None, help='Band numbers by name when the file does not say them, e.g. {"nir": 4}',
            help_zh='文件未注明波段时按名称指定波段序号，如 {"nir": 4}', advanced=True)
        band_name: str = param("band_math", help="The result's band name",
                               help_zh="结果波段名称", pattern=r"^[a-z][a-z0-9_]{0,31}$")

        @field_validator("expression")
        @classmethod
        def _check(cls, value: str) -> str:
            parse_expression(value)
            return value

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Open the named bands and evaluate the expression lazily."""
        tree, names = parse_expression(params.expression)
        band_map = dict(params.band_map or {})
        for name in names:
            match = _NUMBERED.match(name)
            if match and name not in band_map:
                band_map[name] = int(match.group(1))
        bands = context.open_bands(params.image, list(names), band_map=band_map or None)
        first = bands[names[0]]
        grids = {(v.rio.shape, v.rio.transform()) for v in bands.values()}
        if len(grids) > 1:
            bands = {k: v.rio.reproject_match(first) if k != names[0] else v
                     for k, v in bands.items()}
        result = _evaluate(tree, bands)
        if not isinstance(result, xr.DataArray):
            raise ExpressionError("the expression gives a constant, not a raster")
        result = result.astype("float32").rio.write_crs(first.rio.crs)
        return ToolOutput(raster=result, name=params.band_name,
                          band_names=(params.band_name,), nodata=float("nan"))
