"""Helpers for config tests: write small YAML/JSON files into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dreamwindow.errors import ConfigError, Problem


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("name.yaml", text) -> path; text is dedented and stripped of its first newline."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def problems_of(call: Callable[[], object]) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        call()
    return info.value.problems


@pytest.fixture
def problems() -> Callable[[Callable[[], object]], list[Problem]]:
    return problems_of
