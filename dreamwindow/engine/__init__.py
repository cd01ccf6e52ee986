"""DreamWindow's built-in dream engine: a ComfyUI-compatible server that paints without a GPU.

See :mod:`dreamwindow.engine.server` for the API and :mod:`dreamwindow.engine.faults` for fault injection.
"""

from dreamwindow.engine.constants import ENGINE_CHECKPOINT, ENGINE_VERSION

__all__ = ["ENGINE_CHECKPOINT", "ENGINE_VERSION"]
