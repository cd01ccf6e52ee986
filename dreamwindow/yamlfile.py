"""Strict YAML loading that remembers where everything came from.

PyYAML's SafeLoader silently keeps the last of two duplicate keys and forgets line numbers. Here we compose the
node tree ourselves so that every mapping key, sequence item and scalar keeps its 1-based line, duplicate keys
become problems, and plain scalars that YAML 1.1 turned into something else (``6:00`` -> 360, ``no`` -> False,
``~`` -> None, ``2024-01-01`` -> a date) are remembered so an error there can say "write it in quotes".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, Problem

KeyPath = tuple[str | int, ...]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class Sexagesimal(int):
    """An int that YAML 1.1 read from base-60 text such as ``6:00`` (= 360). Duration fields refuse it."""

    text: str


class SexagesimalFloat(float):
    """A float that YAML 1.1 read from base-60 text such as ``1:30.5``."""

    text: str


@dataclass(frozen=True)
class Trap:
    """A plain (unquoted) scalar that YAML turned into a non-string."""

    raw: str
    value: Any

    def explain(self) -> str:
        value = self.value
        if isinstance(value, (Sexagesimal, SexagesimalFloat)):
            why = f"YAML 1.1 reads {self.raw} as the base-60 number {value}"
        elif isinstance(value, bool):
            why = f"YAML 1.1 reads a bare {self.raw} as {str(value).lower()}"
        elif value is None:
            if not self.raw:
                return "the value is empty (YAML reads that as null)"
            why = f"YAML reads a bare {self.raw} as null"
        else:
            why = f"YAML reads {self.raw} as {type(value).__name__} {value!r}"
        return f'{why}; write it in quotes: "{self.raw}"'


@dataclass
class YamlDoc:
    """A loaded YAML file: the plain Python data plus where each part was written."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    traps: dict[KeyPath, Trap] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: KeyPath) -> int | None:
        """Line of the key path, or of its nearest written ancestor (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(str(self.path), self.line(path), format_key(path), message)


def format_key(path: KeyPath) -> str:
    """('prompts', 3, 'steps') -> 'prompts[3].steps'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Without repeats, in file and line order (problems without a line last in their file)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line is None, p.line or 0))


class StrictLoader(yaml.SafeLoader):
    """SafeLoader used only for parsing, composing and scalar construction; the tree walk is ours."""


def load_yaml(path: Path) -> YamlDoc:
    """Read and compose a YAML file. Syntax errors raise ConfigError; duplicate keys are collected in ``problems``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), None, "", "file not found")) from None
    except IsADirectoryError:
        raise ConfigError(Problem(str(path), None, "", "this is a folder, not a file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(str(path), None, "", f"cannot read file: {exc}")) from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> YamlDoc:
    doc = YamlDoc(path=path, data=None)
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.lines[()] = node.start_mark.line + 1
            doc.data = _Walker(loader, doc).value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        raise ConfigError(Problem(str(path), line, "", f"YAML syntax error: {what}")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(str(path), None, "", f"YAML error: {exc}")) from None
    finally:
        loader.dispose()
    return doc


class _Walker:
    """Turns composed nodes into dicts, lists and scalars, recording lines, traps and duplicate keys."""

    def __init__(self, loader: StrictLoader, doc: YamlDoc) -> None:
        self.loader = loader
        self.doc = doc

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                self.doc.lines.setdefault(path + (index,), child.start_mark.line + 1)
                items.append(self.value(child, path + (index,)))
            return items
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves "<<: *anchor" merge keys like SafeLoader does
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.doc.problems.append(
                    Problem(str(self.doc.path), line, format_key(path), "a key must be a plain word, not a list or mapping")
                )
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = key_node.value  # keys are names for us: "8188:" or "yes:" stay text
            child = path + (key,)
            if key in first_line:
                self.doc.problems.append(
                    Problem(str(self.doc.path), line, format_key(child),
                            f"duplicate key {key!r} (first written on line {first_line[key]})")
                )
                continue
            first_line[key] = line
            self.doc.lines[child] = line
            result[key] = self.value(value_node, child)
        return result

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        value = self.loader.construct_object(node)
        if node.style is not None or isinstance(value, str):
            return value  # quoted, or a string anyway: nothing surprising happened
        raw = node.value
        if node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in raw:
            cls = Sexagesimal if isinstance(value, int) else SexagesimalFloat
            value = cls(value)
            value.text = raw
        # 6:00, 1_0, 017, 0x5: numbers nobody meant as written
        surprising_number = ":" in raw or "_" in raw or re.match(r"[-+]?0[0-9xob]", raw) is not None
        if raw.lower() == "null":
            return value  # written to mean "no value"; nobody means the word, so no "write it in quotes"
        if node.tag in (_BOOL_TAG, _NULL_TAG, _TIMESTAMP_TAG) or (
                node.tag in (_INT_TAG, _FLOAT_TAG) and surprising_number):
            self.doc.traps[path] = Trap(raw, value)
        return value
