"""DreamWindow's built-in dream engine: a ComfyUI-compatible server that paints without a GPU.

``DreamEngine`` (server.py) is the server, ``EngineSettings`` its knobs, ``Faults`` (faults.py, documented
there) the fault injection, ``run_engine_cli`` the ``dreamwindow engine`` command and ``EngineThread`` a
background-thread runner.
"""

from dreamwindow.engine.constants import ENGINE_CHECKPOINT, ENGINE_VERSION
from dreamwindow.engine.faults import Faults
from dreamwindow.engine.state import EngineSettings
from dreamwindow.engine.server import DreamEngine
from dreamwindow.engine.runner import EngineThread, run_engine_cli

__all__ = ["ENGINE_CHECKPOINT", "ENGINE_VERSION", "DreamEngine", "EngineSettings", "EngineThread", "Faults",
           "run_engine_cli"]
