"""ComfyUI client and backend pool.

``ComfyClient`` talks to one server over one long-lived WebSocket plus HTTP; ``BackendPool`` spreads jobs over
several. Both raise the exceptions of ``dreamwindow.errors``; their class is the retry policy.
"""

from dreamwindow.comfy.client import ComfyClient, Tuning
from dreamwindow.comfy.connection import ConnectionState
from dreamwindow.comfy.results import ImageResult, JobResult

__all__ = ["ComfyClient", "ConnectionState", "ImageResult", "JobResult", "Tuning"]
