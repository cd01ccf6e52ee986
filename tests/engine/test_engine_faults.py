"""Fault injection: each knob makes the engine misbehave the way the README of faults.py promises."""

from __future__ import annotations

import aiohttp
import pytest

from engine_helpers import post_prompt, simple, txt2img, types


async def test_prompt_http_errors_and_rejections(engine, session):
    engine.faults.prompt_http_errors = [500, 503]
    async with session.post(engine.url + "/prompt", json={"prompt": simple()}) as r:
        assert r.status == 500 and "Server got itself in trouble" in await r.text()
    status, _ = await post_prompt(session, engine, simple())
    assert status == 503
    engine.faults.reject_prompts = 1
    status, body = await post_prompt(session, engine, simple())
    assert status == 400 and body["error"]["type"] == "prompt_outputs_failed_validation" and body["node_errors"]
    status, _ = await post_prompt(session, engine, simple())
    assert status == 200


async def test_execution_error_fault(engine, session, connect):
    ws = await connect("dw-f")
    engine.faults.execution_errors = 1
    _, body = await post_prompt(session, engine, txt2img(), client_id="dw-f")
    run = await ws.done(body["prompt_id"])
    err = next(m["data"] for m in run if isinstance(m, dict) and m["type"] == "execution_error")
    assert err["node_type"] == "KSampler" and err["exception_type"] == "RuntimeError"
    _, body = await post_prompt(session, engine, txt2img(seed=5), client_id="dw-f")
    assert "execution_success" in types(await ws.done(body["prompt_id"]))


async def test_drop_websockets_before_a_message(engine, session, connect):
    ws = await connect("dw-drop")
    engine.faults.drop_ws_before = "execution_start"
    _, body = await post_prompt(session, engine, simple(), client_id="dw-drop")
    end = await ws.until(lambda m: isinstance(m, tuple), timeout=5)
    assert end[-1][1] in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR) and ws.ws.close_code == 1006
    # The prompt still ran to the end: history has it.
    again = await connect("dw-drop")
    for _ in range(200):
        async with session.get(f"{engine.url}/history/{body['prompt_id']}") as r:
            if await r.json():
                break
        await again.ws.ping()
    else:
        pytest.fail("prompt did not finish after the socket drop")


async def test_silent_socket(engine, session, connect):
    ws = await connect("dw-silent")
    engine.faults.ws_silent = True
    _, body = await post_prompt(session, engine, simple(), client_id="dw-silent")
    for _ in range(200):
        async with session.get(f"{engine.url}/history/{body['prompt_id']}") as r:
            if await r.json():
                break
    assert not ws.ws.closed
    with pytest.raises(TimeoutError):
        await ws.ws.receive(timeout=0.1)


async def test_restart_loses_history_queue_and_running_prompt(engine, session, connect):
    engine.settings.seconds_per_image = 30.0
    ws = await connect("dw-rs")
    _, done = await post_prompt(session, engine, simple(), client_id="dw-rs")
    await ws.done(done["prompt_id"])
    _, running = await post_prompt(session, engine, txt2img(steps=50), client_id="dw-rs")
    await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
    port = engine.port
    await engine.restart()
    assert engine.port == port
    await ws.until(lambda m: isinstance(m, tuple))
    assert ws.ws.close_code == 1006
    async with aiohttp.ClientSession() as fresh:
        for path in ("/history", f"/history/{running['prompt_id']}"):
            async with fresh.get(engine.url + path) as r:
                assert await r.json() == {}
        async with fresh.get(engine.url + "/queue") as r:
            assert await r.json() == {"queue_running": [], "queue_pending": []}


async def test_restart_before_message_over_http(engine, session, connect):
    ws = await connect("dw-rs2")
    async with session.post(engine.url + "/dreamwindow/faults", json={"restart_before": "executed"}) as r:
        assert r.status == 200 and (await r.json())["restart_before"] == "executed"
    _, body = await post_prompt(session, engine, simple(), client_id="dw-rs2")
    await ws.until(lambda m: isinstance(m, tuple))
    await engine.settle()
    async with aiohttp.ClientSession() as fresh:
        async with fresh.get(f"{engine.url}/history/{body['prompt_id']}") as r:
            assert await r.json() == {}
    async with aiohttp.ClientSession() as fresh:
        async with fresh.post(engine.url + "/dreamwindow/faults", json={"bogus": 1}) as r:
            assert r.status == 400


async def test_stop_and_refuse(engine, session, connect):
    await engine.stop_listening()
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectionError):
            await fresh.get(engine.url + "/queue")
    await engine.resume_listening()
    ws = await connect("dw-stop")
    await engine.stop()
    await ws.until(lambda m: isinstance(m, tuple))
    assert ws.ws.close_code == 1006
    await engine.restart()              # the fixture stops it again


async def test_view_faults_and_delay(engine, session, connect):
    ws = await connect("dw-v")
    _, body = await post_prompt(session, engine, simple("dw_v"), client_id="dw-v")
    await ws.done(body["prompt_id"])
    params = {"filename": "dw_v_00001_.png", "type": "output", "subfolder": ""}
    engine.faults.view_not_found = 1
    async with session.get(engine.url + "/view", params=params) as r:
        assert r.status == 404
    engine.faults.view_corrupt = 1
    async with session.get(engine.url + "/view", params=params) as r:
        bad = await r.read()
    async with session.get(engine.url + "/view", params=params) as r:
        good = await r.read()
    assert bad[:8] == good[:8] == b"\x89PNG\r\n\x1a\n" and bad != good
    engine.faults.delays = {"/view": 5.0}
    with pytest.raises(TimeoutError):
        async with session.get(engine.url + "/view", params=params, timeout=aiohttp.ClientTimeout(total=0.2)):
            pass


async def test_large_previews(engine, session, connect):
    engine.faults.large_previews = True
    ws = await connect("dw-large")
    _, body = await post_prompt(session, engine, txt2img(steps=1, size=(768, 512)), client_id="dw-large")
    frames = [m for m in await ws.done(body["prompt_id"]) if isinstance(m, bytes)]
    assert frames and frames[0][4:8] == b"\x00\x00\x00\x02" and len(frames[0]) > 200_000
