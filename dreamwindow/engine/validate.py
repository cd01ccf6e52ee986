"""Validation of a submitted prompt, answering with the same error shapes as ComfyUI's ``POST /prompt``.

Structure errors (a node without class_type, an unknown class) reject the whole prompt as ``invalid_prompt``.
Then every output node is validated with its inputs, recursively; outputs that pass run, and when none passes
the answer is 400 ``prompt_outputs_failed_validation`` with per-node errors.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

Error = dict[str, Any]
_CONVERT = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}


def error_body(kind: str, message: str, details: str = "", node_errors: dict | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "details": details, "extra_info": {}},
            "node_errors": node_errors or {}}


@dataclass
class Verdict:
    error: dict[str, Any] | None = None          # a full 400 body when the prompt cannot run at all
    outputs: list[str] = field(default_factory=list)
    node_errors: dict[str, Any] = field(default_factory=dict)


def convert_widget(kind: str, value: Any) -> Any:
    """Convert a literal input the way the server does (a float for an INT is truncated)."""
    conv = _CONVERT.get(kind)
    return conv(value) if conv else value


def _tb(ex: BaseException) -> list[str]:
    return [line.split("\n")[0] + "\n" for line in traceback.format_tb(ex.__traceback__)]


class _Validator:
    def __init__(self, prompt: dict[str, Any], defs: dict[str, Any]) -> None:
        self.prompt, self.defs = prompt, defs
        self.done: dict[str, tuple[bool, list[Error]]] = {}

    def node(self, nid: str) -> bool:
        """Validate one node and, through its links, everything upstream of it.

        Like the real server, a link that cannot be resolved (a missing node, a bad output slot) raises out of
        this node's check; the node that linked to it catches that and records it *on this node*, with its own
        input name, input config and link (``exception_during_inner_validation``). An output node's own broken
        link is caught by ``validate_prompt`` (``exception_during_validation``).
        """
        if nid in self.done:
            return self.done[nid][0]
        self.done[nid] = (True, [])            # guards against cycles while this node is being checked
        node = self.prompt[nid]
        inputs = node.get("inputs") or {}
        required = self.defs[node["class_type"]]["input"]["required"]
        errors: list[Error] = []
        valid = True
        for name, conf in required.items():
            kind = conf[0]
            config = [kind, conf[1] if len(conf) > 1 else {}]
            if name not in inputs:
                errors.append({"type": "required_input_missing", "message": "Required input is missing",
                               "details": name, "extra_info": {"input_name": name}})
                valid = False
                continue
            value = inputs[name]
            if isinstance(value, list):
                source = str(value[0])
                # Output types are a tuple in ComfyUI: a bad slot says "tuple index out of range".
                received = tuple(self.defs[self.prompt[source]["class_type"]]["output"])[value[1]]
                valid = self._link(name, config, value, source, received, errors) and valid
            else:
                valid = self._literal(name, config, value, errors) and valid
        self.done[nid] = (valid and not errors, errors)
        return valid and not errors

    def _link(self, name: str, config: list, link: list, source: str, received: str, errors: list[Error]) -> bool:
        expected = config[0]
        if not isinstance(expected, list) and "*" not in (expected, received) and received != expected:
            details = f"{name}, received_type({received}) mismatch input_type({expected})"
            errors.append({"type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
                           "details": details,
                           "extra_info": {"input_name": name, "input_config": config, "received_type": received,
                                          "linked_node": link}})
            return False
        try:
            return self.node(source)
        except Exception as ex:  # the source node's own link is broken: recorded on the source node
            message = str(ex)
            self.done[source] = (False, [{
                "type": "exception_during_inner_validation", "message": "Exception when validating inner node",
                "details": message,
                "extra_info": {"input_name": name, "input_config": config, "exception_message": message,
                               "exception_type": type(ex).__name__, "traceback": _tb(ex), "linked_node": link}}])
            return False

    @staticmethod
    def _literal(name: str, config: list, value: Any, errors: list[Error]) -> bool:
        kind, opts = config
        info = {"input_name": name, "input_config": config, "received_value": value}
        if isinstance(kind, list):
            if value not in kind:
                errors.append({"type": "value_not_in_list", "message": "Value not in list",
                               "details": f"{name}: '{value}' not in {kind!r}", "extra_info": info})
                return False
            return True
        try:
            value = convert_widget(kind, value)
        except (TypeError, ValueError) as ex:
            errors.append({"type": "invalid_input_type",
                           "message": f"Failed to convert an input value to a {kind} value",
                           "details": f"{name}, {value}, {ex}", "extra_info": {**info, "exception_message": str(ex)}})
            return False
        if kind in ("INT", "FLOAT"):
            if "min" in opts and value < opts["min"]:
                errors.append({"type": "value_smaller_than_min",
                               "message": f"Value {value} smaller than min of {opts['min']}",
                               "details": name, "extra_info": info})
                return False
            if "max" in opts and value > opts["max"]:
                errors.append({"type": "value_bigger_than_max",
                               "message": f"Value {value} bigger than max of {opts['max']}",
                               "details": name, "extra_info": info})
                return False
        return True


def validate_prompt(prompt: dict[str, Any], defs: dict[str, Any], targets: list[str] | None = None) -> Verdict:
    for nid, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return Verdict(error=error_body("invalid_prompt",
                                            "Cannot execute because a node is missing the class_type property.",
                                            f"Node ID '#{nid}'"))
        if node["class_type"] not in defs:
            return Verdict(error=error_body("invalid_prompt",
                                            f"Cannot execute because node {node['class_type']} does not exist.",
                                            f"Node ID '#{nid}'"))
    outputs = [nid for nid, node in prompt.items() if defs[node["class_type"]].get("output_node")]
    if targets is not None:
        outputs = [o for o in outputs if o in set(map(str, targets))]
    if not outputs:
        return Verdict(error=error_body("prompt_no_outputs", "Prompt has no outputs"))
    checker = _Validator(prompt, defs)
    good: list[str] = []
    own_errors: list[str] = []
    node_errors: dict[str, Any] = {}
    for out in outputs:
        try:
            ok = checker.node(out)
        except Exception as ex:  # a broken link straight out of an output node
            checker.done[out] = (False, [{"type": "exception_during_validation",
                                          "message": "Exception when validating node", "details": str(ex),
                                          "extra_info": {"exception_type": type(ex).__name__,
                                                         "traceback": _tb(ex)}}])
            ok = False
        if ok:
            good.append(out)
            continue
        own_errors += [f"{e['message']}: {e['details']}" for e in checker.done[out][1]]
        for nid, (ok, errs) in checker.done.items():
            if not ok and errs:
                entry = node_errors.setdefault(nid, {"errors": errs, "dependent_outputs": [],
                                                     "class_type": prompt[nid]["class_type"]})
                if out not in entry["dependent_outputs"]:
                    entry["dependent_outputs"].append(out)
    if not good:
        return Verdict(error=error_body("prompt_outputs_failed_validation", "Prompt outputs failed validation",
                                        "\n".join(own_errors), node_errors))
    return Verdict(outputs=good, node_errors=node_errors)
