"""Playlists: prompt items, their settings, the workflow they run, and the order they play in.

A playlist file is YAML (see playlists/*.yaml). ``load_playlist`` validates it completely, including prompt
templates, wildcards, the workflow file and its bindings, and reports every problem at once with file:line.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError,
                      ValidationInfo, field_validator, model_validator)
from pydantic.json_schema import SkipJsonSchema

from . import prompts
from .errors import ConfigError, Problem
from .workflow import BUILTIN_VALUES, Binding, default_graph, load_workflow, resolve
from .configerrors import collect, refuse_bool_numbers
from .yamlfile import KeyPath, YamlDoc, load_yaml, sort_problems

HIDDEN = {"hidden": True}  # set by the loader, not written by users: left out of hints
_SIZE = re.compile(r"\s*(\d+)\s*[x×]\s*(\d+)\s*")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")


def _split_size(data: Any) -> Any:
    """``size: 768x512`` (or ``[768, 512]``) is shorthand for width and height (for models built in Python;
    ``load_playlist`` expands it itself so that a bad size is one problem among the others)."""
    if not isinstance(data, dict) or "size" not in data:
        return data
    data = dict(data)
    size = data.pop("size")
    if "width" in data or "height" in data:
        raise ValueError(_SIZE_TWICE)
    width_height = _parse_size(size)
    if width_height is None:
        raise ValueError(_size_message(size))
    data["width"], data["height"] = width_height
    return data


_SIZE_TWICE = "write either size: or width:/height:, not both"


def _parse_size(size: Any) -> tuple[Any, Any] | None:
    match = _SIZE.fullmatch(size) if isinstance(size, str) else None
    if match:
        return int(match.group(1)), int(match.group(2))
    if isinstance(size, list) and len(size) == 2:
        return size[0], size[1]
    return None


def _size_message(size: Any) -> str:
    return f'must look like "768x512" (width x height) or [768, 512], got {size!r}'


def _variable_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"variable name {name!r} must be letters, digits, - or _ (used as __{name}__)")
    return name


# checked per name and per value list, so one bad variable does not hide the others' problems
VariableName = Annotated[str, AfterValidator(_variable_name)]
Choices = Annotated[list[str], BeforeValidator(lambda value: [value] if isinstance(value, str) else value)]


class PromptItem(BaseModel):
    """One thing to paint. In YAML either a plain string (the text) or a mapping with ``text:`` and settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
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
            shown = "nothing (null)" if data is None else str(data).lower() if isinstance(data, bool) else repr(data)
            raise ValueError(f"a prompt is a text, or a mapping with text: and optional settings, got {shown}")
        return _split_size(data)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_bool_numbers(cls, value, info)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank (it has only spaces)")
        return value


class Playlist(BaseModel):
    """A named list of prompts with shared settings. ``name`` is the file name without .yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
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
    variables: dict[VariableName, Choices] = Field(default_factory=dict,
                                                   description="__name__ wildcards: name -> choices")
    prompts: list[PromptItem] = Field(min_length=1)

    _graph: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _size(cls, data: Any) -> Any:
        return _split_size(data)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_bool_numbers(cls, value, info)

    @field_validator("workflow", mode="before")
    @classmethod
    def _resolve_workflow(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value != "default":
            return _workflow_path(value, (info.context or {}).get("base_dir"))
        if not isinstance(value, (str, Path)):
            raise ValueError(f'expected "default" or the path of an API-format workflow JSON file, got {value!r}')
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

    Every check runs on whatever part of the file is well-formed, so one run reports everything: shorthands,
    templates, wildcards and bindings are checked even when other keys are invalid.
    ``default_checkpoint`` (the config's ``comfyui.checkpoint``) fills in ``checkpoint`` when the playlist has none.
    """
    path = Path(path).expanduser().resolve()
    doc = load_yaml(path)
    data = doc.data
    if isinstance(data, list):  # a bare list of prompts is a playlist with all defaults
        data, doc.lines = {"prompts": data}, {("prompts", *k): v for k, v in doc.lines.items()}
        doc.traps = {("prompts", *k): v for k, v in doc.traps.items()}
    if data is None:
        empty = doc.problem((), "the file is empty: a playlist needs at least prompts: [...]")
        raise ConfigError(doc.problems + [empty])
    if not isinstance(data, dict):
        raise ConfigError(doc.problems + [doc.problem((), "a playlist is a mapping with at least prompts: [...]")])
    reserved = [doc.problem((key,), f"unknown key {key!r}") for key in ("name", "source_path") if key in data]
    data, sizes, size_problems = _expand_sizes(data, doc)
    data = {**data, "name": path.stem, "source_path": path}
    # these work on the raw data, so they are reported even when pydantic is not happy with other keys
    problems = doc.problems + reserved + size_problems + _template_problems(data, doc) + _weight_problems(data, doc)
    graph, workflow_problems = _workflow_problems(data, doc, path.parent)
    playlist, invalid = collect(Playlist, doc, data, {"base_dir": path.parent}, _written_path(data, sizes))
    problems = sort_problems(problems + workflow_problems + invalid)
    if problems or playlist is None:
        raise ConfigError(problems)
    items = [item.model_copy(update={"line": doc.line(("prompts", i))}) for i, item in enumerate(playlist.prompts)]
    update: dict[str, Any] = {"prompts": items}
    if playlist.checkpoint is None and default_checkpoint:
        update["checkpoint"] = default_checkpoint
    loaded = playlist.model_copy(update=update)
    loaded._graph = graph
    return loaded


def _workflow_path(value: str, base_dir: Any) -> Path:
    path = Path(value).expanduser()
    return (Path(base_dir) / path) if base_dir and not path.is_absolute() else path


def _expand_sizes(data: dict[str, Any], doc: YamlDoc) -> tuple[dict[str, Any], set[KeyPath], list[Problem]]:
    """Turn every ``size:`` (playlist and items) into width/height. A bad one becomes a problem at its own key and
    line instead of stopping the validation of everything else. Returns the data, where sizes were expanded
    (so errors in the resulting width/height point back at size:), and the problems."""
    problems: list[Problem] = []
    expanded: set[KeyPath] = set()

    def expand(mapping: dict[str, Any], at: KeyPath) -> dict[str, Any]:
        if "size" not in mapping:
            return mapping
        mapping = dict(mapping)
        size = mapping.pop("size")
        if "width" in mapping or "height" in mapping:
            problems.append(doc.problem(at + ("size",), _SIZE_TWICE))
            return mapping
        width_height = _parse_size(size)
        if width_height is None:
            problems.append(doc.problem(at + ("size",), _size_message(size)))
            return mapping
        mapping["width"], mapping["height"] = width_height
        expanded.add(at)
        return mapping

    data = expand(data, ())
    items = data.get("prompts")
    if isinstance(items, list):
        data["prompts"] = [expand(item, ("prompts", i)) if isinstance(item, dict) else item
                           for i, item in enumerate(items)]
    return data, expanded, problems


def _written_path(data: dict[str, Any], sizes: set[KeyPath]) -> Any:
    """Maps pydantic's locations back to what the file says: width/height made from size: -> size, and
    bindings written as shorthands ("3.seed", a list, {node:, input:}) without their implied ``to:``."""
    bindings = data.get("bindings") if isinstance(data.get("bindings"), dict) else {}

    def rewrite(path: KeyPath) -> tuple[KeyPath, str]:
        if path and path[-1] in ("width", "height") and path[:-1] in sizes:
            return path[:-1] + ("size",), str(path[-1])
        if len(path) >= 3 and path[0] == "bindings" and path[2] == "to":
            raw = bindings.get(path[1])
            rest = path[3:]
            if isinstance(raw, str):  # "3.seed" -> to: ["3.seed"]
                return path[:2] + rest[1:], ""
            if isinstance(raw, list):  # ["5.width", ...] -> to: [...]
                return path[:2] + rest, ""
            if isinstance(raw, dict) and "to" not in raw:  # {node:, input:} -> to: [{node:, input:}]
                return path[:2] + rest[1:], ""
        return path, ""

    return rewrite


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
    for index, item in enumerate(_raw_items(data)):
        if isinstance(item, str):
            texts.append((("prompts", index), item))
        elif isinstance(item, dict):
            texts += [(("prompts", index, "text"), item.get("text")), (("prompts", index, "negative"), item.get("negative"))]
            problems += _value_name_problems(item.get("values"), ("prompts", index, "values"), doc)
    for key_path, text in texts:
        if isinstance(text, str):
            problems += [doc.problem(key_path, message) for message in prompts.check(text, variables)]
    return problems


def _raw_items(data: dict[str, Any]) -> list[Any]:
    items = data.get("prompts")
    return items if isinstance(items, list) else []


def _weight_problems(data: dict[str, Any], doc: YamlDoc) -> list[Problem]:
    if data.get("order") != "weighted":
        return []
    weights = [item.get("weight", 1) if isinstance(item, dict) else 1 for item in _raw_items(data)]
    numbers = [w for w in weights if isinstance(w, (int, float)) and not isinstance(w, bool)]
    if weights and len(numbers) == len(weights) and not any(w > 0 for w in numbers):
        return [doc.problem(("order",), "order: weighted needs at least one prompt with weight > 0")]
    return []


def _value_name_problems(values: Any, path: KeyPath, doc: YamlDoc) -> list[Problem]:
    if not isinstance(values, dict):
        return []
    return [doc.problem(path + (name,), f"{name!r} is a built-in value; set it with {name}: instead")
            for name in values if name in BUILTIN_VALUES]


def _workflow_problems(data: dict[str, Any], doc: YamlDoc, base_dir: Path) -> tuple[dict[str, Any] | None,
                                                                                   list[Problem]]:
    """(the workflow file's graph or None, problems with the workflow and each binding), from the raw data:
    each binding is checked on its own, so one malformed binding does not hide the others' problems."""
    workflow = data.get("workflow", "default")
    bindings = data.get("bindings")
    if workflow == "default":
        if bindings:
            message = ("bindings: is only for a workflow file; the default workflow binds prompt, negative, seed, "
                       "size, steps, cfg and checkpoint itself")
            return None, [doc.problem(("bindings",), message)]
        return None, []
    if not isinstance(workflow, str):
        return None, []  # reported by validation
    workflow_path = _workflow_path(workflow, base_dir)
    try:
        graph = load_workflow(workflow_path)
    except ConfigError as exc:
        # the workflow file's own problems, plus where the playlist names it
        pointer = f"workflow {workflow_path} is not usable (its own problems are listed with it)"
        return None, [doc.problem(("workflow",), pointer)] + exc.problems
    if not isinstance(bindings, dict):
        return graph, []
    known = set(BUILTIN_VALUES) | _value_names(data.get("values"))
    for item in _raw_items(data):
        if isinstance(item, dict):
            known |= _value_names(item.get("values"))
    problems = []
    for name, raw in bindings.items():
        if name not in known:
            problems.append(doc.problem(("bindings", name), f"no value named {name!r}; use one of "
                                        f"{', '.join(BUILTIN_VALUES)} or a name from values:"))
        try:
            binding = Binding.model_validate(raw)
        except ValidationError:
            continue  # its own problems come from validating the whole playlist
        for message in resolve(graph, binding)[1]:
            problems.append(doc.problem(("bindings", name), message))
    return graph, problems


def _value_names(values: Any) -> set[str]:
    return {str(name) for name in values} if isinstance(values, dict) else set()
