"""Can this server run this graph? Checked against the server's ``/object_info`` (pure).

Two things make a valid-looking workflow fail on one server and not another: a node class that is not
installed (custom nodes), and a choice input (checkpoint, LoRA, VAE, sampler...) whose value is not in the
server's list (a model file that is not there). Each problem names what is missing and what is available.
"""

from __future__ import annotations

import difflib
from typing import Any

_SHOW = 8  # how many available names to list in a message


def _choices(spec: Any) -> list[str] | None:
    """The allowed values of a choice input, in both object_info spellings, or None when it is not a choice."""
    if not isinstance(spec, (list, tuple)) or not spec:
        return None
    kind = spec[0]
    if isinstance(kind, list):  # classic: [["a.safetensors", "b.safetensors"], {...}]
        return [str(v) for v in kind]
    if kind == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):  # newer: ["COMBO", {"options": [...]}]
        options = spec[1].get("options")
        return [str(v) for v in options] if isinstance(options, list) else None
    return None


def _available(names: list[str], wanted: str) -> str:
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    shown = close + [n for n in names if n not in close][: max(0, _SHOW - len(close))]
    more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return (", ".join(repr(n) for n in shown) + more) if names else "none"


def input_specs(node_info: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    inputs = node_info.get("input") or {}
    for group in ("required", "optional"):
        if isinstance(inputs.get(group), dict):
            spec.update(inputs[group])
    return spec


def can_run(graph: dict[str, Any], object_info: dict[str, Any]) -> list[str]:
    """Every reason the server described by ``object_info`` cannot run ``graph`` (empty when it can)."""
    problems: list[str] = []
    classes = sorted(object_info)
    for node_id, node in graph.items():
        if not isinstance(node, dict):
            continue
        class_type = node.get("class_type")
        info = object_info.get(class_type) if isinstance(class_type, str) else None
        if not isinstance(info, dict):
            near = difflib.get_close_matches(str(class_type), classes, n=3, cutoff=0.6)
            hint = f"; similar installed classes: {', '.join(near)}" if near else ""
            problems.append(f"node {node_id}: node class {class_type!r} is not installed{hint}")
            continue
        specs = input_specs(info)
        for name, value in (node.get("inputs") or {}).items():
            if not isinstance(value, str):  # links are lists; numbers are range-checked by the server itself
                continue
            allowed = _choices(specs.get(name))
            if allowed is not None and value not in allowed:
                problems.append(
                    f"node {node_id} ({class_type}) input {name}: {value!r} is not available; "
                    f"available: {_available(allowed, value)}"
                )
    return problems
