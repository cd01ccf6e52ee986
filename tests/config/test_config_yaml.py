"""Strict YAML: lines kept, duplicate keys refused, YAML 1.1 traps explained, syntax errors located."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamwindow.errors import ConfigError
from dreamwindow.yamlfile import Sexagesimal, format_key, load_yaml, parse_yaml


def test_lines_of_keys_and_items() -> None:
    doc = parse_yaml("a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n", Path("f.yaml"))
    assert doc.data == {"a": {"b": 1, "c": ["x", {"d": 2}]}}
    assert doc.lines[("a",)] == 1
    assert doc.lines[("a", "b")] == 2
    assert doc.lines[("a", "c", 0)] == 4
    assert doc.lines[("a", "c", 1, "d")] == 5
    assert doc.line(("a", "c", 1, "missing")) == 5  # nearest written ancestor
    assert doc.line(("nothing", "here")) == 1


def test_duplicate_keys_are_problems_with_both_lines() -> None:
    doc = parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", Path("f.yaml"))
    found = {(p.line, p.key): p.message for p in doc.problems}
    assert found == {
        (4, "b.c"): "duplicate key 'c' (first written on line 3)",
        (5, "a"): "duplicate key 'a' (first written on line 1)",
    }


@pytest.mark.parametrize(
    ("raw", "value", "words"),
    [
        ("6:00", 360, "base-60 number 360"),
        ("10:30", 630, "base-60"),
        ("no", False, "reads a bare no as false"),
        ("Off", False, "as false"),
        ("yes", True, "as true"),
        ("~", None, "as null"),
        ("2024-01-01", None, "date"),
        ("017", 15, "int 15"),
    ],
)
def test_traps_are_remembered(raw: str, value: object, words: str) -> None:
    doc = parse_yaml(f"key: {raw}\n", Path("f.yaml"))
    trap = doc.traps[("key",)]
    if value is not None or raw == "~":
        assert doc.data["key"] == value
    explanation = trap.explain()
    assert words in explanation
    assert f'write it in quotes: "{raw}"' in explanation


def test_quoted_scalars_are_not_traps() -> None:
    doc = parse_yaml('a: "6:00"\nb: \'no\'\nc: plain text\n', Path("f.yaml"))
    assert doc.data == {"a": "6:00", "b": "no", "c": "plain text"}
    assert doc.traps == {}


def test_sexagesimal_keeps_its_text() -> None:
    doc = parse_yaml("a: 1:30\n", Path("f.yaml"))
    assert isinstance(doc.data["a"], Sexagesimal) and doc.data["a"].text == "1:30"


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: 1\n b: 2\n", 2), ("a: [1, 2\n", 2), ("a: 1\nb: {c: 1\n", 3), ("- a\nb: 1\n", 2), ("a: 'open\n", 2)],
)
def test_syntax_errors_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.line == line
    assert problem.message.startswith("YAML syntax error")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")


def test_merge_keys_work() -> None:
    doc = parse_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n", Path("f.yaml"))
    assert doc.data["use"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(("path", "text"), [(("a", "b"), "a.b"), (("p", 3, "steps"), "p[3].steps"), ((), ""),
                                            (("l", 0, 1), "l[0][1]")])
def test_format_key(path: tuple, text: str) -> None:
    assert format_key(path) == text


@pytest.mark.parametrize("raw", ["0", "42", "2.5", "-3"])
def test_ordinary_numbers_are_not_traps(raw: str) -> None:
    assert parse_yaml(f"key: {raw}\n", Path("f.yaml")).traps == {}
