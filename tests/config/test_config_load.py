"""load_config: every problem at once, each with file, exact line and key path; paths; defaults; find_config."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamwindow.config import Config, check_files, config_schema, find_config, load_config
from dreamwindow.errors import ConfigError

PLAYLIST = "prompts:\n  - a misty forest\n"


@pytest.fixture
def playlist(write) -> Path:
    return write("lists/forest.yaml", PLAYLIST)


def test_minimal_config_gets_defaults(write, playlist: Path) -> None:
    path = write("c.yaml", """
        comfyui:
          backends: [{url: "http://127.0.0.1:8188/"}]
        playlists: [lists/forest.yaml]
    """)
    config = load_config(path)
    assert config.comfyui.backends[0].url == "http://127.0.0.1:8188"
    assert config.comfyui.timeout == 600 and config.comfyui.request_timeout == 30
    assert config.display.fullscreen is True and config.display.size == (1280, 720)
    assert config.display.transition.seconds == 4 and config.display.transition.easing == "smoothstep"
    assert config.rotation.every == 90 and config.rotation.lookahead == 2 and config.rotation.when_starved == "replay"
    assert config.store.dir == Path("~/.local/share/dreamwindow").expanduser() and config.store.keep == 1000
    assert config.playlists == [playlist]
    assert config.source_path == path
    with pytest.raises(Exception):
        config.rotation.every = 5  # type: ignore[misc]  # frozen


def test_paths_resolve_against_the_config_folder(write, playlist: Path, tmp_path: Path) -> None:
    path = write("conf/c.yaml", """
        comfyui: {backends: [{url: "http://h:1"}], timeout: 1h30m}
        store: {dir: ../pictures, keep: 5}
        display: {size: 800x600, rotate: 90, transition: {seconds: 250ms}}
        rotation: {every: "1m30s"}
        playlists: [../lists]
    """)
    config = load_config(path)
    assert config.store.dir == tmp_path / "pictures"
    assert config.playlists == [playlist.parent]  # the folder itself: its files are read as they come and go
    assert config.playlist_files() == [playlist]
    assert config.comfyui.timeout == 5400 and config.rotation.every == 90
    assert config.display.transition.seconds == 0.25
    assert config.display.size == (800, 600) and config.display.rotate == 90


def test_home_is_expanded(write, playlist: Path) -> None:
    path = write("c.yaml", """
        comfyui: {backends: [{url: "http://h:1"}]}
        store: {dir: ~/pics}
        playlists: [lists/forest.yaml]
    """)
    assert load_config(path).store.dir == Path.home() / "pics"


def test_every_problem_at_once_with_exact_lines(write, playlist: Path, problems) -> None:
    path = write("c.yaml", """
        comfyui:
          backends:
            - url: localhost:8188
              wieght: 2
            - url: http://ok:1
              max_in_flight: 0
          timeout: 6:00
        display:
          fullscreen: maybe
          transition:
            seconds: fast
            easing: smooth
          fit: cover
          fit: contain
        rotation:
          evry: 90s
        store:
          dir: ~
        playlists:
          - lists/forest.yaml
          - missing.yaml
    """)
    found = {(p.line, p.key) for p in problems(lambda: load_config(path))}
    assert found == {
        (3, "comfyui.backends[0].url"),
        (4, "comfyui.backends[0].wieght"),
        (6, "comfyui.backends[1].max_in_flight"),
        (7, "comfyui.timeout"),
        (9, "display.fullscreen"),
        (11, "display.transition.seconds"),
        (12, "display.transition.easing"),
        (14, "display.fit"),
        (16, "rotation.evry"),
        (18, "store.dir"),
        (21, "playlists[1]"),
    }


@pytest.mark.parametrize(
    ("yaml_text", "line", "key", "message"),
    [
        ("display:\n  trasition: {seconds: 2}\n", 2, "display.trasition", "did you mean 'transition'?"),
        ("rotation:\n  every: 1:30\n", 2, "rotation.every", 'base-60 number 90'),
        ("display:\n  caption: [1]\n", 2, "display.caption", "expected true or false"),
        ("display:\n  rotate: 45\n", 2, "display.rotate", "expected one of 0, 90, 180, 270, got 45"),
        ("display:\n  fit: cuver\n", 2, "display.fit", "did you mean 'cover'?"),
        ("store:\n  keep: lots\n", 2, "store.keep", "expected a whole number, got 'lots'"),
        ("store:\n  dir: ~\n", 2, "store.dir", 'write it in quotes: "~"'),
        ("rotation:\n  lookahead: 0\n", 2, "rotation.lookahead", "must be at least 1, got 0"),
        # quoting would not make it valid, so no "write it in quotes"; say what is valid instead
        ("rotation:\n  when_starved: no\n", 2, "rotation.when_starved", "expected one of hold, replay, got no"),
        ("display:\n  fit: yes\n", 2, "display.fit", "expected one of cover, contain, blur, got yes"),
        ("store:\n  dir: no\n", 2, "store.dir", 'write it in quotes: "no"'),
        ("colour: red\n", 1, "colour", "unknown key 'colour'; valid keys here:"),
        ("source_path: /x\n", 1, "source_path", "unknown key"),
    ],
)
def test_single_problem_messages(write, playlist: Path, problems, yaml_text: str, line: int, key: str,
                                 message: str) -> None:
    base = "comfyui: {backends: [{url: 'http://h:1'}]}\nplaylists: [lists/forest.yaml]\n"
    path = write("c.yaml", yaml_text + base)
    found = problems(lambda: load_config(path))
    assert [(p.line, p.key) for p in found] == [(line, key)]
    assert message in found[0].message
    assert str(found[0]).startswith(f"{path}:{line}: {key}: ")


def test_missing_required_sections_point_at_the_parent(write, problems) -> None:
    path = write("c.yaml", "display: {}\ncomfyui:\n  timeout: 5s\n")
    found = {(p.line, p.key, p.message) for p in problems(lambda: load_config(path))}
    assert found == {(1, "playlists", "required key is missing"), (2, "comfyui.backends", "required key is missing")}


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_not_a_mapping(write, problems, text: str) -> None:
    path = write("c.yaml", text)
    assert "comfyui:" in problems(lambda: load_config(path))[0].message


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    env_file = tmp_path / "env.yaml"
    monkeypatch.setenv("DREAMWINDOW_CONFIG", str(env_file))
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("x: 1")
    assert find_config(explicit) == explicit
    with pytest.raises(ConfigError) as info:
        find_config(None)
    message = str(info.value)
    assert str(env_file) in message and str(home / ".config/dreamwindow/dreamwindow.yaml") in message
    assert "/etc/dreamwindow/dreamwindow.yaml" in message and "dreamwindow init" in message
    user = home / ".config/dreamwindow/dreamwindow.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("x: 1")
    assert find_config(None) == user
    env_file.write_text("x: 1")
    assert find_config(None) == env_file
    with pytest.raises(ConfigError, match="not found"):
        find_config(tmp_path / "nope.yaml")


def test_schemas_describe_both_files() -> None:
    config = config_schema("config")
    assert set(config["properties"]) == {"comfyui", "display", "rotation", "store", "playlists"}
    assert "source_path" not in str(config)
    playlist = config_schema("playlist")
    assert "prompts" in playlist["properties"] and "name" not in playlist["properties"]
    assert {"type": "string"} in playlist["properties"]["prompts"]["items"]["anyOf"]
    with pytest.raises(ValueError):
        config_schema("other")


def test_check_files_reports_playlist_and_workflow_problems(write) -> None:
    write("lists/good.yaml", PLAYLIST)
    write("lists/bad.yaml", "prompts:\n  - a {forest\nsteps: many\n")
    write("lists/nockpt.yaml", PLAYLIST)
    write("lists/flow.yaml", "workflow: nope.json\nbindings: {seed: '1.seed'}\nprompts: [x]\n")
    path = write("c.yaml", "comfyui: {backends: [{url: 'http://h:1'}]}\nplaylists: [lists]\n")
    found = {(Path(p.file).name, p.line, p.key) for p in check_files(path)}
    assert ("bad.yaml", 2, "prompts[0]") in found
    assert ("bad.yaml", 3, "steps") in found
    assert ("flow.yaml", 1, "workflow") in found
    assert ("nope.json", None, "") in found
    assert ("good.yaml", 1, "") in found  # no checkpoint anywhere for the default workflow
    assert isinstance(load_config(path), Config)


def test_config_checkpoint_satisfies_default_workflow(write) -> None:
    write("lists/good.yaml", PLAYLIST)
    path = write("c.yaml", "comfyui: {backends: [{url: 'http://h:1'}], checkpoint: m.safetensors}\n"
                           "playlists: [lists]\n")
    assert check_files(path) == []
