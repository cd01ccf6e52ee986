"""Turning a finished job into a JobResult with image bytes in hand, or the exception that says why not."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from dreamwindow.comfy.api import HistoryResult, select_images
from dreamwindow.comfy.events import ImageRef
from dreamwindow.comfy.jobs import Job, Outcome
from dreamwindow.errors import ExecutionFailed, Interrupted, Lost, OutputUnusable, Unavailable

if TYPE_CHECKING:
    from dreamwindow.comfy.client import ComfyClient


_VERIFY_IN_THREAD = 512 * 1024  # bytes; smaller images verify faster than a thread hop


@dataclass
class ImageResult:
    data: bytes = field(repr=False)
    filename: str
    subfolder: str
    type: str
    node_id: str


@dataclass
class JobResult:
    prompt_id: str
    server: str
    images: list[ImageResult]
    cached: bool  # every wanted output came from the cache: an OLD picture, not a new one
    timings: dict[str, float] = field(default_factory=dict)


def _raise_for(job: Job, server: str, hist: HistoryResult | None = None) -> None:
    """Raise the exception for a job that did not succeed (outcome from the socket, else from history)."""
    outcome = job.outcome if job.outcome is not Outcome.UNKNOWN or hist is None else hist.outcome
    pid = job.prompt_id
    if outcome is Outcome.ERROR:
        if job.error is not None:
            e = job.error
            raise ExecutionFailed(e.message, node_id=e.node_id, node_type=e.node_type,
                                  exception_type=e.exception_type, server=server, prompt_id=pid,
                                  details={"traceback": list(e.traceback)})
        data = (hist.error if hist else None) or {}
        raise ExecutionFailed(str(data.get("exception_message") or "execution failed"),
                              node_id=data.get("node_id"), node_type=data.get("node_type"),
                              exception_type=data.get("exception_type"), server=server, prompt_id=pid)
    if outcome is Outcome.INTERRUPTED:
        node_id = job.interrupted.node_id if job.interrupted else ((hist.interrupted or {}) if hist else {}).get("node_id")
        raise Interrupted(f"interrupted at node {node_id}" if node_id else "interrupted", server=server, prompt_id=pid)
    if outcome is Outcome.CANCELLED:
        raise Interrupted("cancelled", server=server, prompt_id=pid)
    if outcome is Outcome.LOST:
        raise Lost(job.reason or "job lost", server=server, prompt_id=pid)
    if outcome is Outcome.UNAVAILABLE:
        raise Unavailable(job.reason or "server unavailable", server=server, prompt_id=pid)


def _verify(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        img.verify()


async def download(client: ComfyClient, job: Job, node_id: str, ref: ImageRef) -> ImageResult:
    params = {"filename": ref.filename, "subfolder": ref.subfolder, "type": ref.type}
    status, data = await client.http.request("GET", "/view", params=params, raw=True)
    what = f"image {ref.filename!r} of node {node_id}"
    if status != 200 or not data:
        raise OutputUnusable(f"GET /view for {what} answered {status}", node_id=node_id,
                              server=client.name, prompt_id=job.prompt_id)
    try:
        if len(data) > _VERIFY_IN_THREAD:
            await asyncio.to_thread(_verify, data)
        else:
            _verify(data)
    except Exception as exc:  # Pillow raises many types for bad data
        raise OutputUnusable(f"{what} is not a decodable image ({type(exc).__name__})", node_id=node_id,
                              exception_type=type(exc).__name__, server=client.name,
                              prompt_id=job.prompt_id) from exc
    return ImageResult(data, ref.filename, ref.subfolder, ref.type, node_id)


def prefetch_key(node_id: str, ref: ImageRef) -> tuple[str, str, str, str]:
    return (node_id, ref.filename, ref.subfolder, ref.type)


async def _fetch(client: ComfyClient, job: Job, node_id: str, ref: ImageRef) -> ImageResult:
    """The image history names: the download started at `executed` if it is the same file, else a new one.
    A failed early download fails the job like any other (the generator then retries with a new seed)."""
    task = job.prefetched.pop(prefetch_key(node_id, ref), None)
    return await (task if task is not None else download(client, job, node_id, ref))


async def collect(client: ComfyClient, job: Job, started: float) -> JobResult:
    server = client.name
    _raise_for(job, server)
    hist = job.history or await client.read_history(job)
    _raise_for(job, server, hist)
    outputs = hist.outputs or job.outputs
    job.outputs = dict(outputs)
    job.cached_nodes |= hist.cached_nodes
    wanted = select_images(outputs, job.output_nodes)
    if not wanted:
        nodes = ", ".join(sorted(job.output_nodes)) if job.output_nodes else "any node"
        raise OutputUnusable(f"finished without an image from {nodes}", server=server, prompt_id=job.prompt_id)
    images = list(await asyncio.gather(*(_fetch(client, job, n, ref) for n, ref in wanted)))
    now = time.time()
    timings = {"queued_at": job.queued_at, "started_at": job.started_at or job.queued_at,
               "finished_at": job.finished_at or now, "seconds": time.monotonic() - started}
    return JobResult(job.prompt_id, server, images, job.cached, timings)
