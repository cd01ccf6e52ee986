"""QA findings on config and playlist checks: every problem of a file in one run, each at its own key and line,
in plain words; limits on risky values; playlists listed twice; clearer messages where the old ones misled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dreamwindow.config import check_files, find_config, load_config, load_playlist
from dreamwindow.errors import ConfigError, Problem
from dreamwindow.prompts import check

BASE = "comfyui: {backends: [{url: 'http://h:1'}], checkpoint: m.safetensors}\nplaylists: [lists]\n"


@pytest.fixture
def lists(write) -> Path:
    return write("lists/forest.yaml", "prompts:\n  - a misty forest\n").parent


def keyed(found: list[Problem]) -> dict[tuple[int | None, str], str]:
    return {(p.line, p.key): p.message for p in found}


def test_every_playlist_problem_in_one_run(write, problems) -> None:
    # before: size: 12 stopped the validation of the whole playlist; 3 problems came out, 8 more after fixing them
    path = write("e-items.yaml", """
        order: sequense
        size: 12
        steps: -3
        cfg: high
        prompts:
          - a {misty forest
          - text: a meadow
            text: again
          - text: __colour__ sea
            wieght: 2
          - text: night
            seed: -1
          - text: ""
          - 42
    """)
    found = keyed(problems(lambda: load_playlist(path)))
    assert set(found) == {
        (1, "order"), (2, "size"), (3, "steps"), (4, "cfg"), (6, "prompts[0]"), (8, "prompts[1].text"),
        (9, "prompts[2].text"), (10, "prompts[2].wieght"), (12, "prompts[3].seed"), (13, "prompts[4].text"),
        (14, "prompts[5]"),
    }
    assert found[(2, "size")] == 'must look like "768x512" (width x height) or [768, 512], got 12'
    assert found[(13, "prompts[4].text")] == "must not be empty"
    assert found[(14, "prompts[5]")].endswith("got 42")


def test_every_binding_problem_in_one_run(write, problems) -> None:
    # before: the badly formed "Blur" hid the unknown node, the unknown value name and the unknown input
    write("wf.json", json.dumps({"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "color": 0}},
                                 "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}))
    path = write("b.yaml", """
        workflow: wf.json
        bindings:
          prompt: "Blur"
          seed: "9.seed"
          nothing: "1.color"
          width: {node: 1, inptu: width}
          steps: {to: "1.width", modulo: 0}
          cfg: ["1.width", "1.nope"]
        prompts: [x]
    """)
    found = keyed(problems(lambda: load_playlist(path)))
    assert set(found) == {
        (3, "bindings.prompt"), (4, "bindings.seed"), (5, "bindings.nothing"), (6, "bindings.width.input"),
        (6, "bindings.width.inptu"), (7, "bindings.steps.modulo"), (8, "bindings.cfg"),
    }
    assert "write a binding target as" in found[(3, "bindings.prompt")]
    assert "no node with id or title '9'" in found[(4, "bindings.seed")]
    assert "no value named 'nothing'" in found[(5, "bindings.nothing")]
    assert found[(6, "bindings.width.input")] == "required key is missing"
    assert "has no input 'nope'" in found[(8, "bindings.cfg")]


def test_binding_list_shorthand_points_at_the_item(write, problems) -> None:
    write("wf.json", json.dumps({"2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}))
    path = write("b.yaml", "workflow: wf.json\nbindings:\n  seed:\n    - '2.images'\n    - Blur\nprompts: [x]\n")
    found = keyed(problems(lambda: load_playlist(path)))
    assert (5, "bindings.seed[1]") in found


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("steps: 3\nsize: 12\nprompts: [x]\n", 2, "size", 'must look like "768x512"'),
        ("prompts:\n  - x\n  - x\n  - x\n  - text: x\n    size: big\n", 6, "prompts[3].size", "got 'big'"),
        ("size: 768x512\nwidth: 500\nprompts: [x]\n", 1, "size", "either size: or width:/height:"),
        ("size: 4x512\nprompts: [x]\n", 1, "size", "width must be at least 8, got 4"),
        ("prompts:\n  - text: x\n    size: [9, a]\n", 3, "prompts[0].size", "height: expected a whole number"),
    ],
)
def test_size_problems_name_the_size_key_and_line(write, problems, text: str, line: int, key: str,
                                                  message: str) -> None:
    path = write("p.yaml", text)
    found = problems(lambda: load_playlist(path))
    assert [(p.line, p.key) for p in found] == [(line, key)], found
    assert message in found[0].message
    assert str(found[0]).startswith(f"{path}:{line}: {key}: ")


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("prompts:\n  - text: ''\n", "prompts[0].text", "must not be empty"),
        ("prompts: []\n", "prompts", "needs at least one item"),
        ("prompts: [x]\nvariables: {a: 3}\n", "variables.a", "expected a list"),
        ("prompts: [x]\nweight: 1\n", "weight", "unknown key"),
        ("prompts: [{text: x, weight: .inf}]\n", "prompts[0].weight", "must be a finite number"),
        ("prompts: [x]\nworkflow: 5\n", "workflow", 'expected "default" or the path of an API-format workflow'),
        ("prompts: [x]\nsampler: [a]\n", "sampler", "expected text"),
    ],
)
def test_no_pydantic_wording(write, problems, text: str, key: str, message: str) -> None:
    path = write("p.yaml", text)
    found = problems(lambda: load_playlist(path))
    assert [p.key for p in found] == [key], found
    assert message in found[0].message
    for words in ("should", "Input", "String", "List ", "valid", "after validation", "Value error"):
        assert words not in found[0].message


@pytest.mark.parametrize(
    ("yaml_text", "line", "key", "message"),
    [
        ("rotation:\n  every: 0.001\n", 2, "rotation.every", "must be at least 1, got 0.001"),
        ("rotation:\n  lookahead: 1000\n", 2, "rotation.lookahead", "must be at most 16, got 1000"),
        ("display:\n  transition: {seconds: 61}\n", 2, "display.transition.seconds", "must be at most 60, got 61"),
        ("display:\n  transition: {seconds: 4}\nrotation:\n  every: 2s\n", 4, "rotation.every",
         "rotation.every (2s) must be longer than display.transition.seconds (4s)"),
        ("rotation:\n  every: 3s\n", 2, "rotation.every",  # the default crossfade is 4s
         "rotation.every (3s) must be longer than display.transition.seconds (4s)"),
        ("display:\n  transition: {seconds: 4s}\nrotation:\n  every: 4s\n", 4, "rotation.every",
         "rotation.every (4s) must be longer than display.transition.seconds (4s)"),
    ],
)
def test_risky_rotation_values(write, lists: Path, problems, yaml_text: str, line: int, key: str,
                               message: str) -> None:
    path = write("c.yaml", yaml_text + BASE)
    found = problems(lambda: load_config(path))
    assert [(p.line, p.key, p.message) for p in found] == [(line, key, message)]


def test_rotation_limits_that_are_fine(write, lists: Path) -> None:
    path = write("c.yaml", "display:\n  transition: {seconds: 0}\nrotation: {every: 1, lookahead: 16}\n" + BASE)
    config = load_config(path)
    assert (config.rotation.every, config.rotation.lookahead, config.display.transition.seconds) == (1, 16, 0)


def test_rotation_checked_along_with_other_problems(write, lists: Path, problems) -> None:
    path = write("c.yaml", "display:\n  fit: nope\n  transition: {seconds: 10}\nrotation: {every: 5s}\n" + BASE)
    assert {p.key for p in problems(lambda: load_config(path))} == {"display.fit", "rotation.every"}


def test_playlist_listed_twice_is_checked_once_and_reported(write, lists: Path) -> None:
    write("lists/bad.yaml", "prompts:\n  - a {forest\n")
    path = write("c.yaml", "comfyui: {backends: [{url: 'http://h:1'}], checkpoint: m}\n"
                           "playlists:\n  - lists\n  - lists/bad.yaml\n  - ./lists/forest.yaml\n")
    found = check_files(path)
    bad = [p for p in found if Path(p.file).name == "bad.yaml"]
    assert len(bad) == 1  # its problem once, not once per listing
    twice = [p for p in found if "listed twice" in p.message]
    assert [(p.file, p.line, p.key) for p in twice] == [(str(path), 4, "playlists[1]"), (str(path), 5, "playlists[2]")]
    assert "also by playlists[0]: lists" in twice[0].message
    assert load_config(path).playlist_files() == [lists / "bad.yaml", lists / "forest.yaml"]


def test_file_then_its_folder_is_listed_twice(write, lists: Path) -> None:
    path = write("c.yaml", "comfyui: {backends: [{url: 'http://h:1'}], checkpoint: m}\n"
                           "playlists: [lists/forest.yaml, lists]\n")
    found = check_files(path)
    assert [(p.line, p.key) for p in found] == [(2, "playlists[1]")]
    assert "forest.yaml is listed twice" in found[0].message


def test_missing_checkpoint_has_a_line_and_says_where(write) -> None:
    write("lists/p.yaml", "# comment\norder: sequence\nprompts:\n  - x\n")
    path = write("c.yaml", "comfyui: {backends: [{url: 'http://h:1'}]}\nplaylists: [lists]\n")
    [problem] = check_files(path)
    assert (problem.line, problem.key) == (3, "")
    assert problem.message == ("no checkpoint for the built-in workflow: set checkpoint: in this playlist or "
                               "comfyui.checkpoint in the config")
    assert str(problem) == f"{problem.file}:3: {problem.message}"


def test_folder_given_as_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    assert "is a folder, not a config file" in str(info.value) and "not found" not in str(info.value)
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        load_config(tmp_path)


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_files(write, problems, text: str) -> None:
    config = write("c.yaml", text)
    assert problems(lambda: load_config(config))[0].message == (
        "the file is empty: a config needs at least comfyui: and playlists:")
    playlist = write("p.yaml", text)
    assert "the file is empty" in problems(lambda: load_playlist(playlist))[0].message


def test_no_config_found_names_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DREAMWINDOW_CONFIG", raising=False)
    with pytest.raises(ConfigError) as info:
        find_config(None)
    [problem] = info.value.problems
    assert problem.file == "" and str(problem).startswith("no config file found (tried ")
    assert str(Problem("", None, "k", "m")) == "k: m"
    assert str(Problem("f.yaml", 3, "k", "m")) == "f.yaml:3: k: m" and str(Problem("f", None, "", "m")) == "f: m"


@pytest.mark.parametrize("text", ["{|}", "   ", "{ | }", "a {|} forest", "{{|}|x}"])
def test_empty_prompts_and_groups_are_rejected(write, problems, text: str) -> None:
    path = write("p.yaml", f"prompts:\n  - {json.dumps(text)}\n")
    [problem] = problems(lambda: load_playlist(path))
    assert (problem.line, problem.key) in {(2, "prompts[0]"), (2, "prompts[0].text")}
    assert "empty" in problem.message or "blank" in problem.message


@pytest.mark.parametrize("text", ["{|misty }forest", "a {{|misty }x|y}", "x{ |y}", "a | b"])
def test_an_empty_alternative_among_others_is_fine(write, text: str) -> None:
    assert check(text, {}) == []
    assert load_playlist(write("p.yaml", f"prompts:\n  - {json.dumps(text)}\n")).prompts[0].text == text


def test_wildcard_with_only_blank_values(write, problems) -> None:
    path = write("p.yaml", "variables: {x: ['', ' ']}\nprompts: [__x__ forest]\n")
    assert "only empty values" in problems(lambda: load_playlist(path))[0].message


def test_each_variable_checked_on_its_own(write, problems) -> None:
    # before: one badly named variable stopped the check of all the others
    path = write("p.yaml", "prompts: [x]\nvariables:\n  'x y': z\n  a: [[b]]\n  b: {c: d}\n  ok: one\n")
    found = keyed(problems(lambda: load_playlist(path)))
    assert set(found) == {(3, "variables.x y"), (4, "variables.a[0]"), (5, "variables.b")}


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("steps: yes\n", "steps", "expected a whole number, got yes"),  # not silently 1
        ("cfg: no\n", "cfg", "expected a number, got no"),  # not silently 0
        ("negative: null\n", "negative", "expected text, got nothing (null)"),  # no 'write it in quotes: "null"'
        ("sampler: yes\n", "sampler", 'write it in quotes: "yes"'),  # quoting does help here
        ("order: 0x300\n", "order", "got 0x300"),  # YAML 1.1 hex, shown as written, no quoting hint
    ],
)
def test_yaml_surprises_in_playlists(write, problems, text: str, key: str, message: str) -> None:
    path = write("p.yaml", text + "prompts: [x]\n")
    found = problems(lambda: load_playlist(path))
    assert [p.key for p in found] == [key], found
    assert message in found[0].message
    assert key == "sampler" or "quotes" not in found[0].message


def test_number_written_as_text(write, lists: Path, problems) -> None:
    path = write("c.yaml", "display: {rotate: '90'}\nrotation: {lookahead: on}\n" + BASE)
    found = keyed(problems(lambda: load_config(path)))
    assert found == {(1, "display.rotate"): "expected one of 0, 90, 180, 270, got '90'; write it without quotes",
                     (2, "rotation.lookahead"): "expected a whole number, got on"}
