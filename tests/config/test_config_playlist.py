"""Playlists: loading (items, size, defaults, exact error lines) and the three order modes."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from dreamwindow.config import load_playlist
from dreamwindow.playlist import Playlist, PlaylistCursor, PromptItem


def make(order: str, count: int, weights: list[float] | None = None) -> Playlist:
    items = [PromptItem(text=f"p{i}", weight=(weights[i] if weights else 1)) for i in range(count)]
    return Playlist(name="t", source_path=Path("t.yaml"), order=order, prompts=items)


def test_items_and_defaults(write) -> None:
    path = write("dreams.yaml", """
        checkpoint: sd.safetensors
        negative: blurry
        variables:
          season: [spring, autumn]
          one: single value
        prompts:
          - a {red|blue} forest
          - text: __season__ meadow
            negative: dark
            weight: 3
            steps: 30
            cfg: 5.5
            size: 512x768
            seed: 42
            values: {mood: calm}
          - text: wide
            width: 1024
    """)
    playlist = load_playlist(path)
    assert playlist.name == "dreams" and playlist.source_path == path
    assert playlist.workflow == "default" and playlist.order == "shuffle"
    assert (playlist.steps, playlist.cfg, playlist.width, playlist.height) == (20, 7.0, 768, 512)
    assert (playlist.sampler, playlist.scheduler) == ("euler", "normal")
    assert playlist.variables == {"season": ["spring", "autumn"], "one": ["single value"]}
    first, second, third = playlist.prompts
    assert first == PromptItem(text="a {red|blue} forest", line=7)
    assert (second.negative, second.weight, second.steps, second.cfg) == ("dark", 3, 30, 5.5)
    assert (second.width, second.height, second.seed, second.values, second.line) == (512, 768, 42, {"mood": "calm"}, 8)
    assert (third.width, third.height, third.line) == (1024, None, 16)


def test_default_checkpoint_fills_in(write) -> None:
    plain = write("a.yaml", "prompts: [x]\n")
    own = write("b.yaml", "checkpoint: mine.ckpt\nprompts: [x]\n")
    assert load_playlist(plain, default_checkpoint="cfg.ckpt").checkpoint == "cfg.ckpt"
    assert load_playlist(own, default_checkpoint="cfg.ckpt").checkpoint == "mine.ckpt"
    assert load_playlist(plain).checkpoint is None


def test_a_bare_list_is_a_playlist(write) -> None:
    playlist = load_playlist(write("l.yaml", "- one\n- two\n"))
    assert [p.text for p in playlist.prompts] == ["one", "two"] and playlist.prompts[1].line == 2


def test_every_problem_with_exact_lines(write, problems) -> None:
    path = write("bad.yaml", """
        order: shufle
        variables:
          season: [spring, summer]
        name: mine
        prompts:
          - a {red|blue forest
          - text: __seasn__ meadow
            steps: many
            colour: red
          - no
          - text: ok
            size: 12by4
          - text: fine
            values: {seed: 3}
          - 6:00
          - text: fine
            text: twice
    """)
    found = {(p.line, p.key): p.message for p in problems(lambda: load_playlist(path))}
    assert set(found) == {
        (1, "order"), (4, "name"), (6, "prompts[0]"), (7, "prompts[1].text"), (8, "prompts[1].steps"),
        (9, "prompts[1].colour"), (10, "prompts[2]"), (12, "prompts[3].size"), (14, "prompts[4].values.seed"),
        (15, "prompts[5]"), (17, "prompts[6].text"),
    }
    assert "did you mean 'shuffle'" in found[(1, "order")]
    assert "never closed" in found[(6, "prompts[0]")]
    assert "unknown wildcard __seasn__; defined: __season__" in found[(7, "prompts[1].text")]
    assert 'write it in quotes: "no"' in found[(10, "prompts[2]")]
    assert 'write it in quotes: "6:00"' in found[(15, "prompts[5]")]
    assert "duplicate key 'text' (first written on line 16)" == found[(17, "prompts[6].text")]
    assert "built-in value" in found[(14, "prompts[4].values.seed")]


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("prompts: []\n", 1, "prompts", "needs at least one item"),
        ("steps: 20\n", 1, "prompts", "required key is missing"),
        ("prompts: [x]\nstps: 3\n", 2, "stps", "did you mean 'steps'?"),
        ("prompts: [x]\nsize: 3x\n", 2, "size", 'must look like "768x512"'),
        ("prompts: [x]\nvariables: {'bad name': [x]}\n", 2, "variables.bad name", "variable name"),
        ("prompts: [{text: x, weight: 0}]\norder: weighted\n", 2, "order", "weight > 0"),
        ("prompts: [x]\nbindings: {seed: '3.seed'}\n", 2, "bindings", "only for a workflow file"),
        ("prompts: [{text: x, seed: -1}]\n", 1, "prompts[0].seed", "must be at least 0, got -1"),
        ("prompts:\n  - text: x\n    negative: '{a'\n", 3, "prompts[0].negative", "never closed"),
    ],
)
def test_single_problems(write, problems, text: str, line: int, key: str, words: str) -> None:
    path = write("p.yaml", text)
    found = problems(lambda: load_playlist(path))
    assert [(p.line, p.key) for p in found] == [(line, key)], found
    assert words in found[0].message


def test_sequence_wraps() -> None:
    cursor = PlaylistCursor(make("sequence", 3), random.Random(0))
    assert [cursor.next().text for _ in range(7)] == ["p0", "p1", "p2", "p0", "p1", "p2", "p0"]


@pytest.mark.parametrize("count", [2, 3, 5, 8])
@pytest.mark.parametrize("seed", range(5))
def test_shuffle_plays_all_before_repeating(count: int, seed: int) -> None:
    cursor = PlaylistCursor(make("shuffle", count), random.Random(seed))
    played = [cursor.next().text for _ in range(count * 50)]
    for cycle in range(50):
        assert sorted(played[cycle * count:(cycle + 1) * count]) == sorted(f"p{i}" for i in range(count))
    assert all(a != b for a, b in zip(played, played[1:]))  # never twice in a row, across cycle boundaries too


def test_shuffle_order_changes_between_cycles() -> None:
    cursor = PlaylistCursor(make("shuffle", 6), random.Random(3))
    cycles = {tuple(cursor.next().text for _ in range(6)) for _ in range(20)}
    assert len(cycles) > 5


def test_shuffle_of_one_item() -> None:
    cursor = PlaylistCursor(make("shuffle", 1), random.Random(0))
    assert [cursor.next().text for _ in range(3)] == ["p0"] * 3


def test_weighted_frequencies_follow_weights() -> None:
    cursor = PlaylistCursor(make("weighted", 3, [1, 3, 0]), random.Random(11))
    counts = Counter(cursor.next().text for _ in range(8000))
    assert counts["p2"] == 0
    assert counts["p1"] / counts["p0"] == pytest.approx(3, rel=0.1)


def test_cursor_is_deterministic_for_a_seed() -> None:
    def run(mode: str) -> list[str]:
        cursor = PlaylistCursor(make(mode, 5), random.Random(9))
        return [cursor.next().text for _ in range(20)]

    assert run("shuffle") == run("shuffle")
    assert run("weighted") == run("weighted")
