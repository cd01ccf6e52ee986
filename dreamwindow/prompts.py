"""Prompt templates: ``{a|b|c}`` alternatives (nestable) and ``__name__`` wildcards from a playlist's variables.

    "a {misty|golden {dawn|dusk}} __place__"  ->  "a golden dusk forest clearing"

Parsing is separate from expansion so a playlist can be checked once at load time (unbalanced braces, unknown
or self-referencing wildcards) and every later expansion is a pure function of the text and the rng.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

WILDCARD = re.compile(r"__([A-Za-z0-9](?:[A-Za-z0-9_-]*?[A-Za-z0-9])?)__")
MAX_DEPTH = 20  # wildcards may use wildcards; deeper than this is a loop

# A template is a sequence of parts: literal text, or a list of alternatives (each itself a template).
Template = tuple["str | Alternatives", ...]
Alternatives = tuple[Template, ...]


class TemplateError(ValueError):
    """A prompt template is malformed; the message says where."""


@lru_cache(maxsize=1024)
def parse(text: str) -> Template:
    """Parse braces into a tree. ``|`` outside braces and unmatched braces are errors."""
    template, pos = _parse_seq(text, 0, depth=0)
    if pos != len(text):  # only a stray "}" stops the top level early
        raise TemplateError(f"unmatched '}}' at character {pos + 1} of {text!r}")
    return template


def _parse_seq(text: str, pos: int, depth: int) -> tuple[Template, int]:
    parts: list[str | Alternatives] = []
    literal: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == "{":
            if literal:
                parts.append("".join(literal))
                literal = []
            alternatives, pos = _parse_alternatives(text, pos + 1, depth + 1)
            parts.append(alternatives)
            continue
        if char == "}" or (char == "|" and depth > 0):
            break
        literal.append(char)
        pos += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts), pos


def _parse_alternatives(text: str, pos: int, depth: int) -> tuple[Alternatives, int]:
    start = pos - 1
    options: list[Template] = []
    while True:
        option, pos = _parse_seq(text, pos, depth)
        options.append(option)
        if pos >= len(text):
            raise TemplateError(f"'{{' at character {start + 1} is never closed in {text!r}")
        if text[pos] == "}":
            return tuple(options), pos + 1
        pos += 1  # skip "|"


def wildcards(text: str) -> set[str]:
    """Every wildcard name a template mentions directly."""
    return set(WILDCARD.findall(text))


def check(text: str, variables: Mapping[str, Sequence[str]]) -> list[str]:
    """Everything wrong with a template for these variables (empty = fine): syntax, unknown or looping wildcards."""
    errors: list[str] = []
    _check(text, variables, errors, chain=())
    return errors


def _check(text: str, variables: Mapping[str, Sequence[str]], errors: list[str], chain: tuple[str, ...]) -> None:
    try:
        parse(text)
    except TemplateError as exc:
        errors.append(str(exc) if not chain else f"in __{chain[-1]}__: {exc}")
        return
    for start in _empty_groups(text):
        where = f"in __{chain[-1]}__: " if chain else ""
        errors.append(f"{where}every alternative of the '{{' at character {start + 1} is empty in {text!r}; "
                      "give it at least one word (an empty one next to others is fine, like {|misty })")
    for name in sorted(wildcards(text)):
        if name in chain:
            errors.append("wildcard loop: " + " -> ".join(f"__{n}__" for n in (*chain, name)))
        elif name not in variables:
            known = ", ".join(f"__{n}__" for n in sorted(variables)) or "none (add a variables: mapping)"
            errors.append(f"unknown wildcard __{name}__; defined: {known}")
        elif not variables[name]:
            errors.append(f"wildcard __{name}__ has no values")
        elif not any(value.strip() for value in variables[name]):
            errors.append(f"wildcard __{name}__ has only empty values")
        else:
            for value in variables[name]:
                _check(value, variables, errors, chain + (name,))


def _empty_groups(text: str) -> list[int]:
    """Start offsets of brace groups whose alternatives are all blank ("{|}", "{ }"): they can only add nothing.
    Call on a template that parses (braces balanced)."""
    found: list[int] = []
    stack: list[list[int]] = []  # per open group: [start, start of the current alternative, all blank so far]
    for pos, char in enumerate(text):
        if char == "{":
            stack.append([pos, pos + 1, 1])
        elif char in "|}" and stack:
            group = stack[-1]
            if text[group[1]:pos].strip():
                group[2] = 0
            group[1] = pos + 1
            if char == "}":
                stack.pop()
                if group[2]:
                    found.append(group[0])
    return sorted(found)


def expand(text: str, variables: Mapping[str, Sequence[str]], rng: random.Random) -> str:
    """Pick one alternative per brace group and one value per wildcard. Deterministic for a seeded rng."""
    return _expand(parse(text), variables, rng, depth=0)


def _expand(template: Template, variables: Mapping[str, Sequence[str]], rng: random.Random, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise TemplateError(f"wildcards nest deeper than {MAX_DEPTH} levels (a loop?)")
    out: list[str] = []
    for part in template:
        if isinstance(part, str):
            out.append(_fill_wildcards(part, variables, rng, depth))
        else:
            out.append(_expand(rng.choice(part), variables, rng, depth))
    return "".join(out)


def _fill_wildcards(literal: str, variables: Mapping[str, Sequence[str]], rng: random.Random, depth: int) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables or not variables[name]:
            raise TemplateError(f"unknown wildcard __{name}__")
        return _expand(parse(rng.choice(list(variables[name]))), variables, rng, depth + 1)

    return WILDCARD.sub(replace, literal)
