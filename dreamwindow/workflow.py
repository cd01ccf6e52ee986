"""ComfyUI workflows (API format) and the bindings that put a playlist item's values into them.

A binding maps a value name to node inputs, by node id or by node title (``_meta.title``)::

    bindings:
      prompt: "6.text"                          # NODE.INPUT; NODE is an id or a title
      seed: {node: KSampler, input: seed}
      width: ["5.width", "Upscale.width"]       # several targets get the same value
      color: {to: "1.color", modulo: 16777216}  # value % modulo, e.g. a 32-bit seed as a 24-bit colour

Value names: prompt, negative, seed, width, height, steps, cfg, checkpoint, sampler, scheduler, and any name in
``values:`` (playlist or item). A value that is unset (no checkpoint, say) leaves the node's own value alone.

Seeds are random per job (0..2**32-1) unless an item fixes one. ComfyUI caches identical graphs and answers them
in milliseconds with the *previous* picture, so a fixed seed gives the same picture back every time it plays.
"""

from __future__ import annotations

import copy
import difflib
import json
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import ConfigError, Problem

if TYPE_CHECKING:
    from .playlist import Playlist, PromptItem

OUTPUT_CLASSES = frozenset({"SaveImage", "PreviewImage", "SaveImageWebsocket"})
BUILTIN_VALUES = ("prompt", "negative", "seed", "width", "height", "steps", "cfg", "checkpoint", "sampler", "scheduler")
SEED_RANGE = 2**32
UI_FORMAT_HELP = (
    "this is a workflow saved in ComfyUI's UI format (it has 'nodes' and 'links'), which the server cannot run. "
    "Export the API format instead: in ComfyUI use Workflow menu -> Export (API); in older versions enable "
    "'Dev mode options' in the settings and use 'Save (API Format)'"
)
NO_CHECKPOINT = ("no checkpoint for the built-in workflow: set checkpoint: in this playlist or comfyui.checkpoint "
                 "in the config")
BINDING_HELP = 'write a binding target as "NODE.INPUT" (NODE is a node id or title), e.g. "3.seed" or "KSampler.seed"'


class Target(BaseModel):
    """One node input: ``node`` is a node id or a node title."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    node: str
    input: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            node, dot, name = data.rpartition(".")  # titles may contain dots; input names do not
            if not dot or not node or not name:
                raise ValueError(f"{data!r}: {BINDING_HELP}")
            return {"node": node, "input": name}
        if isinstance(data, dict) and isinstance(data.get("node"), int) and not isinstance(data["node"], bool):
            return {**data, "node": str(data["node"])}
        return data


class Binding(BaseModel):
    """Where one value goes: one or more targets, optionally reduced ``% modulo`` first."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    yaml_extra_keys: ClassVar[tuple[str, ...]] = ("node", "input")  # the {node:, input:} shorthand, for "did you mean" hints
    to: list[Target] = Field(min_length=1)
    modulo: int | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (str, list)):
            return {"to": data}
        if isinstance(data, dict) and ("node" in data or "input" in data) and "to" not in data:
            rest = {k: v for k, v in data.items() if k not in ("node", "input")}
            target = {k: v for k, v in data.items() if k in ("node", "input")}  # a missing one stays missing
            return {**rest, "to": [target]}
        return data

    @field_validator("to", mode="before")
    @classmethod
    def _one_target(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value


@dataclass(frozen=True)
class Job:
    """Everything needed to run one picture."""

    graph: dict[str, Any]  # API-format ComfyUI prompt, ready to POST
    output_nodes: list[str]  # node ids whose images we want (SaveImage-like)
    meta: dict[str, Any]  # prompt, negative, seed, playlist, workflow, width, height, steps, cfg, checkpoint, line


DEFAULT_BINDINGS: dict[str, Binding] = {
    name: Binding.model_validate(target)
    for name, target in {
        "checkpoint": "4.ckpt_name", "prompt": "6.text", "negative": "7.text", "width": "5.width",
        "height": "5.height", "seed": "3.seed", "steps": "3.steps", "cfg": "3.cfg",
        "sampler": "3.sampler_name", "scheduler": "3.scheduler",
    }.items()
}


def default_graph() -> dict[str, Any]:
    """A fresh copy of the built-in text-to-image graph (dreamwindow/workflows/default.json)."""
    text = resources.files("dreamwindow").joinpath("workflows", "default.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_workflow(path: Path) -> dict[str, Any]:
    """Read an API-format workflow. Refuses UI-format files with a message saying how to export the API format."""
    file = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(Problem(file, None, "", "workflow file not found")) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(Problem(file, exc.lineno, "", f"not valid JSON: {exc.msg}")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(file, None, "", f"cannot read workflow: {exc}")) from None
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and isinstance(data.get("links"), list):
        raise ConfigError(Problem(file, None, "", UI_FORMAT_HELP))
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict) and "class_type" not in data["prompt"]:
        data = data["prompt"]  # a saved POST /prompt body: {"prompt": {...}, "client_id": ...}
    problems = [Problem(file, None, node_id, msg) for node_id, msg in graph_problems(data)]
    if problems:
        raise ConfigError(problems)
    return data


def graph_problems(graph: Any) -> list[tuple[str, str]]:
    """(node id, message) for everything that makes ``graph`` not an API-format workflow we can use."""
    if not isinstance(graph, dict) or not graph:
        return [("", "not an API-format workflow: expected a JSON object of nodes like {\"3\": {\"class_type\": ...}}")]
    problems = []
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            problems.append((node_id, "not an API-format node: needs \"class_type\" and \"inputs\""))
        elif not isinstance(node.get("inputs", {}), dict):
            problems.append((node_id, "\"inputs\" must be an object"))
    if not problems and not output_nodes(graph):
        problems.append(("", "the workflow has no SaveImage, PreviewImage or SaveImageWebsocket node, so no picture"))
    return problems


def output_nodes(graph: dict[str, Any]) -> list[str]:
    return [node_id for node_id, node in graph.items() if node.get("class_type") in OUTPUT_CLASSES]


def find_node(graph: dict[str, Any], ref: str) -> str:
    """Node id for a reference by id, by title, or (when unique) by class name. Raises ValueError explaining why not."""
    if ref in graph:
        return ref
    by_title = [i for i, n in graph.items() if (n.get("_meta") or {}).get("title") == ref]
    if len(by_title) == 1:
        return by_title[0]
    if len(by_title) > 1:
        raise ValueError(f"title {ref!r} matches nodes {', '.join(by_title)}; use the node id")
    by_class = [i for i, n in graph.items() if n.get("class_type") == ref]
    if len(by_class) == 1:
        return by_class[0]
    if len(by_class) > 1:
        raise ValueError(f"{ref!r} matches nodes {', '.join(by_class)} (by class); give each node a title or use ids")
    names = {str(i) for i in graph} | {str((n.get("_meta") or {}).get("title")) for n in graph.values()}
    close = difflib.get_close_matches(ref, sorted(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(f"{i} ({_describe(n)})" for i, n in graph.items())
    raise ValueError(f"no node with id or title {ref!r}{hint} (nodes: {listing})")


def _describe(node: dict[str, Any]) -> str:
    title = (node.get("_meta") or {}).get("title")
    kind = node.get("class_type", "?")
    return f"{title!r} {kind}" if title and title != kind else kind


def resolve(graph: dict[str, Any], binding: Binding) -> tuple[list[tuple[str, str]], list[str]]:
    """((node id, input) pairs, errors) for one binding against one graph."""
    pairs, errors = [], []
    for target in binding.to:
        try:
            node_id = find_node(graph, target.node)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        inputs = graph[node_id].get("inputs", {})
        if target.input not in inputs:
            close = difflib.get_close_matches(target.input, list(inputs), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(f"node {node_id} ({_describe(graph[node_id])}) has no input {target.input!r}{hint} "
                          f"(inputs: {', '.join(inputs) or 'none'})")
        elif _is_link(inputs[target.input]):
            errors.append(f"input {target.input!r} of node {node_id} is connected to node {inputs[target.input][0]}; "
                          "a binding can only set a widget value")
        else:
            pairs.append((node_id, target.input))
    return pairs, errors


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def job_values(playlist: Playlist, item: PromptItem, rng: random.Random,
               default_checkpoint: str | None = None) -> dict[str, Any]:
    """Every value a binding may use, for one job: item settings over playlist settings, prompt expanded."""
    from .prompts import expand

    negative = item.negative if item.negative is not None else playlist.negative
    return {
        **playlist.values,
        **item.values,
        "prompt": expand(item.text, playlist.variables, rng),
        "negative": expand(negative, playlist.variables, rng),
        "seed": item.seed if item.seed is not None else rng.randrange(SEED_RANGE),
        "width": item.width or playlist.width,
        "height": item.height or playlist.height,
        "steps": item.steps or playlist.steps,
        "cfg": item.cfg if item.cfg is not None else playlist.cfg,
        "checkpoint": playlist.checkpoint or default_checkpoint,
        "sampler": playlist.sampler,
        "scheduler": playlist.scheduler,
    }


def build_job(playlist: Playlist, item: PromptItem, rng: random.Random, *,
              default_checkpoint: str | None = None) -> Job:
    """A ready-to-POST graph for one item: expanded prompt, a fresh seed, every bound value in place.

    ``default_checkpoint`` is the config's ``comfyui.checkpoint``, used when the playlist names none.
    """
    values = job_values(playlist, item, rng, default_checkpoint)
    is_default = playlist.workflow == "default"
    if is_default and not values["checkpoint"]:
        raise ConfigError(Problem(str(playlist.source_path), None, "", NO_CHECKPOINT))
    graph = copy.deepcopy(playlist.workflow_graph())
    bindings = DEFAULT_BINDINGS if is_default else playlist.bindings
    for name, binding in bindings.items():
        value = values.get(name)
        if value is None:
            continue  # unset: the workflow keeps its own value
        if binding.modulo is not None and isinstance(value, int):
            value %= binding.modulo
        pairs, errors = resolve(graph, binding)
        if errors:
            raise ConfigError([Problem(str(playlist.source_path), None, f"bindings.{name}", e) for e in errors])
        for node_id, input_name in pairs:
            graph[node_id]["inputs"][input_name] = value
    meta = {key: values[key] for key in ("prompt", "negative", "seed", "width", "height", "steps", "cfg", "checkpoint")}
    meta.update(playlist=playlist.name, workflow="default" if is_default else str(playlist.workflow), line=item.line)
    return Job(graph=graph, output_nodes=output_nodes(graph), meta=meta)
