"""Opt-in: the client, the pool and the daemon against a REAL ComfyUI server, using only model-free nodes.

Run with ``DREAMWINDOW_TEST_COMFYUI_URL=http://127.0.0.1:8188 pytest tests/comfy/test_real_comfyui.py``. The
server needs no models and no GPU: every graph is EmptyImage → ImageBlur(s) → SaveImage, the seed bound to the
colour (``playlists/examples/model-free.yaml``). Written against ComfyUI 0.3.64.

ComfyUI keeps only the previous prompt's outputs in its cache and shares its one queue with everybody, so each
test makes its own colours and waits for its own prompts; nobody else should queue work on the server meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Awaitable

import pytest
from PIL import Image

from dreamwindow.comfy.api import queue_ids
from dreamwindow.comfy.client import ComfyClient
from dreamwindow.comfy.pool import BackendPool
from dreamwindow.config import BackendConfig
from dreamwindow.errors import ExecutionFailed, Interrupted, Rejected
from dreamwindow.playlist import load_playlist
from dreamwindow.workflow import build_job

URL = os.environ.get("DREAMWINDOW_TEST_COMFYUI_URL", "").rstrip("/")
if not URL:
    pytest.skip(
        "no real ComfyUI server: set DREAMWINDOW_TEST_COMFYUI_URL=http://HOST:PORT to run these tests",
        allow_module_level=True,
    )

pytestmark = pytest.mark.comfyui

REPO = Path(__file__).resolve().parents[2]
MODEL_FREE = REPO / "playlists" / "examples" / "model-free.yaml"


# ----- graphs ------------------------------------------------------------------------------------------------
def bound_job(seed: int | None = None) -> Any:
    """The shipped model-free playlist's first item, with the seed (hence the colour) bound by build_job."""
    playlist = load_playlist(MODEL_FREE)
    item = playlist.prompts[0]
    if seed is not None:
        item = item.model_copy(update={"seed": seed})
    return build_job(playlist, item, random.Random())


def rgb_of(color: int) -> tuple[int, int, int]:
    return (color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF


def slow_graph(blurs: int, *, size: int = 512, prefix: str = "dwtest_slow") -> dict[str, Any]:
    """A model-free graph that takes a while on a CPU (about 0.4 s per big blur at 512²); a new colour each time
    so nothing is served from the cache. Interrupts take effect at node boundaries, so several nodes."""
    graph: dict[str, Any] = {
        "1": {"class_type": "EmptyImage",
              "inputs": {"width": size, "height": size, "batch_size": 1, "color": random.randrange(2**24)}},
    }
    prev = "1"
    for i in range(blurs):
        node = str(10 + i)
        graph[node] = {"class_type": "ImageBlur", "inputs": {"image": [prev, 0], "blur_radius": 31, "sigma": 10.0}}
        prev = node
    graph["99"] = {"class_type": "SaveImage", "inputs": {"images": [prev, 0], "filename_prefix": prefix}}
    return graph


def quick_graph(**blur: Any) -> dict[str, Any]:
    return {
        "1": {"class_type": "EmptyImage",
              "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": random.randrange(2**24)}},
        "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 2, "sigma": 1.0, **blur}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "dwtest"}},
    }


# ----- helpers -----------------------------------------------------------------------------------------------
@pytest.fixture()
async def client():
    c = ComfyClient(URL, name="real")
    await c.start()
    yield c
    await c.close()


@pytest.fixture()
async def other_client():
    """Another program using the same server (its own client id): its work must never be touched by ours."""
    c = ComfyClient(URL, name="someone-else")
    await c.start()
    yield c
    await c.close()


class Stages:
    """Events for the stages of jobs ("queued", "started"), fed by ComfyClient.run(on_stage=...)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self._events: dict[tuple[str, str], asyncio.Event] = {}

    def __call__(self, stage: str, prompt_id: str) -> None:
        self.ids.setdefault(stage, prompt_id)
        self._event(stage).set()

    def _event(self, stage: str) -> asyncio.Event:
        return self._events.setdefault((stage, ""), asyncio.Event())

    async def wait(self, stage: str, timeout: float = 20.0) -> str:
        await asyncio.wait_for(self._event(stage).wait(), timeout)
        return self.ids[stage]


async def queue_of(client: ComfyClient) -> tuple[set[str], set[str]]:
    return queue_ids(await client.http.get_json("/queue"))


async def history(client: ComfyClient, prompt_id: str) -> dict[str, Any]:
    return (await client.http.get_json(f"/history/{prompt_id}")).get(prompt_id) or {}


async def finished(task: Awaitable[Any], timeout: float = 60.0) -> Any:
    return await asyncio.wait_for(task, timeout)


# ----- (a) (b) results and the cache -------------------------------------------------------------------------
async def test_run_returns_a_png_of_the_bound_colour(client: ComfyClient) -> None:
    job = bound_job()
    color = job.meta["seed"] % 2**24
    assert job.graph["1"]["inputs"]["color"] == color  # the seed → colour binding of the shipped playlist
    result = await client.run(job.graph, output_nodes=job.output_nodes, deadline=60)
    assert result.server == "real" and not result.cached
    [image] = result.images
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n") and image.type == "output" and image.node_id == "3"
    with Image.open(io.BytesIO(image.data)) as img:
        assert img.size == (job.meta["width"], job.meta["height"])
        pixel = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
    # ComfyUI stores floats and truncates them back to bytes: allow a couple of levels.
    assert all(abs(p - e) <= 2 for p, e in zip(pixel, rgb_of(color))), (pixel, rgb_of(color))
    assert result.timings["finished_at"] >= result.timings["queued_at"]


async def test_identical_graph_comes_back_cached(client: ComfyClient) -> None:
    job = bound_job()
    first = await client.run(job.graph, output_nodes=job.output_nodes, deadline=60)
    again = await client.run(job.graph, output_nodes=job.output_nodes, deadline=60)
    assert not first.cached and again.cached
    assert again.prompt_id != first.prompt_id
    assert again.images[0].filename == first.images[0].filename  # the old file, replayed from the cache
    assert again.images[0].data == first.images[0].data


# ----- (c) (d) rejections and execution errors -------------------------------------------------------------
async def test_bad_input_value_is_rejected_naming_node_class_and_input(client: ComfyClient) -> None:
    with pytest.raises(Rejected) as info:
        await client.run(quick_graph(blur_radius=99), deadline=30)  # max is 31
    exc = info.value
    assert exc.error_type == "prompt_outputs_failed_validation"
    [err] = exc.node_errors
    assert (err.node_id, err.class_type, err.input_name) == ("2", "ImageBlur", "blur_radius")
    assert "bigger than max" in err.message.lower() or "31" in err.details
    assert "node 2 (ImageBlur) input 'blur_radius'" in str(exc)


async def test_unknown_node_class_is_rejected(client: ComfyClient) -> None:
    graph = quick_graph()
    graph["2"]["class_type"] = "NoSuchNode"
    with pytest.raises(Rejected) as info:
        await client.run(graph, deadline=30)
    assert info.value.error_type == "invalid_prompt"
    assert "NoSuchNode" in str(info.value)


async def test_execution_error_names_node_and_type(client: ComfyClient) -> None:
    graph = quick_graph()
    graph["3"]["inputs"]["filename_prefix"] = "../../escape/dw"  # validates, then fails when saving
    with pytest.raises(ExecutionFailed) as info:
        await client.run(graph, output_nodes=["3"], deadline=30)
    exc = info.value
    assert (exc.node_id, exc.node_type) == ("3", "SaveImage")
    assert exc.exception_type  # e.g. "Exception"
    assert "node 3 (SaveImage)" in str(exc)
    # The queue keeps working afterwards.
    assert (await client.run(quick_graph(), deadline=30)).images


# ----- (e) cancelling only our own work --------------------------------------------------------------------
async def test_cancel_our_running_job_leaves_the_other_clients_prompt_alone(
    client: ComfyClient, other_client: ComfyClient
) -> None:
    ours, others = Stages(), Stages()
    mine = asyncio.create_task(client.run(slow_graph(6), deadline=60, on_stage=ours))
    pid = await ours.wait("started")
    theirs = asyncio.create_task(other_client.run(quick_graph(), deadline=60, on_stage=others))
    their_pid = await others.wait("queued")  # one worker, ours running: theirs waits in the queue
    running, pending = await queue_of(client)
    assert pid in running and their_pid in pending

    await client.cancel(pid)
    with pytest.raises(Interrupted):
        await finished(mine)
    result = await finished(theirs)  # their prompt still runs, to the end, with its picture
    assert result.images and not result.cached

    entry = await history(client, pid)  # ours was interrupted by id on the server, not just forgotten here
    assert entry["status"]["completed"] is False
    assert any(kind == "execution_interrupted" for kind, _ in entry["status"]["messages"])
    assert set(entry["outputs"]) == set()


async def test_cancel_our_pending_job_leaves_the_other_clients_running_prompt_alone(
    client: ComfyClient, other_client: ComfyClient
) -> None:
    ours, others = Stages(), Stages()
    theirs = asyncio.create_task(other_client.run(slow_graph(3), deadline=60, on_stage=others))
    their_pid = await others.wait("started")
    mine = asyncio.create_task(client.run(quick_graph(), deadline=60, on_stage=ours))
    pid = await ours.wait("queued")
    running, pending = await queue_of(client)
    assert their_pid in running and pid in pending

    await client.cancel(pid)  # returns once the server has deleted it
    with pytest.raises(Interrupted):
        await finished(mine)
    running, pending = await queue_of(client)
    assert pid not in pending and pid not in running
    result = await finished(theirs)  # not interrupted: runs to the end
    assert result.images and not result.cached
    assert await history(client, pid) == {}  # deleted before it ever ran
    assert await client.queue_remaining() == 0


# ----- (f) the pool ------------------------------------------------------------------------------------------
async def test_pool_runs_on_the_server_and_refuses_what_it_cannot_run() -> None:
    pool = BackendPool([BackendConfig(url=URL, name="real", max_in_flight=2)], request_timeout=10)
    await pool.start()
    try:
        await pool.wait_until_up("real", timeout=30)
        job = bound_job()
        results = await asyncio.gather(*(pool.run(bound_job().graph, output_nodes=job.output_nodes, deadline=60)
                                         for _ in range(3)))
        assert [r.server for r in results] == ["real"] * 3
        assert len({r.prompt_id for r in results}) == 3 and all(r.images for r in results)

        assert pool.can_run(job.graph) == {"real": []}

        unknown = quick_graph()
        unknown["2"]["class_type"] = "ImageBlurr"
        [problem] = pool.can_run(unknown)["real"]
        assert "'ImageBlurr' is not installed" in problem and "ImageBlur" in problem.split("similar")[1]

        ckpt = {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
                **quick_graph()}
        [problem] = pool.can_run(ckpt)["real"]
        assert "ckpt_name" in problem and "'v1-5-pruned-emaonly.safetensors' is not available" in problem
        installed = (await pool.backends[0].client.http.get_json("/object_info/CheckpointLoaderSimple"))[
            "CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
        assert ("available: none" in problem) if not installed else any(name in problem for name in installed)

        with pytest.raises(Rejected) as info:  # refused before anything is sent
            await pool.run(ckpt, deadline=10)
        assert "no server can run this workflow" in str(info.value) and "real:" in str(info.value)
    finally:
        await pool.close()


# ----- (g) the daemon end to end -----------------------------------------------------------------------------
def test_daemon_shows_pictures_from_the_real_server(tmp_path: Path) -> None:
    store, snaps = tmp_path / "store", tmp_path / "snaps"
    config = tmp_path / "real.yaml"
    config.write_text(json.dumps({  # JSON is YAML; no quoting surprises
        "comfyui": {"backends": [{"url": URL, "name": "real-comfyui"}], "timeout": "60s"},
        "display": {"fullscreen": False, "size": [320, 180], "fit": "contain", "transition": {"seconds": 0.3}},
        "rotation": {"every": "2s", "lookahead": 1, "when_starved": "hold"},
        "store": {"dir": str(store), "keep": 50},
        "playlists": [str(MODEL_FREE)],
    }))
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "dreamwindow", "run", "-c", str(config), "--headless", "--duration", "20",
         "--snapshot-dir", str(snaps)],
        env=env, capture_output=True, text=True, timeout=90,
    )
    log = f"exit {proc.returncode} after {time.monotonic() - started:.1f} s\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, log

    shots = sorted(snaps.glob("*.png"))
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in shots}) >= 3, log

    sidecars = sorted(store.glob("*.json"))
    pictures = [s for s in sidecars if any(s.with_suffix(ext).exists() for ext in (".png", ".jpg", ".webp"))]
    assert len(pictures) >= 3, log
    for sidecar in pictures:
        meta = json.loads(sidecar.read_text())
        assert meta["server"] == "real-comfyui"
        assert meta["playlist"] == "model-free"
        with Image.open(sidecar.with_suffix(".png")) as img:
            pixel = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
        assert all(abs(p - e) <= 2 for p, e in zip(pixel, rgb_of(meta["seed"] % 2**24))), (sidecar.name, pixel)
