"""Turning pydantic's validation errors into problems people can act on: file:line, key path, plain words.

Unknown keys get a "did you mean" (difflib against the keys valid at that place), YAML 1.1 surprises get
"write it in quotes", and pydantic's programmer wording is replaced for the common types.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from .errors import ConfigError, Problem
from .yamlfile import KeyPath, Trap, YamlDoc, sort_problems


def validate(model: type[BaseModel], doc: YamlDoc, data: Any, context: dict[str, Any] | None = None) -> Any:
    """Validate ``data`` (usually ``doc.data``) into ``model``; raise ConfigError with every problem at once."""
    result, problems = collect(model, doc, data, context)
    if problems or doc.problems:
        raise ConfigError(sort_problems(doc.problems + problems))
    return result


def collect(model: type[BaseModel], doc: YamlDoc, data: Any, context: dict[str, Any] | None = None,
            rewrite: Rewrite | None = None) -> tuple[Any, list[Problem]]:
    """(the model or None, the validation problems): for loaders that add problems of their own before raising."""
    try:
        return model.model_validate(data, context=context), []
    except ValidationError as exc:
        return None, validation_problems(exc, doc, model, rewrite)


# A loader that expanded a shorthand (size: -> width/height, "3.seed" -> {to: [...]}) maps pydantic's location back
# to what the user wrote: model path -> (written path, words to put before the message).
Rewrite = Callable[[KeyPath], tuple[KeyPath, str]]


def validation_problems(exc: ValidationError, doc: YamlDoc, model: type[BaseModel],
                        rewrite: Rewrite | None = None) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = tuple(part for part in error["loc"] if not _is_union_tag(part))
        written, prefix = rewrite(path) if rewrite is not None else (path, "")
        message = _message(error, path, doc, model, written)
        problems.append(doc.problem(written, _join(prefix, message)))
    return list(dict.fromkeys(problems))  # a union reports the same words once per member


def _join(prefix: str, message: str) -> str:
    if not prefix:
        return message
    return f"{prefix} {message}" if message.startswith(("must", "needs")) else f"{prefix}: {message}"


def refuse_bool_numbers(model: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """For a ``field_validator("*", mode="before")``: pydantic reads true/false as 1/0 for numbers, so a bare
    ``steps: yes`` or ``cfg: no`` (YAML 1.1 booleans) would pass silently. Report them as the wrong type instead."""
    if isinstance(value, bool) and info.field_name is not None:
        info_field = model.model_fields.get(info.field_name)
        kinds = _number_kinds(info_field.annotation if info_field is not None else None)
        if kinds:
            kind = "int_type" if kinds == {int} else "float_type"
            raise PydanticCustomError(kind, "expected a number, got {value}", {"value": value})
    return value


def _number_kinds(annotation: Any) -> set[type]:
    """{int}, {float} or {int, float} when the annotation is a number (or an optional one), else empty."""
    if annotation in (int, float):
        return {annotation}
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _number_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        kinds = [_number_kinds(a) for a in args]
        return set().union(*kinds) if kinds and all(kinds) else set()
    return set()


def _is_union_tag(part: str | int) -> bool:
    # pydantic puts the union member or validator name into loc ("function-after[...]", "str", "list[str]")
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "dict", "list"})


def _message(error: Any, path: KeyPath, doc: YamlDoc, model: type[BaseModel], written: KeyPath) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return unknown_key_message(str(path[-1]), known_keys(model, path[:-1]))
    if kind == "missing":
        return "required key is missing"
    trap = doc.traps.get(written)
    if trap is not None and not _quoting_helps(model, path, trap):
        # "write it in quotes" would only trade one error for another: show what was written, say what is valid
        error = {**error, "input": _Written(trap.raw)}
        trap = None
    message = _plain_message(kind, error)
    if trap is not None and "quotes" not in message:
        message = f"{message} ({trap.explain()})"
    return message


def _plain_message(kind: str, error: Any) -> str:
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "literal_error":
        return _choice_message(error)
    if kind in _BOUNDS:
        return f"{_BOUNDS[kind]} {_show(next(iter(ctx.values()), '?'))}, got {_show(got)}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Tuple":
        return f"{_FRIENDLY['tuple_type']}, got {_show(got)}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        if least == 1:
            return "needs at least one item"
        return f"needs at least {least} items, got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
    if kind == "multiple_of":
        return f"must be a multiple of {_show(ctx.get('multiple_of'))}, got {_show(got)}"
    if kind in _FRIENDLY:
        message = _FRIENDLY[kind]
        return message if isinstance(got, (dict, list)) else f"{message}, got {_show(got)}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix):]
    # anything else pydantic says: at least not in its "Input should be" voice
    if message.startswith("Input should be "):
        message = "expected " + message[len("Input should be "):]
    return message[:1].lower() + message[1:]


class _Written(str):
    """What the user wrote (a YAML 1.1 trap's raw text), shown bare in messages."""


def _quoting_helps(model: type[BaseModel], path: KeyPath, trap: Trap) -> bool:
    """Would the quoted text be valid where the trap is? Only then is "write it in quotes" good advice."""
    field_type = _field_type(model, path)
    if field_type is None:
        return True
    try:
        TypeAdapter(field_type).validate_python(trap.raw)
    except ValidationError:
        return False
    except Exception:  # a type TypeAdapter cannot build: keep the hint rather than guess
        return True
    return True


def _field_type(model: type[BaseModel], path: KeyPath) -> Any:
    """The type (with its Field constraints) a value at ``path`` must have, or None when unknown."""
    if not path:
        return None
    parent: Any = model
    for part in path[:-1]:
        parent = _step(parent, part)
        if parent is None:
            return None
    owner = _as_model(parent)
    if owner is not None and isinstance(path[-1], str):
        info = owner.model_fields.get(path[-1])
        if info is None:
            return None
        return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return _step(parent, path[-1])


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
    "finite_number": "must be a finite number",
    "int_parsing_size": "the number is too large",
    "none_required": "must be empty",
}


def _choice_message(error: Any) -> str:
    expected = str((error.get("ctx") or {}).get("expected", ""))
    options = re.findall(r"'([^']*)'", expected) or [o.strip() for o in re.split(r",| or ", expected) if o.strip()]
    got = error.get("input")
    close = difflib.get_close_matches(str(got), options, n=1, cutoff=0.5) if isinstance(got, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if isinstance(got, str) and not isinstance(got, _Written) and got in options:
        hint = "; write it without quotes"  # rotate: "90" where the number 90 is meant
    return f"expected one of {', '.join(options)}, got {_show(got)}{hint}"


def _show(value: Any) -> str:
    if isinstance(value, _Written):
        return str(value)
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
