"""Playlists: prompt items, their settings, the workflow they run, and the order they play in.

A playlist file is YAML (see playlists/*.yaml). ``load_playlist`` validates it completely, including prompt
templates, wildcards, the workflow file and its bindings, and reports every problem at once with file:line.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from . import prompts
from .errors import ConfigError, Problem
from .workflow import BUILTIN_VALUES, Binding, default_graph, load_workflow, resolve
from .configerrors import validate
from .yamlfile import KeyPath, YamlDoc, load_yaml, sort_problems

HIDDEN = {"hidden": True}  # set by the loader, not written by users: left out of hints
_SIZE = re.compile(r"\s*(\d+)\s*[x×]\s*(\d+)\s*")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")


def _split_size(data: Any) -> Any:
    """``size: 768x512`` (or ``[768, 512]``) is shorthand for width and height."""
    if not isinstance(data, dict) or "size" not in data:
        return data
    data = dict(data)
    size = data.pop("size")
    if "width" in data or "height" in data:
        raise ValueError("write either size: or width:/height:, not both")
    match = _SIZE.fullmatch(size) if isinstance(size, str) else None
    if match:
        data["width"], data["height"] = int(match.group(1)), int(match.group(2))
    elif isinstance(size, list) and len(size) == 2:
        data["width"], data["height"] = size
    else:
        raise ValueError(f"size must look like \"768x512\" (width x height), got {size!r}")
    return data


class PromptItem(BaseModel):
    """One thing to paint. In YAML either a plain string (the text) or a mapping with ``text:`` and settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    yaml_extra_keys: ClassVar[tuple[str, ...]] = ("size",)

    text: str = Field(min_length=1, description="the prompt; {a|b} picks one, __name__ picks from variables")
    negative: str | None = Field(default=None, description="overrides the playlist's negative prompt")
    weight: float = Field(default=1.0, ge=0, description="relative chance in order: weighted")
    steps: int | None = Field(default=None, ge=1, le=10000)
    cfg: float | None = Field(default=None, ge=0, le=100)
    width: int | None = Field(default=None, ge=8, le=16384)
    height: int | None = Field(default=None, ge=8, le=16384)
    seed: int | None = Field(default=None, ge=0, le=2**64 - 1,
                             description="fixed seed; ComfyUI then returns the same cached picture every time")
    values: dict[str, Any] = Field(default_factory=dict, description="extra named values for workflow bindings")
    line: SkipJsonSchema[int | None] = Field(default=None, json_schema_extra=HIDDEN)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"text": data}
        if not isinstance(data, dict):
            raise ValueError("a prompt is a text, or a mapping with text: and optional settings")
        return _split_size(data)


class Playlist(BaseModel):
    """A named list of prompts with shared settings. ``name`` is the file name without .yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    yaml_extra_keys: ClassVar[tuple[str, ...]] = ("size",)

    name: SkipJsonSchema[str] = Field(json_schema_extra=HIDDEN)
    source_path: SkipJsonSchema[Path] = Field(json_schema_extra=HIDDEN)
    workflow: Literal["default"] | Path = Field(
        default="default", description='"default" (built-in txt2img) or an API-format workflow JSON file')
    bindings: dict[str, Binding] = Field(
        default_factory=dict, description='value name -> node inputs, e.g. seed: "3.seed" (workflow files only)')
    checkpoint: str | None = Field(default=None, description="overrides comfyui.checkpoint from the config")
    negative: str = ""
    steps: int = Field(default=20, ge=1, le=10000)
    cfg: float = Field(default=7.0, ge=0, le=100)
    width: int = Field(default=768, ge=8, le=16384)
    height: int = Field(default=512, ge=8, le=16384)
    sampler: str = "euler"
    scheduler: str = "normal"
    order: Literal["sequence", "shuffle", "weighted"] = "shuffle"
    values: dict[str, Any] = Field(default_factory=dict, description="extra named values for workflow bindings")
    variables: dict[str, list[str]] = Field(default_factory=dict, description="__name__ wildcards: name -> choices")
    prompts: list[PromptItem] = Field(min_length=1)

    _graph: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _size(cls, data: Any) -> Any:
        return _split_size(data)

    @field_validator("workflow", mode="before")
    @classmethod
    def _resolve_workflow(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value != "default":
            path = Path(value).expanduser()
            base = (info.context or {}).get("base_dir")
            return (Path(base) / path) if base and not path.is_absolute() else path
        return value

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name in value:
                if not isinstance(name, str) or not _NAME.fullmatch(name):
                    raise ValueError(f"variable name {name!r} must be letters, digits, - or _ (used as __{name}__)")
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def workflow_graph(self) -> dict[str, Any]:
        """The workflow's graph (loaded once; callers deep-copy before changing it)."""
        if self._graph is None:
            self._graph = default_graph() if self.workflow == "default" else load_workflow(Path(self.workflow))
        return self._graph


class PlaylistCursor:
    """Plays a playlist forever in its order mode.

    sequence: in file order, wrapping. shuffle: every item once per cycle in a fresh random order, and never the
    same item twice in a row across a cycle boundary (when there are two or more). weighted: independent random
    picks, each item's chance proportional to its weight.
    """

    def __init__(self, playlist: Playlist, rng: random.Random) -> None:
        self.playlist = playlist
        self._rng = rng
        self._items = list(playlist.prompts)
        self._pending: list[int] = []
        self._last: int | None = None

    def next(self) -> PromptItem:
        count = len(self._items)
        mode = self.playlist.order
        if mode == "weighted":
            index = self._rng.choices(range(count), weights=[item.weight for item in self._items])[0]
        elif mode == "sequence":
            index = 0 if self._last is None else (self._last + 1) % count
        else:
            if not self._pending:
                self._pending = self._new_cycle(count)
            index = self._pending.pop()
        self._last = index
        return self._items[index]

    def _new_cycle(self, count: int) -> list[int]:
        order = list(range(count))
        self._rng.shuffle(order)
        # order is consumed from the end; keep the previous cycle's last item away from this cycle's first
        if count > 1 and order[-1] == self._last:
            swap = self._rng.randrange(count - 1)
            order[-1], order[swap] = order[swap], order[-1]
        return order


# ---------------------------------------------------------------- loading with every problem at once


def load_playlist(path: Path, *, default_checkpoint: str | None = None) -> Playlist:
    """Load and fully check a playlist file. Raises ConfigError listing every problem (file:line key: message).

    ``default_checkpoint`` (the config's ``comfyui.checkpoint``) fills in ``checkpoint`` when the playlist has none.
    """
    path = Path(path).expanduser().resolve()
    doc = load_yaml(path)
    data = doc.data
    if isinstance(data, list):  # a bare list of prompts is a playlist with all defaults
        data, doc.lines = {"prompts": data}, {("prompts", *k): v for k, v in doc.lines.items()}
        doc.traps = {("prompts", *k): v for k, v in doc.traps.items()}
    if not isinstance(data, dict):
        raise ConfigError(doc.problems + [doc.problem((), "a playlist is a mapping with at least prompts: [...]")])
    reserved = [doc.problem((key,), f"unknown key {key!r}") for key in ("name", "source_path") if key in data]
    data = {**data, "name": path.stem, "source_path": path}
    # templates and value names are checked on the raw data, so they are reported even when pydantic is not happy
    problems = doc.problems + reserved + _template_problems(data, doc)
    try:
        playlist: Playlist = validate(Playlist, doc, data, {"base_dir": path.parent})
    except ConfigError as exc:
        raise ConfigError(sort_problems(exc.problems + problems)) from None
    problems += _workflow_problems(playlist, doc)
    if playlist.order == "weighted" and not any(item.weight > 0 for item in playlist.prompts):
        problems.append(doc.problem(("order",), "order: weighted needs at least one prompt with weight > 0"))
    if problems:
        raise ConfigError(problems)
    items = [item.model_copy(update={"line": doc.line(("prompts", i))}) for i, item in enumerate(playlist.prompts)]
    update: dict[str, Any] = {"prompts": items}
    if playlist.checkpoint is None and default_checkpoint:
        update["checkpoint"] = default_checkpoint
    loaded = playlist.model_copy(update=update)
    loaded._graph = playlist._graph
    return loaded


def _template_problems(data: dict[str, Any], doc: YamlDoc) -> list[Problem]:
    """Prompt templates (braces, wildcards) and value names, checked on whatever of the raw data is well-formed."""
    raw_vars = data.get("variables")
    variables: dict[str, list[str]] = {}
    if isinstance(raw_vars, dict):
        for name, value in raw_vars.items():
            values = [value] if isinstance(value, str) else value
            if isinstance(values, list):
                variables[str(name)] = [v for v in values if isinstance(v, str)]
    texts: list[tuple[KeyPath, Any]] = [(("negative",), data.get("negative"))]
    problems = _value_name_problems(data.get("values"), ("values",), doc)
    raw_prompts = data.get("prompts")
    for index, item in enumerate(raw_prompts if isinstance(raw_prompts, list) else []):
        if isinstance(item, str):
            texts.append((("prompts", index), item))
        elif isinstance(item, dict):
            texts += [(("prompts", index, "text"), item.get("text")), (("prompts", index, "negative"), item.get("negative"))]
            problems += _value_name_problems(item.get("values"), ("prompts", index, "values"), doc)
    for key_path, text in texts:
        if isinstance(text, str):
            problems += [doc.problem(key_path, message) for message in prompts.check(text, variables)]
    return problems


def _value_name_problems(values: Any, path: KeyPath, doc: YamlDoc) -> list[Problem]:
    if not isinstance(values, dict):
        return []
    return [doc.problem(path + (name,), f"{name!r} is a built-in value; set it with {name}: instead")
            for name in values if name in BUILTIN_VALUES]


def _workflow_problems(playlist: Playlist, doc: YamlDoc) -> list[Problem]:
    if playlist.workflow == "default":
        if playlist.bindings:
            return [doc.problem(("bindings",), "bindings: is only for a workflow file; the default workflow binds "
                                               "prompt, negative, seed, size, steps, cfg and checkpoint itself")]
        return []
    try:
        graph = playlist.workflow_graph()
    except ConfigError as exc:
        # the workflow file's own problems, plus where the playlist names it
        pointer = f"workflow {playlist.workflow} is not usable (its own problems are listed with it)"
        return [doc.problem(("workflow",), pointer)] + exc.problems
    known = set(BUILTIN_VALUES) | set(playlist.values)
    for item in playlist.prompts:
        known |= set(item.values)
    problems = []
    for name, binding in playlist.bindings.items():
        if name not in known:
            problems.append(doc.problem(("bindings", name), f"no value named {name!r}; use one of "
                                        f"{', '.join(BUILTIN_VALUES)} or a name from values:"))
        for message in resolve(graph, binding)[1]:
            problems.append(doc.problem(("bindings", name), message))
    return problems
