"""Filling :class:`~terralab.settings.model.Settings`: the document, the variables, the errors.

For each field: the settings document's value when the document has one, else its
environment variable's, else its default. Process fields come from the environment only.
Every error names where the bad value came from: ``$TERRALAB_AI_QUOTA: not a duration …``
or ``$TERRALAB_SETTINGS: quotas.ai: …``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from terralab.settings.model import Settings

__all__ = ["DOCUMENT_VARIABLE", "SettingsError", "document", "fields", "problems",
           "read_settings", "variable_names"]

DOCUMENT_VARIABLE = "TERRALAB_SETTINGS"
"""The variable that holds the settings document: its JSON text, or the path of a file."""


class SettingsError(ValueError):
    """A setting with a bad value; the message names its variable or document key."""


def _section(info: FieldInfo) -> type[BaseModel] | None:
    kind = info.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def fields(model: type[BaseModel] = Settings,
           prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], FieldInfo, dict]]:
    """Yield every leaf field of ``model``: its path, its info and its metadata."""
    for name, info in model.model_fields.items():
        section = _section(info)
        if section is not None:
            yield from fields(section, (*prefix, name))
        else:
            yield (*prefix, name), info, dict(info.json_schema_extra or {})


def variable_names() -> frozenset[str]:
    """The names of every variable the settings read, the document's included."""
    return frozenset({meta["env"] for _, _, meta in fields()} | {DOCUMENT_VARIABLE})


def _text_value(text: str, meta: dict[str, Any]) -> Any:
    """A variable's text as the field's raw value; None when it counts as unset."""
    name, stripped = meta["env"], text.strip()
    if "example" in meta:
        if not stripped:
            return None
        try:
            data = json.loads(stripped)
        except ValueError as error:
            raise SettingsError(f"${name} must be a JSON object like {meta['example']}: "
                                f"{error}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"${name} must be a JSON object like {meta['example']}")
        return data
    if not stripped and not meta.get("empty_counts"):
        return None
    if "sep" in meta:
        return [part.strip() for part in text.split(meta["sep"]) if part.strip()]
    return stripped


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _has(tree: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


def _load_document(text: str) -> dict[str, Any]:
    """The settings document of ``$TERRALAB_SETTINGS``: JSON text, or a file's path."""
    where = f"${DOCUMENT_VARIABLE}"
    if not text.startswith(("{", "[")):  # else the path of a file
        try:
            text = Path(text).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(f"{where}: cannot read the settings document {text!r}: "
                                f"{error.strerror or error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"{where}: the settings document is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: the settings document must be a JSON object")
    for path, _, meta in fields():
        if meta.get("process") and _has(data, path):
            raise SettingsError(f"{where}: {'.'.join(path)} is not a document setting; it is "
                                f"read from ${meta['env']} only")
    return data


def problems(error: ValidationError) -> str:
    """The problems of a validation error on one line: ``key: message; …``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: "
        f"{problem['msg'].removeprefix('Value error, ')}" for problem in error.errors())


def _describe(error: ValidationError, document: dict[str, Any]) -> str:
    """Each problem as ``$VARIABLE: message`` or ``$TERRALAB_SETTINGS: key.path: message``."""
    leaves = {path: meta for path, _, meta in fields()}
    lines = []
    for problem in error.errors():
        loc = tuple(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        leaf = next((loc[:n] for n in range(len(loc), 0, -1) if loc[:n] in leaves), None)
        if leaf is None or _has(document, leaf):
            lines.append(f"${DOCUMENT_VARIABLE}: {'.'.join(loc)}: {message}")
        else:
            rest = "".join(f"[{key!r}]" for key in loc[len(leaf):])
            lines.append(f"${leaves[leaf]['env']}{rest}: {message}")
    return "; ".join(lines)


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Return the settings an environment gives (``os.environ`` for :func:`settings`).

    Args:
        environ: the variables: the settings document (``$TERRALAB_SETTINGS``), the
            individual ``TERRALAB_*`` variables, JupyterHub's.

    Raises:
        SettingsError: naming the variable (or the document key) that holds a bad value.
    """
    text = environ.get(DOCUMENT_VARIABLE, "").strip()
    document = _load_document(text) if text else {}
    values: dict[str, Any] = json.loads(json.dumps(document))  # a copy to fill in
    for path, _, meta in fields():
        if meta["env"] in environ and not _has(document, path):
            value = _text_value(environ[meta["env"]], meta)
            if value is not None:
                _put(values, path, value)
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(_describe(error, document)) from None


def document(settings: Settings, *, service: bool = False) -> str:
    """Return the settings document of ``settings``: JSON of the fields set explicitly.

    Args:
        settings: the settings (the hub builds them from its traitlets).
        service: for the hub service and the workers (with ``service_only`` fields); else
            for users' servers.
    """
    exclude: dict[str, Any] = {}
    for path, _, meta in fields():
        if meta.get("process") or (meta.get("service_only") and not service):
            _put(exclude, path, True)
    data = settings.model_dump(mode="json", exclude_unset=True, exclude=exclude)
    return json.dumps({key: value for key, value in data.items() if value != {}},
                      sort_keys=True)
