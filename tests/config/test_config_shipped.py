"""The config files and playlists we ship are valid, and the example config documents every key."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from dreamwindow.config import Config, check_files, load_config, load_playlist
from dreamwindow.playlist import PlaylistCursor
from dreamwindow.workflow import build_job

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "config").glob("*.yaml"))
PLAYLISTS = sorted((REPO / "playlists").rglob("*.yaml"))


def test_there_is_enough_to_ship() -> None:
    names = {p.name for p in CONFIGS}
    assert {"dreamwindow.yaml", "demo.yaml", "model-free.yaml"} <= names
    assert len([p for p in PLAYLISTS if p.parent.name == "playlists"]) >= 3


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_and_everything_it_names_is_valid(path: Path) -> None:
    assert check_files(path) == []


@pytest.mark.parametrize("path", PLAYLISTS, ids=lambda p: p.name)
def test_playlist_builds_jobs(path: Path) -> None:
    playlist = load_playlist(path, default_checkpoint="dreamwindow-dream.safetensors")
    rng = random.Random(1)
    cursor = PlaylistCursor(playlist, rng)
    for _ in range(len(playlist.prompts) * 2):
        job = build_job(playlist, cursor.next(), rng)
        assert job.output_nodes and "__" not in job.meta["prompt"] and "{" not in job.meta["prompt"]


def test_demo_config() -> None:
    config = load_config(REPO / "config" / "demo.yaml")
    assert config.comfyui.checkpoint == "dreamwindow-dream.safetensors"
    assert config.rotation.every == 6 and config.display.transition.seconds == 2 and config.rotation.lookahead == 2
    assert config.display.fullscreen is False and config.display.size == (1280, 720)
    assert config.store.dir == Path("~/.local/share/dreamwindow/demo").expanduser()
    shipped = sorted(p for p in (REPO / "playlists").glob("*.yaml"))
    assert config.playlist_files() == shipped


def test_real_config_uses_a_real_checkpoint() -> None:
    config = load_config(REPO / "config" / "dreamwindow.yaml")
    assert config.comfyui.checkpoint == "v1-5-pruned-emaonly.safetensors"
    assert config.comfyui.backends[0].url == "http://127.0.0.1:8188"


def _model_keys(model: type, prefix: str = "") -> set[str]:
    keys = set()
    for name, info in model.model_fields.items():
        if name == "source_path":
            continue
        keys.add(name)
        nested = info.annotation
        if isinstance(nested, type) and hasattr(nested, "model_fields"):
            keys |= _model_keys(nested)
    return keys


def test_example_config_comments_every_key() -> None:
    text = (REPO / "config" / "dreamwindow.yaml").read_text()
    written = set()
    for line in text.splitlines():
        match = re.match(r"\s*(?:- )?([a-z_]+):(.*)$", line)
        if match and not line.lstrip().startswith("#"):
            written.add(match.group(1))
            if match.group(2).strip():  # a key with a value has its default / choices explained
                assert "#" in match.group(2), f"uncommented key: {line}"
    from dreamwindow.config import BackendConfig

    assert _model_keys(Config) | _model_keys(BackendConfig) <= written
