from __future__ import annotations

import os
from pathlib import Path

import pytest

from dreamwindow.app import headless_needed


def test_forced_and_dummy_driver() -> None:
    assert headless_needed(True) == (True, "--headless given")
    assert headless_needed(False)[0] is True  # tests run with SDL_VIDEODRIVER=dummy


@pytest.mark.skipif(Path("/dev/dri").exists(), reason="this machine may have a KMS/DRM console")
def test_no_desktop_and_no_console_means_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    headless, why = headless_needed(False)
    assert headless and why == "no DISPLAY or WAYLAND_DISPLAY and no KMS/DRM console"
    assert "SDL_VIDEODRIVER" not in os.environ  # the probe leaves nothing behind for the renderer
