"""Prompt templates: {a|b} alternatives (nested), __name__ wildcards, errors, determinism."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dreamwindow.prompts import TemplateError, check, expand, parse


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("plain text", {"plain text"}),
        ("a {red|blue} sky", {"a red sky", "a blue sky"}),
        ("{a|b}{c|d}", {"ac", "ad", "bc", "bd"}),
        ("x {a|{b|c} d}", {"x a", "x b d", "x c d"}),
        ("{a|}!", {"a!", "!"}),
        ("{single}", {"single"}),
        ("pipes | outside braces stay", {"pipes | outside braces stay"}),
        ("__season__ meadow", {"spring meadow", "autumn meadow"}),
        ("{__season__|winter} light", {"spring light", "autumn light", "winter light"}),
        ("__nested__", {"red sky", "blue sky", "spring", "autumn"}),
    ],
)
def test_expands_to_one_of(text: str, possible: set[str]) -> None:
    variables = {"season": ["spring", "autumn"], "nested": ["{red|blue} sky", "__season__"]}
    assert check(text, variables) == []
    rng = random.Random(7)
    seen = {expand(text, variables, rng) for _ in range(300)}
    assert seen == possible


def test_choices_are_roughly_even() -> None:
    rng = random.Random(1)
    counts = Counter(expand("{a|b|c}", {}, rng) for _ in range(3000))
    assert all(900 < n < 1100 for n in counts.values())


def test_same_seed_same_expansion() -> None:
    text = "a {misty|golden {dawn|dusk}} __place__ {x|y|z}"
    variables = {"place": ["forest", "lake", "{high|low} mountain"]}
    first = [expand(text, variables, random.Random(42)) for _ in range(3)]
    assert len(set(first)) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a {b", "never closed"),
        ("a }b", "unmatched '}'"),
        ("{a|{b}", "never closed"),
        ("__nope__ sky", "unknown wildcard __nope__; defined: __season__"),
        ("__loop__", "wildcard loop: __loop__ -> __loop__"),
        ("__ping__", "wildcard loop: __ping__ -> __pong__ -> __ping__"),
        ("__empty__", "has no values"),
        ("__bad__", "in __bad__: '{' at character 1 is never closed"),
    ],
)
def test_check_reports(text: str, words: str) -> None:
    variables = {"season": ["spring"], "loop": ["x __loop__"], "ping": ["__pong__"], "pong": ["__ping__"],
                 "empty": [], "bad": ["{oops"]}
    if "defined" in words:
        variables = {"season": ["spring"]}
    errors = check(text, variables)
    assert any(words in e for e in errors), errors


def test_parse_errors_raise() -> None:
    with pytest.raises(TemplateError):
        parse("{a|b")


# Balanced templates over a small alphabet, built recursively so every "{" has its "}".
_literal = st.text(alphabet="ab ,.xy", max_size=5)
_templates = st.recursive(
    _literal,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map("".join),
        st.lists(inner, min_size=1, max_size=4).map(lambda opts: "{" + "|".join(opts) + "}"),
    ),
    max_leaves=12,
)


@given(_templates, st.integers(0, 2**32 - 1))
def test_expansion_of_balanced_input_has_no_braces(text: str, seed: int) -> None:
    # balanced braces are never a syntax error; "{}" or "{|}" is reported only for having nothing to pick
    assert all("every alternative" in error for error in check(text, {}))
    out = expand(text, {}, random.Random(seed))
    assert "{" not in out and "}" not in out and "|" not in out


@given(_templates, st.integers(0, 2**32 - 1))
def test_expansion_is_deterministic(text: str, seed: int) -> None:
    assert expand(text, {}, random.Random(seed)) == expand(text, {}, random.Random(seed))


@given(st.text(alphabet="ab{}|_", max_size=15))
def test_any_text_is_either_reported_or_expands(text: str) -> None:
    if check(text, {}):
        return
    out = expand(text, {}, random.Random(0))
    assert "{" not in out and "}" not in out
