"""The image store: finished pictures on disk, each with a JSON sidecar, newest N kept.

Writes are atomic (temporary file, fsync, rename) so a power cut behind the TV never leaves a half-written
picture that a later replay would try to show. The picture is renamed into place before its sidecar, and only
pictures with a sidecar count as stored, so a crash between the two renames leaves an orphan that the next
start removes. Every method does blocking file I/O: call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamwindow.errors import DreamWindowError

log = logging.getLogger(__name__)


class StoreError(DreamWindowError):
    """The picture folder cannot be created or written."""

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
# The sequence number leads the name so order survives clock jumps (a Pi without an RTC boots in the past).
_NAME = re.compile(r"^(\d{9})-(\d{8}-\d{6})")


@dataclass(frozen=True)
class StoredImage:
    """A picture in the store. ``key`` is unique and sorts by age."""

    key: str
    path: Path
    sidecar: Path
    meta: dict[str, Any]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sniff_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".png"


class ImageStore:
    def __init__(self, directory: Path, keep: int, *, clock: Any = time.time) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.directory = Path(directory).expanduser()
        self.keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0
        self._skipped: set[str] = set()

    def open(self) -> None:
        """Create the folder and prove it is writable, remove leftovers of an interrupted write, apply retention."""
        self.check_writable()
        for tmp in self.directory.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        for image in self._image_files():
            if not image.with_suffix(".json").exists():
                log.info("removing %s: it has no sidecar (interrupted write)", image.name)
                image.unlink(missing_ok=True)
        existing = self._keys()
        if existing:
            match = _NAME.match(existing[-1])
            self._seq = int(match.group(1)) if match else 0
        self.prune()

    def check_writable(self) -> None:
        """Raise StoreError, in one clear sentence, unless pictures can be written to the folder."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.directory / ".write-test", b"")
            (self.directory / ".write-test").unlink()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StoreError(f"the picture folder {self.directory} (store.dir) is not usable: {reason}") from None

    def quarantine(self, image: StoredImage, reason: str) -> None:
        """Move a picture that cannot be shown out of the rotation, keeping the file for a person to inspect."""
        log.error("%s cannot be shown (%s); renamed to %s.bad and left out of replays", image.path.name, reason,
                  image.path.name)
        for path in (image.path, image.sidecar):
            try:
                os.replace(path, path.with_name(path.name + ".bad"))
            except OSError as exc:
                log.debug("could not rename %s: %s", path, exc)

    def save(self, data: bytes, meta: dict[str, Any]) -> StoredImage:
        """Store one picture and its metadata; returns where it went."""
        now = self._clock()
        with self._lock:
            self._seq += 1
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
            key = f"{self._seq:09d}-{stamp}"
        path = self.directory / f"{key}{_sniff_suffix(data)}"
        sidecar = path.with_suffix(".json")
        record = dict(meta)
        record.setdefault("stored_at", now)
        record["file"] = path.name
        try:
            _write_atomic(path, data)
            _write_atomic(sidecar, json.dumps(record, indent=2, sort_keys=True, default=str).encode())
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            raise StoreError(f"cannot write {path.name} to {self.directory} (store.dir): "
                             f"{exc.strerror or exc}") from None
        self.prune()
        return StoredImage(key=key, path=path, sidecar=sidecar, meta=record)

    def prune(self) -> int:
        """Delete the oldest pictures beyond ``keep``. Returns how many went."""
        images = self._image_files()
        excess = images[: max(0, len(images) - self.keep)]
        for image in excess:
            image.unlink(missing_ok=True)
            image.with_suffix(".json").unlink(missing_ok=True)
        return len(excess)

    def recent(self, limit: int | None = None) -> list[StoredImage]:
        """Stored pictures, newest first."""
        images = list(reversed(self._image_files()))
        if limit is not None:
            images = images[:limit]
        result = []
        for image in images:
            loaded = self._load(image)
            if loaded is not None:
                result.append(loaded)
        return result

    def pick_replay(
        self, rng: random.Random, *, on_screen: str | None = None, recent: set[str] | None = None, window: int = 200
    ) -> StoredImage | None:
        """A stored picture to show again when generation is slower than rotation.

        Picks at random among the newest ``window``, never the one ``on_screen`` (unless it is the only one),
        and preferably none of the ``recent`` keys, so a starved wall still changes.
        """
        # Choose by file name and read only the chosen sidecar: a starved wall asks every rotation.
        candidates = [p for p in reversed(self._image_files()[-window:]) if p.stem != on_screen]
        fresh = [p for p in candidates if p.stem not in (recent or set())]
        for pool in (fresh, candidates):
            while pool:
                choice = pool.pop(rng.randrange(len(pool)))
                loaded = self._load(choice)
                if loaded is not None:
                    return loaded
        return None

    def _skip_once(self, image: Path, why: str) -> None:
        if image.name not in self._skipped:
            self._skipped.add(image.name)
            log.warning("ignoring %s in the store: %s", image.name, why)

    def _image_files(self) -> list[Path]:
        if not self.directory.exists():
            return []
        files = [p for p in self.directory.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES and _NAME.match(p.name)]
        return sorted(files, key=lambda p: p.name)

    def _keys(self) -> list[str]:
        return [p.stem for p in self._image_files()]

    def _load(self, image: Path) -> StoredImage | None:
        sidecar = image.with_suffix(".json")
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, ValueError) as exc:
            self._skip_once(image, f"its sidecar is unreadable ({exc})")
            return None
        if not isinstance(meta, dict):
            self._skip_once(image, "its sidecar is not a JSON object")
            return None
        return StoredImage(key=image.stem, path=image, sidecar=sidecar, meta=meta)
