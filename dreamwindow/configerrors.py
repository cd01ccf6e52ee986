"""Turning pydantic's validation errors into problems people can act on: file:line, key path, plain words.

Unknown keys get a "did you mean" (difflib against the keys valid at that place), YAML 1.1 surprises get
"write it in quotes", and pydantic's programmer wording is replaced for the common types.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem
from .yamlfile import KeyPath, YamlDoc, sort_problems



def validate(model: type[BaseModel], doc: YamlDoc, data: Any, context: dict[str, Any] | None = None) -> Any:
    """Validate ``data`` (usually ``doc.data``) into ``model``; raise ConfigError with every problem at once."""
    try:
        result = model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(sort_problems(doc.problems + validation_problems(exc, doc, model))) from None
    if doc.problems:
        raise ConfigError(doc.problems)
    return result


def validation_problems(exc: ValidationError, doc: YamlDoc, model: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = tuple(part for part in error["loc"] if not _is_union_tag(part))
        problems.append(doc.problem(path, _message(error, path, doc, model)))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic puts the union member or validator name into loc ("function-after[...]", "str", "list[str]")
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "dict", "list"})


def _message(error: Any, path: KeyPath, doc: YamlDoc, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return unknown_key_message(str(path[-1]), known_keys(model, path[:-1]))
    if kind == "missing":
        return "required key is missing"
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        message = _choice_message(error)
    elif kind in _BOUNDS:
        message = f"{_BOUNDS[kind]} {_show(next(iter(ctx.values()), '?'))}, got {_show(error.get('input'))}"
    elif kind == "too_short":
        message = f"needs at least {ctx.get('min_length', 1)} item(s)"
    else:
        message = _FRIENDLY.get(kind) or str(error["msg"])
        if kind in _FRIENDLY and not isinstance(error.get("input"), (dict, list)):
            message += f", got {_show(error.get('input'))}"
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix):]
    trap = doc.traps.get(path)
    if trap is not None and "quotes" not in message:
        message = f"{message} ({trap.explain()})"
    return message


_BOUNDS = {"greater_than": "must be more than", "greater_than_equal": "must be at least",
           "less_than": "must be less than", "less_than_equal": "must be at most"}

# pydantic's wording is written for programmers; these are for people editing YAML
_FRIENDLY = {
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected text",
    "path_type": "expected a file or folder path",
    "list_type": "expected a list (lines starting with '- ', or [a, b])",
    "tuple_type": "expected a list of two numbers like [1280, 720]",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
}


def _choice_message(error: Any) -> str:
    expected = str((error.get("ctx") or {}).get("expected", ""))
    options = re.findall(r"'([^']*)'", expected) or [o.strip() for o in re.split(r",| or ", expected) if o.strip()]
    got = error.get("input")
    close = difflib.get_close_matches(str(got), options, n=1, cutoff=0.5) if isinstance(got, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"expected one of {', '.join(options)}, got {_show(got)}{hint}"


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def unknown_key_message(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    if known:
        return f"unknown key {key!r}; valid keys here: {', '.join(sorted(known))}"
    return f"unknown key {key!r}"


def known_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys a user may write at ``path`` inside ``model`` (walks nested models, lists and dicts)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    current = _as_model(annotation)
    if current is None:
        return []
    names = [info.alias or name for name, info in current.model_fields.items() if not _hidden(info)]
    return names + list(getattr(current, "yaml_extra_keys", ()))


def _hidden(info: Any) -> bool:
    extra = info.json_schema_extra
    return bool(isinstance(extra, dict) and extra.get("hidden"))


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation found one key (or index) deeper, or None."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _step(args[0], part)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            found = _step(arg, part)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(str(part)) if isinstance(part, str) else None
        return info.annotation if info is not None else None
    if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation stands for, through Annotated[...] and Optional[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _as_model(arg)
            if found is not None:
                return found
    return None
