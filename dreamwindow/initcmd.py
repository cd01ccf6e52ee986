"""`dreamwindow init`: a first config and playlists in the user's config folder, ready to edit."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from dreamwindow.errors import DreamWindowError

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = Path("~/.config/dreamwindow")


def init_config(target: Path | None = None, *, source_root: Path = SOURCE_ROOT) -> list[Path]:
    """Copy the example config and the shipped playlists into ``target``. Never overwrites a file."""
    target = (target or DEFAULT_DIR).expanduser()
    example = source_root / "config" / "dreamwindow.yaml"
    playlists = source_root / "playlists"
    if not example.is_file():
        raise DreamWindowError(f"the example config {example} is missing: run this from a DreamWindow checkout")
    config_path = target / "dreamwindow.yaml"
    if config_path.exists():
        raise DreamWindowError(f"{config_path} already exists; not overwriting it")
    written: list[Path] = []
    (target / "playlists").mkdir(parents=True, exist_ok=True)
    for source in sorted(playlists.glob("*.yaml")):
        dest = target / "playlists" / source.name
        if dest.exists():
            log.info("keeping existing %s", dest)
            continue
        shutil.copyfile(source, dest)
        written.append(dest)
    # In the checkout the config sits in config/ beside playlists/; in the copy, playlists/ sits beside it.
    config_path.write_text(example.read_text().replace("../playlists/", "playlists/"))
    written.insert(0, config_path)
    return written
