"""ComfyClient against the built-in engine over real sockets, including every failure the engine can inject."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import aiohttp
import pytest
from PIL import Image

from comfy_engine_helpers import fast_tuning, start_engine, txt2img
from dreamwindow.comfy.api import queue_ids
from dreamwindow.comfy.client import ComfyClient
from dreamwindow.comfy.connection import ConnectionState
from dreamwindow.errors import (
    ExecutionFailed,
    Interrupted,
    Lost,
    OutputUnusable,
    Rejected,
    Timeout,
    Unavailable,
)


@pytest.fixture()
async def engine():
    eng = await start_engine(0.0)
    yield eng
    await eng.stop()


@pytest.fixture()
async def slow_engine():
    eng = await start_engine(0.6)
    yield eng
    await eng.stop()


async def connect(engine) -> ComfyClient:
    client = ComfyClient(engine.url, name="eng", request_timeout=5.0, tuning=fast_tuning())
    await client.start()
    return client


@pytest.fixture()
async def client(engine):
    c = await connect(engine)
    yield c
    await c.close()


async def test_run_returns_decodable_image_bytes(client: ComfyClient) -> None:
    result = await client.run(txt2img(), output_nodes=["9"], deadline=10)
    [image] = result.images
    assert image.node_id == "9" and image.type == "output" and image.filename.endswith(".png")
    with Image.open(io.BytesIO(image.data)) as img:
        assert img.size == (64, 64)
    assert result.cached is False and result.server == "eng"
    assert result.timings["seconds"] > 0 and result.timings["finished_at"] >= result.timings["queued_at"]


async def test_each_output_is_downloaded_once_from_its_executed_message(engine) -> None:
    views: list[str] = []
    asked_at: list[float] = []

    async def on_request(_session, _ctx, params: aiohttp.TraceRequestStartParams) -> None:
        if params.url.path.endswith("/view"):
            views.append(params.url.query["filename"])
            asked_at.append(time.time())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = ComfyClient(engine.url, name="eng", request_timeout=5.0, tuning=fast_tuning(), session=session)
        await client.start()
        engine.faults.history_delay = 0.3  # a clear gap between `executed` and the prompt's completion
        try:
            results = [await client.run(txt2img(), output_nodes=["9"], deadline=10) for _ in range(3)]
        finally:
            await client.close()
    # The download starts when `executed` names the file, before completion; history (read after completion)
    # confirms it and no second download happens.
    assert views == [r.images[0].filename for r in results]
    assert len(set(views)) == 3
    assert all(t < r.timings["finished_at"] for t, r in zip(asked_at, results))


async def test_prompt_queued_after_we_gave_up_on_its_post_is_taken_back(slow_engine) -> None:
    slow_engine.faults.prompt_answer_delay = 1.5  # queued at once, answered late
    mine = ComfyClient(slow_engine.url, name="mine", request_timeout=0.3, tuning=fast_tuning())
    theirs = await connect(slow_engine)
    await mine.start()
    try:
        task = asyncio.create_task(mine.run(txt2img(steps=4), deadline=10))
        while not mine.tracker.jobs:  # registered before the POST is sent; a scheduling yield, not a wait
            await asyncio.sleep(0)
        [pid] = mine.tracker.jobs
        with pytest.raises(Unavailable) as info:
            await task
        assert info.value.prompt_id == pid
        slow_engine.faults.prompt_answer_delay = 0.0
        # FIFO: when their prompt, queued after ours, is done, ours has had its turn.
        assert (await theirs.run(txt2img(steps=2), deadline=20)).images
        entry = (await theirs.http.get_json(f"/history/{pid}")).get(pid)
        # Deleted while pending, or interrupted by id: never run to success on a server we had left.
        assert entry is None or entry["status"]["completed"] is False, entry
    finally:
        await mine.close()
        await theirs.close()


async def test_stages_are_reported_in_order(client: ComfyClient) -> None:
    stages: list[tuple[str, str]] = []
    result = await client.run(txt2img(), output_nodes=["9"], deadline=10, on_stage=lambda *s: stages.append(s))
    assert stages == [("queued", result.prompt_id), ("started", result.prompt_id)]


async def test_identical_graph_comes_back_cached(client: ComfyClient) -> None:
    graph = txt2img(seed=1234)
    first = await client.run(graph, output_nodes=["9"], deadline=10)
    again = await client.run(graph, output_nodes=["9"], deadline=10)
    assert not first.cached and again.cached
    assert again.images[0].filename == first.images[0].filename  # the OLD file: not a new picture


async def test_previews_reach_the_callback_with_our_prompt_id(slow_engine) -> None:
    client = await connect(slow_engine)
    seen: list[tuple[int, str]] = []
    try:
        result = await client.run(txt2img(steps=3), output_nodes=["9"], deadline=10,
                                  on_preview=lambda data, pid: seen.append((len(data), pid)))
    finally:
        await client.close()
    assert seen and all(pid == result.prompt_id and n > 0 for n, pid in seen)


async def test_runs_without_output_nodes_pick_saved_images(client: ComfyClient) -> None:
    result = await client.run(txt2img(), deadline=10)
    assert [i.node_id for i in result.images] == ["9"]


async def test_invalid_graph_is_rejected_with_node_errors(client: ComfyClient) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["width"] = -5
    with pytest.raises(Rejected) as info:
        await client.run(graph, output_nodes=["9"], deadline=10)
    [err] = info.value.node_errors
    assert (err.node_id, err.class_type, err.input_name) == ("5", "EmptyLatentImage", "width")
    graph = txt2img()
    graph["3"]["class_type"] = "NoSuchSampler"
    with pytest.raises(Rejected, match="NoSuchSampler"):
        await client.run(graph, deadline=10)


async def test_injected_rejection(engine, client: ComfyClient) -> None:
    engine.faults.reject_prompts = 1
    with pytest.raises(Rejected) as info:
        await client.run(txt2img(), output_nodes=["9"], deadline=10)
    assert info.value.node_errors and info.value.node_errors[0].message
    assert (await client.run(txt2img(), output_nodes=["9"], deadline=10)).images


async def test_5xx_is_unavailable(engine, client: ComfyClient) -> None:
    engine.faults.prompt_http_errors = [500, 503]
    for _ in range(2):
        with pytest.raises(Unavailable) as info:
            await client.run(txt2img(), deadline=10)
        assert not isinstance(info.value, Lost)
    assert (await client.run(txt2img(), deadline=10)).images


async def test_execution_error_names_node_type_and_message(engine, client: ComfyClient) -> None:
    engine.faults.execution_errors = 1
    engine.faults.error_at = "VAEDecode"
    with pytest.raises(ExecutionFailed) as info:
        await client.run(txt2img(), output_nodes=["9"], deadline=10)
    err = info.value
    assert (err.node_id, err.node_type, err.exception_type) == ("8", "VAEDecode", "RuntimeError")
    assert not isinstance(err, OutputUnusable)


@pytest.mark.parametrize("knob", ["view_not_found", "view_corrupt"])
async def test_view_failure_or_corrupt_image_is_output_unusable(engine, client: ComfyClient, knob: str) -> None:
    setattr(engine.faults, knob, 1)
    with pytest.raises(OutputUnusable):
        await client.run(txt2img(), output_nodes=["9"], deadline=10)


async def test_history_lagging_behind_completion_is_retried(engine, client: ComfyClient) -> None:
    engine.faults.history_delay = 0.1
    result = await client.run(txt2img(), output_nodes=["9"], deadline=10)
    assert result.images


async def test_large_frames_do_not_close_the_socket(engine) -> None:
    engine.faults.large_previews = True
    client = await connect(engine)
    got: list[int] = []
    try:
        await client.run(txt2img(steps=2, size=1024), output_nodes=["9"], deadline=20, on_preview=lambda d, p: got.append(len(d)))
        assert client.state is ConnectionState.CONNECTED and client._conn.connects == 1
    finally:
        await client.close()


@pytest.mark.parametrize("before", ["execution_start", "executing", "executed", "execution_success"])
async def test_socket_drop_reconnects_and_catches_up(engine, client: ComfyClient, before: str) -> None:
    engine.faults.drop_ws_before = before
    result = await client.run(txt2img(), output_nodes=["9"], deadline=10)
    assert result.images and client._conn.connects == 2


async def test_restart_mid_job_is_lost(engine, client: ComfyClient) -> None:
    engine.faults.restart_before = "executing"
    with pytest.raises(Lost):
        await client.run(txt2img(), output_nodes=["9"], deadline=10)
    assert (await client.run(txt2img(), output_nodes=["9"], deadline=10)).images  # and it recovers


async def test_silent_socket_falls_back_to_polling(engine, client: ComfyClient) -> None:
    engine.faults.ws_silent = True
    result = await client.run(txt2img(), output_nodes=["9"], deadline=10)
    assert result.images


async def test_server_stop_fails_jobs_unavailable(slow_engine) -> None:
    client = await connect(slow_engine)
    started = asyncio.Event()
    try:
        task = asyncio.create_task(client.run(txt2img(steps=4), deadline=10, on_preview=lambda d, p: started.set()))
        await asyncio.wait_for(started.wait(), 5)
        await slow_engine.stop()
        with pytest.raises(Unavailable):
            await task
        with pytest.raises(Unavailable):
            await client.run(txt2img(), deadline=1)  # not connected: fails fast, no hang
    finally:
        await client.close()


async def test_deadline_times_out_and_removes_our_job(slow_engine) -> None:
    client = await connect(slow_engine)
    try:
        with pytest.raises(Timeout):
            await client.run(txt2img(steps=4), deadline=0.2)
        # The job was interrupted on the server: a queued job behind it finishes quickly.
        result = await client.run(txt2img(steps=1), deadline=5)
        assert result.images
    finally:
        await client.close()


async def test_cancel_interrupts_our_running_job_by_id(slow_engine) -> None:
    mine, theirs = await connect(slow_engine), await connect(slow_engine)
    running = asyncio.Event()
    ids: list[str] = []

    def first_preview(data: bytes, prompt_id: str) -> None:
        ids.append(prompt_id)
        running.set()

    try:
        my_task = asyncio.create_task(mine.run(txt2img(steps=4), deadline=10, on_preview=first_preview))
        await asyncio.wait_for(running.wait(), 5)
        their_task = asyncio.create_task(theirs.run(txt2img(steps=2), deadline=10))  # queued behind ours
        await mine.cancel(ids[0])
        with pytest.raises(Interrupted):
            await my_task
        assert (await their_task).images  # the next prompt, someone else's, runs normally
        await mine.cancel("not-ours")  # ids we do not own are never sent anywhere
    finally:
        await mine.close()
        await theirs.close()


async def test_cancel_while_the_post_is_on_its_way_takes_the_prompt_back(slow_engine) -> None:
    slow_engine.faults.delays = {"/prompt": 0.2}  # the server queues the prompt only after this
    mine, theirs = await connect(slow_engine), await connect(slow_engine)
    try:
        my_task = asyncio.create_task(mine.run(txt2img(steps=3), deadline=10))
        while not mine.tracker.jobs:  # registered before the POST is sent; a scheduling yield, not a wait
            await asyncio.sleep(0)
        [pid] = mine.tracker.jobs
        await mine.cancel(pid)  # the POST has not been answered: nothing on the server to delete yet
        with pytest.raises(Interrupted):
            await my_task
        slow_engine.faults.delays = {}
        assert (await theirs.run(txt2img(steps=2), deadline=10)).images  # runs after ours ended
        entry = (await mine.http.get_json(f"/history/{pid}")).get(pid)
        # Taken back once queued: interrupted by id (or deleted while pending), never run to success.
        assert entry is None or entry["status"]["status_str"] != "success"
    finally:
        await mine.close()
        await theirs.close()


async def test_timeout_while_pending_deletes_only_our_job(slow_engine) -> None:
    mine, theirs = await connect(slow_engine), await connect(slow_engine)
    try:
        their_task = asyncio.create_task(theirs.run(txt2img(steps=3), deadline=10))
        with pytest.raises(Timeout):
            await mine.run(txt2img(steps=3), deadline=0.15)  # pending behind theirs the whole time
        assert (await their_task).images
    finally:
        await mine.close()
        await theirs.close()


async def test_start_against_nothing_is_unavailable() -> None:
    client = ComfyClient("http://127.0.0.1:9", tuning=fast_tuning())
    try:
        with pytest.raises(Unavailable):
            await client.start()
    finally:
        await client.close()


async def test_repeated_failures_log_once_then_recover(engine, client: ComfyClient, caplog) -> None:
    engine.faults.prompt_http_errors = [500, 500, 500]
    with caplog.at_level(logging.DEBUG, logger="dreamwindow.comfy.client"):
        for _ in range(3):
            with pytest.raises(Unavailable):
                await client.run(txt2img(), deadline=5)
        await client.run(txt2img(), deadline=5)
    levels = [r.levelname for r in caplog.records if r.name == "dreamwindow.comfy.client"]
    assert levels.count("WARNING") == 1 and levels[-1] == "INFO"
