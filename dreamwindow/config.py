"""The daemon's config file: validated models, loading with every problem at once, the default path search.

Every model forbids unknown keys (a typo is reported with "did you mean"), and every error names the file, the
line and the key path, e.g. ``dreamwindow.yaml:14: display.transition.seconds: ...``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema,
                      field_validator)
from pydantic.json_schema import SkipJsonSchema

from .durations import DurationError, format_duration, parse_duration
from .errors import ConfigError, Problem
from .playlist import HIDDEN, Playlist, PlaylistCursor, PromptItem, load_playlist
from .configerrors import collect, refuse_bool_numbers
from .workflow import NO_CHECKPOINT
from .yamlfile import Sexagesimal, SexagesimalFloat, YamlDoc, load_yaml, sort_problems

__all__ = [
    "BackendConfig", "ComfyConfig", "Config", "DisplayConfig", "Playlist", "PlaylistCursor", "PromptItem",
    "RotationConfig", "StoreConfig", "TransitionConfig", "check_files", "config_schema", "find_config",
    "load_config", "load_playlist",
]

MAX_LOOKAHEAD = 16  # more only queues work a server may never get to, and holds that many pictures in memory
USER_CONFIG = Path("~/.config/dreamwindow/dreamwindow.yaml")
SYSTEM_CONFIG = Path("/etc/dreamwindow/dreamwindow.yaml")


def _duration(value: Any) -> float:
    if isinstance(value, (Sexagesimal, SexagesimalFloat)):
        raise ValueError(f'{value.text} is read by YAML 1.1 as the base-60 number {value}; '
                         f'write a duration like "90s" or "10m", in quotes if it has a colon')
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                              {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(d|h|m|s|ms)\s*)+$"}],
                    "description": 'seconds, or a duration like "90s", "10m", "1h30m", "250ms"'}),
]


def _playlist_entry(value: Path, info: ValidationInfo) -> Path:
    path = _resolve_path(value, info)
    if path.is_dir():
        if not any(p.suffix in (".yaml", ".yml") for p in path.iterdir()):
            raise ValueError(f"folder {path} has no .yaml playlists")
    elif not path.is_file():
        raise ValueError(f"playlist {path} does not exist")
    return path


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """~ expands; a relative path is relative to the folder of the file it was written in."""
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return Path(os.path.normpath(path))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_bool_numbers(cls, value, info)


class BackendConfig(_Model):
    url: str = Field(description="base URL of a ComfyUI server, e.g. http://127.0.0.1:8188")
    name: str | None = Field(default=None, description="a short name for logs (default: the URL's host:port)")
    weight: float = Field(default=1.0, gt=0, description="relative share of jobs when several servers are free")
    max_in_flight: int = Field(default=1, ge=1, description="jobs queued on this server at once")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers, e.g. Authorization")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1].strip("/")) == 0:
            raise ValueError(f"{value!r} is not a server URL; write it like http://127.0.0.1:8188")
        return value.rstrip("/")


class ComfyConfig(_Model):
    backends: list[BackendConfig] = Field(min_length=1, description="one or more ComfyUI servers")
    timeout: Duration = Field(default=600.0, gt=0, description="longest a single generation may take")
    request_timeout: Duration = Field(default=30.0, gt=0, description="longest a single HTTP request may take")
    checkpoint: str | None = Field(default=None, description="checkpoint for playlists that name none")


class TransitionConfig(_Model):
    seconds: Duration = Field(default=4.0, ge=0, le=60, description="crossfade length (0 = cut)")
    easing: Literal["linear", "smoothstep", "ease_in_out"] = "smoothstep"


class DisplayConfig(_Model):
    fullscreen: bool = True
    size: tuple[int, int] = Field(default=(1280, 720), description="window size when not fullscreen: [w, h]")
    rotate: Literal[0, 90, 180, 270] = Field(default=0, description="for portrait-mounted screens")
    fit: Literal["cover", "contain", "blur"] = "cover"
    transition: TransitionConfig = Field(default_factory=TransitionConfig)
    caption: bool = Field(default=False, description="show the prompt under the picture")
    fps: int = Field(default=30, ge=1, le=240, description="frame rate during transitions")

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if isinstance(value, str) and "x" in value:
            width, _, height = value.partition("x")
            if width.strip().isdigit() and height.strip().isdigit():
                return (int(width), int(height))
        return value

    @field_validator("size")
    @classmethod
    def _positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 1:
            raise ValueError("width and height must be at least 1")
        return value


class RotationConfig(_Model):
    every: Duration = Field(default=90.0, ge=1, description="how long each picture stays; at least 1s and longer "
                                                           "than display.transition.seconds")
    lookahead: int = Field(default=2, ge=1, le=MAX_LOOKAHEAD, description="pictures generated ahead of need")
    when_starved: Literal["hold", "replay"] = Field(
        default="replay", description="when generation is slower than rotation: keep the picture, or replay old ones")


class StoreConfig(_Model):
    dir: Path = Field(default=Path("~/.local/share/dreamwindow"), validate_default=True,
                      description="where finished pictures are kept")
    keep: int = Field(default=1000, ge=1, description="how many of the newest pictures to keep")

    @field_validator("dir", mode="after")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_path(value, info)


class Config(_Model):
    comfyui: ComfyConfig
    display: DisplayConfig = Field(default_factory=DisplayConfig)
    rotation: RotationConfig = Field(default_factory=RotationConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    playlists: list[Annotated[Path, AfterValidator(_playlist_entry)]] = Field(
        min_length=1, description="playlist files, or folders whose *.yaml files are playlists")
    source_path: SkipJsonSchema[Path] = Field(json_schema_extra=HIDDEN)

    def playlist_files(self) -> list[Path]:
        """The playlist files in play now: folders are read again on every call, so new files join."""
        return playlist_files(self.playlists)


def playlist_files(sources: list[Path]) -> list[Path]:
    """Files named directly plus each folder's *.yaml files (sorted, not recursive), each file once (also when a
    folder and a file in it are both listed, or one path is a symlink to another)."""
    files: dict[Path, Path] = {}
    for source in sources:
        if source.is_dir():
            found = sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            found = [source]
        for file in found:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def load_config(path: Path) -> Config:
    """Load and validate a config file. Raises ConfigError listing every problem at once."""
    path = Path(path).expanduser().resolve()
    doc = load_yaml(path)
    if doc.data is None:
        raise ConfigError(doc.problems + [doc.problem((), "the file is empty: a config needs at least comfyui: "
                                                          "and playlists:")])
    if not isinstance(doc.data, dict):
        raise ConfigError(doc.problems + [doc.problem((), "a config file is a mapping with comfyui: and playlists:")])
    reserved = [doc.problem(("source_path",), "unknown key 'source_path'")] if "source_path" in doc.data else []
    data = {**doc.data, "source_path": path}
    config, problems = collect(Config, doc, data, {"base_dir": path.parent})
    problems = sort_problems(doc.problems + problems + reserved + _rotation_problems(doc))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _rotation_problems(doc: YamlDoc) -> list[Problem]:
    """rotation.every must outlast the crossfade, or pictures change before they are fully shown. Checked on the
    raw values (defaults where absent), so it is reported along with any other problem."""
    every = _raw_duration(doc.data, ("rotation", "every"), RotationConfig.model_fields["every"].default)
    fade = _raw_duration(doc.data, ("display", "transition", "seconds"),
                         TransitionConfig.model_fields["seconds"].default)
    if every is None or fade is None or every < 1 or every > fade:
        return []  # an invalid value or one below 1s is reported by validation
    return [doc.problem(("rotation", "every"), f"rotation.every ({format_duration(every)}) must be longer than "
                                               f"display.transition.seconds ({format_duration(fade)})")]


def _raw_duration(data: Any, keys: tuple[str, ...], default: float) -> float | None:
    for key in keys:
        if not isinstance(data, dict):
            return None
        if key not in data:
            return default
        data = data[key]
    try:
        return _duration(data)
    except ValueError:
        return None


def find_config(explicit: Path | None = None) -> Path:
    """The config to use: explicit, else $DREAMWINDOW_CONFIG, else the user's, else the system's."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_dir():
            raise ConfigError(Problem(str(path), None, "", "this is a folder, not a config file; pass the file "
                                                           f"itself, e.g. -c {path / 'dreamwindow.yaml'}"))
        if not path.is_file():
            raise ConfigError(Problem(str(path), None, "", "config file not found"))
        return path
    tried = []
    env = os.environ.get("DREAMWINDOW_CONFIG")
    if env:
        tried.append(Path(env).expanduser())
    tried += [USER_CONFIG.expanduser(), SYSTEM_CONFIG]
    for path in tried:
        if path.is_file():
            return path
    where = ", ".join(str(p) for p in tried)
    # no file is at fault here, so the problem names none
    raise ConfigError(Problem(
        "", None, "",
        f"no config file found (tried {where}). Create one with `dreamwindow init` (it writes the commented "
        f"example config and the playlists to ~/.config/dreamwindow/), or pass -c FILE, or set DREAMWINDOW_CONFIG"))


def _listed_playlists(doc: YamlDoc) -> tuple[list[Path], list[Problem]]:
    """The playlist files a config names, each once, even when other parts of the config are invalid (so ``check``
    reports their problems in the same run), plus a problem for each entry that names a file already listed."""
    path = doc.path
    entries = doc.data.get("playlists") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        return [], []
    files: dict[Path, int] = {}  # resolved file -> index of the entry that listed it first
    problems = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            continue
        source = Path(os.path.normpath(path.parent / Path(entry).expanduser()))
        for file in playlist_files([source]):
            if not file.is_file():
                continue
            first = files.setdefault(file.resolve(), index)
            if first != index:
                message = f"{file} is listed twice (also by playlists[{first}]: {entries[first]}); it plays once"
                problems.append(doc.problem(("playlists", index), message))
    return list(files), problems


def check_files(config_path: Path) -> list[Problem]:
    """Every problem in the config, each playlist it names and each workflow those name (empty = all fine)."""
    try:
        load_config(config_path)
    except ConfigError as exc:
        problems = list(exc.problems)
    else:
        problems = []
    try:
        doc = load_yaml(Path(config_path).expanduser().resolve())
    except ConfigError:
        return problems  # unreadable: already reported
    playlist_paths, listed_twice = _listed_playlists(doc)
    problems = sort_problems(problems + listed_twice)
    comfyui = doc.data.get("comfyui") if isinstance(doc.data, dict) else None
    # read raw, so a playlist without a checkpoint is reported even while other parts of the config are invalid
    default_checkpoint = comfyui.get("checkpoint") if isinstance(comfyui, dict) else None
    for playlist_path in playlist_paths:
        try:
            playlist = load_playlist(playlist_path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        if playlist.workflow == "default" and not (playlist.checkpoint or default_checkpoint):
            problems.append(Problem(str(playlist_path), _prompts_line(playlist_path), "", NO_CHECKPOINT))
    return problems


def _prompts_line(playlist_path: Path) -> int:
    """The line of ``prompts:`` (or 1 for a bare list), where a playlist-wide problem is best shown."""
    try:
        doc = load_yaml(playlist_path)
    except ConfigError:
        return 1
    return (doc.lines.get(("prompts",)) if isinstance(doc.data, dict) else None) or 1


def config_schema(kind: str = "config") -> dict[str, Any]:
    """JSON Schema of a config file ("config") or a playlist file ("playlist"), for editor completion."""
    if kind == "config":
        schema = Config.model_json_schema()
        schema["title"] = "DreamWindow config"
        return schema
    if kind == "playlist":
        schema = Playlist.model_json_schema()
        schema["title"] = "DreamWindow playlist"
        item = schema["properties"]["prompts"]["items"]
        schema["properties"]["prompts"]["items"] = {"anyOf": [{"type": "string"}, item]}
        for name in ("size",):  # shorthands accepted by the loader
            schema["properties"][name] = {"type": "string", "description": 'width x height, e.g. "768x512"'}
        schema["$defs"]["PromptItem"]["properties"]["size"] = schema["properties"]["size"]
        target = {"type": "string", "description": 'NODE.INPUT, NODE being a node id or title, e.g. "3.seed"'}
        binding = schema["properties"]["bindings"]["additionalProperties"]
        schema["properties"]["bindings"]["additionalProperties"] = {
            "anyOf": [target, {"type": "array", "items": target}, binding]}
        return schema
    raise ValueError(f"unknown schema kind {kind!r}: config or playlist")
