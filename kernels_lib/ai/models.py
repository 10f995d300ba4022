"""The model registry: weights and their cards in ``TERRALAB_HOME/models/<tool>/<version>/``.

Each installed model is a folder holding ``model.json`` (its card: architecture, input bands
and normalisation, classes, resolution range, window, training data, metrics) and its
weights (``*.safetensors``, or a PyTorch state dict loaded with ``weights_only=True``: no
pickled code ever runs). A tool uses the newest version unless the user pins one. Nothing
is ever fetched from the network: models are trained here or imported from a file
(``terralab models import PATH``) and can be exported to move them to another lab.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from terralab.home import terralab_home

__all__ = ["InstalledModel", "ModelCard", "ModelError", "ModelNotInstalled", "build_model",
           "export_model", "find_model", "import_model", "list_models", "load_weights",
           "model_folder", "models_root", "require_model"]

CARD = "model.json"
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


class ModelError(ValueError):
    """A model that cannot be installed or loaded; the message says why."""


class ModelNotInstalled(ModelError, LookupError):  # noqa: N818 (reads as what happened)
    """No model of a deep tool is installed (or not the pinned version)."""


class InputSpec(BaseModel):
    """What the model takes: bands by common name, and how pixels are normalised."""

    model_config = ConfigDict(extra="forbid")
    bands: list[str] = Field(min_length=1)
    dates: int = Field(1, ge=1, le=2)
    scale: float = 1.0
    offset: float = 0.0
    mean: list[float] | None = None
    std: list[float] | None = None


TOOL_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
"""What a card's ``tool`` may be: a tool's registry name (it names the folder under models/)."""

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""What a card's ``version`` may be (it names the folder under models/<tool>/)."""


class ModelCard(BaseModel):
    """The card of a model (``model.json``).

    ``tool`` and ``version`` name the model's folder, ``models/<tool>/<version>/``, so they
    are plain names (:data:`TOOL_PATTERN`, :data:`VERSION_PATTERN`): never a path, never
    ``.`` or ``..``.
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    tool: str = Field(pattern=TOOL_PATTERN)
    version: str = Field(pattern=VERSION_PATTERN)
    architecture: dict[str, Any]
    weights: str
    input: InputSpec
    classes: list[str] = Field(min_length=2)
    resolution: tuple[float, float] | None = None
    window: int = Field(256, ge=16)
    overlap: int = Field(32, ge=0)
    training_data: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class InstalledModel:
    """A model in the registry: its card and its folder."""

    card: ModelCard
    path: Path

    @property
    def weights_path(self) -> Path:
        """The weights file."""
        return self.path / self.card.weights


def models_root(home: Path | None = None) -> Path:
    """``TERRALAB_HOME/models``."""
    return (home or terralab_home()) / "models"


def _version_key(text: str) -> tuple[int, Any]:
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (0, text)


def _read_card(folder: Path) -> ModelCard:
    try:
        return ModelCard.model_validate(json.loads((folder / CARD).read_text()))
    except FileNotFoundError:
        raise ModelError(f"{folder} has no {CARD}") from None
    except (ValueError, ValidationError) as error:
        raise ModelError(f"{folder / CARD} is not a valid model card: {error}") from None


def list_models(tool: str | None = None, *, home: Path | None = None) -> list[InstalledModel]:
    """The installed models (of ``tool``), newest version first per tool."""
    root = models_root(home)
    found: list[InstalledModel] = []
    if not root.is_dir():
        return found
    for tool_dir in sorted(root.iterdir()):
        if not tool_dir.is_dir() or (tool is not None and tool_dir.name != tool):
            continue
        versions = [d for d in tool_dir.iterdir() if d.is_dir() and (d / CARD).is_file()]
        for folder in sorted(versions, key=lambda d: _version_key(d.name), reverse=True):
            try:
                found.append(InstalledModel(_read_card(folder), folder))
            except ModelError:
                continue  # a broken folder is skipped, not fatal
    return found


def find_model(tool: str, version: str | None = None, *,
               home: Path | None = None) -> InstalledModel:
    """The newest installed model of ``tool`` (or the pinned ``version``).

    Raises:
        ModelNotInstalled: with how to get one.
    """
    models = list_models(tool, home=home)
    if version is not None:
        models = [m for m in models if m.card.version == version]
    if models:
        return models[0]
    installed = [m.card.version for m in list_models(tool, home=home)]
    pinned = f" version {version}" if version else ""
    others = f" (installed: {', '.join(installed)})" if installed else ""
    raise ModelNotInstalled(
        f"no model{pinned} installed for {tool}{others}. Deep tools need trained weights, "
        f"and this terralab ships none yet: import one with `terralab models import "
        f"MODEL.zip` (a folder or zip holding {CARD} and its weights; "
        f"`terralab models list` shows what is installed).")


require_model = find_model


def load_weights(model: InstalledModel) -> dict[str, Any]:
    """The model's state dict, loaded without running pickled code."""
    path = model.weights_path
    if not path.is_file():
        raise ModelError(f"the weights {path.name} of {model.card.tool} "
                         f"{model.card.version} are missing")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path, device="cpu")
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle that needs code, a broken file
        raise ModelError(f"{path.name} is not a plain PyTorch state dict ({error}); "
                         "save it with torch.save(model.state_dict()) or as safetensors"
                         ) from None
    if not isinstance(state, dict):
        raise ModelError(f"{path.name} holds a {type(state).__name__}, not a state dict")
    return state


def build_model(model: InstalledModel, device: str = "cpu") -> Any:
    """Build the card's architecture, load the weights, and put it on ``device`` for inference.

    Architectures: ``{"name": "smp.Unet", "encoder_name": "resnet18", …}`` — any
    segmentation-models-pytorch class with its keyword arguments (``in_channels`` and
    ``classes`` from the card when not given; encoder weights are never downloaded).
    """
    spec = dict(model.card.architecture)
    name = spec.pop("name", "")
    if not name.startswith("smp."):
        raise ModelError(f"unknown architecture {name!r}; terralab builds smp.<Class> "
                         "(segmentation-models-pytorch) models")
    import segmentation_models_pytorch as smp

    factory = getattr(smp, name[4:], None)
    if factory is None:
        raise ModelError(f"segmentation-models-pytorch has no {name[4:]}")
    spec.setdefault("in_channels", len(model.card.input.bands) * model.card.input.dates)
    spec.setdefault("classes", len(model.card.classes))
    spec["encoder_weights"] = None
    network = factory(**spec)
    try:
        network.load_state_dict(load_weights(model), strict=True)
    except RuntimeError as error:
        raise ModelError(f"the weights do not fit {name}: {str(error)[:300]}") from None
    return network.eval().to(device)


def model_folder(tool: str, version: str, *, home: Path | None = None) -> Path:
    """Return ``models/<tool>/<version>`` after checking that it stays inside ``models/``.

    Raises:
        ModelError: if ``tool`` or ``version`` is not a plain name, or the folder (through
            links) lies outside ``models/``.
    """
    if not re.fullmatch(TOOL_PATTERN, tool):
        raise ModelError(f"the model's tool {tool!r} is not a tool name (lower-case letters, "
                         "digits and _, starting with a letter)")
    if not re.fullmatch(VERSION_PATTERN, version) or version in (".", ".."):
        raise ModelError(f"the model's version {version!r} is not a version (letters, digits, "
                         "'.', '_' and '-', at most 64, starting with a letter or digit)")
    root = models_root(home).resolve()
    target = (root / tool / version).resolve()
    if target.parent.parent != root:
        raise ModelError(f"{tool} {version} would be installed outside {root}")
    return target


def _safe_members(archive: zipfile.ZipFile) -> list[str]:
    names = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            raise ModelError(f"unsafe path in the archive: {info.filename!r}")
        names.append(info.filename)
    return names


def import_model(source: str | Path, *, home: Path | None = None,
                 overwrite: bool = False) -> InstalledModel:
    """Install a model from a folder or a ``.zip`` holding ``model.json`` and its weights.

    Raises:
        ModelError: a bad card, missing or unreadable weights, an existing version (unless
            ``overwrite``), an unsafe archive.
    """
    source = Path(source)
    with tempfile.TemporaryDirectory() as scratch:
        folder = source
        if source.is_file() and zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                _safe_members(archive)
                archive.extractall(scratch)
            cards = list(Path(scratch).rglob(CARD))
            if len(cards) != 1:
                raise ModelError(f"{source.name} must hold exactly one {CARD}")
            folder = cards[0].parent
        elif not source.is_dir():
            raise ModelError(f"{source} is neither a model folder nor a zip")
        card = _read_card(folder)
        if not card.weights.endswith(WEIGHT_SUFFIXES) or "/" in card.weights:
            raise ModelError(f"weights must be a file name ending in {WEIGHT_SUFFIXES}")
        candidate = InstalledModel(card, folder)
        build_model(candidate)  # the weights load and fit the architecture, or we stop here
        target = model_folder(card.tool, card.version, home=home)
        if target.exists() and not overwrite:
            raise ModelError(f"{card.tool} {card.version} is installed already "
                             "(pass overwrite to replace it)")
        staging = target.parent / f".{card.version}.importing"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copy2(folder / CARD, staging / CARD)
        shutil.copy2(folder / card.weights, staging / card.weights)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return InstalledModel(card, target)


def export_model(tool: str, version: str | None, dest: str | Path, *,
                 home: Path | None = None) -> Path:
    """Write an installed model to a ``.zip`` that :func:`import_model` reads back."""
    model = find_model(tool, version, home=home)
    dest = Path(dest)
    target = dest / f"{tool}-{model.card.version}.zip" if dest.is_dir() else dest
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(model.path / CARD, CARD)
        archive.write(model.weights_path, model.card.weights)
    return target
