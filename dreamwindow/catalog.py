"""The playlists in play: which item comes next, live reload on file change, items set aside.

People edit playlists on the running wall. A file is re-read when it (or the workflow it names) changes on
disk; a broken edit is reported once with file, line and key, and the last good version keeps playing. An
item that a server rejected (bad node input, missing model) is set aside until its playlist or workflow file
changes, so one typo does not stall the whole rotation.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dreamwindow.errors import ConfigError, DreamWindowError

log = logging.getLogger(__name__)


class NothingToPlay(DreamWindowError):
    """Every item of every playlist is set aside or failed to load."""


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class _Entry:
    path: Path
    playlist: Any = None
    cursor: Any = None
    stamps: dict[Path, tuple[int, int] | None] = field(default_factory=dict)
    set_aside: dict[int, str] = field(default_factory=dict)  # id(item) -> reason
    bad_stamps: dict[Path, tuple[int, int] | None] | None = None  # the broken version already reported


def _watched_files(path: Path, playlist: Any) -> list[Path]:
    files = [path]
    workflow = getattr(playlist, "workflow", None)
    if isinstance(workflow, Path):
        files.append(workflow)
    return files


class Catalog:
    def __init__(
        self,
        paths: list[Path],
        *,
        rng: random.Random,
        loader: Callable[[Path], Any] | None = None,
        cursor_factory: Callable[[Any, random.Random], Any] | None = None,
        random_start: bool = False,
    ) -> None:
        if loader is None or cursor_factory is None:
            from dreamwindow.config import load_playlist
            from dreamwindow.playlist import PlaylistCursor

            loader = loader or load_playlist
            cursor_factory = cursor_factory or PlaylistCursor
        self._load = loader
        self._cursor = cursor_factory
        self._rng = rng
        self._sources = [Path(p) for p in paths]
        self._entries = [_Entry(p) for p in self._expand()]
        # `dreamwindow once` starts anywhere; the daemon starts with the first playlist.
        self._turn = rng.randrange(len(self._entries)) if random_start and self._entries else 0

    def _expand(self) -> list[Path]:
        """Playlist files named directly, plus every .yaml file in named folders (new ones join on refresh)."""
        from dreamwindow.config import playlist_files

        return playlist_files(self._sources)

    def _sync_folders(self) -> None:
        wanted = self._expand()
        known = {e.path: e for e in self._entries}
        if list(known) == wanted:
            return
        for path in wanted:
            if path not in known:
                log.info("new playlist %s", path)
        for path in known:
            if path not in wanted:
                log.info("playlist %s is gone; it stops playing", path)
        self._entries = [known.get(p) or _Entry(p) for p in wanted]
        self._turn %= max(1, len(self._entries))

    def load(self) -> None:
        """Load every playlist. Raises ConfigError when none can be loaded; logs the ones that fail."""
        problems = []
        for entry in self._entries:
            try:
                self._reload(entry)
            except ConfigError as exc:
                problems.extend(exc.problems)
                entry.bad_stamps = {entry.path: _stamp(entry.path)}
        for problem in problems:
            log.error("%s", problem)
        if not any(e.playlist is not None for e in self._entries):
            raise ConfigError(problems) if problems else NothingToPlay("no playlists configured")

    def refresh(self) -> None:
        """Re-read every playlist whose files changed. Cheap: one stat per watched file."""
        self._sync_folders()
        for entry in self._entries:
            files = _watched_files(entry.path, entry.playlist)
            current = {f: _stamp(f) for f in files}
            if entry.playlist is not None and current == entry.stamps:
                continue
            if entry.bad_stamps is not None and {f: _stamp(f) for f in entry.bad_stamps} == entry.bad_stamps:
                continue  # the broken version was already reported; wait for the next edit
            try:
                self._reload(entry)
            except ConfigError as exc:
                entry.bad_stamps = current
                keeping = "keeping the last good version" if entry.playlist is not None else "not playing it"
                log.error("playlist %s has errors, %s:\n%s", entry.path, keeping, exc)
                continue
            log.info("playlist %s (re)loaded: %d items", entry.path.name, len(entry.playlist.prompts))

    def next_item(self) -> tuple[Any, Any]:
        """The next (playlist, item) to generate, taking playlists in turn and skipping set-aside items."""
        self.refresh()
        count = len(self._entries)
        for step in range(count):  # taking turns keeps every playlist on the wall
            entry = self._entries[(self._turn + step) % count]
            if entry.playlist is None:
                continue
            for _ in range(len(entry.playlist.prompts)):
                item = entry.cursor.next()
                if id(item) not in entry.set_aside:
                    self._turn = (self._turn + step + 1) % count
                    return entry.playlist, item
        raise NothingToPlay(
            "nothing to play: every playlist item is set aside or no playlist loaded; fix the files and save them"
        )

    def set_aside(self, playlist: Any, item: Any, reason: str) -> None:
        for entry in self._entries:
            if entry.playlist is playlist:
                entry.set_aside[id(item)] = reason
                line = getattr(item, "line", None)
                where = f"{entry.path}:{line}" if line else str(entry.path)
                log.error("%s: item set aside until the file changes: %s", where, reason)
                return

    @property
    def playlists(self) -> list[Any]:
        return [e.playlist for e in self._entries if e.playlist is not None]

    def _reload(self, entry: _Entry) -> None:
        playlist = self._load(entry.path)
        entry.playlist = playlist
        entry.cursor = self._cursor(playlist, self._rng)
        entry.stamps = {f: _stamp(f) for f in _watched_files(entry.path, playlist)}
        entry.set_aside.clear()
        entry.bad_stamps = None
