"""Message sequences over real sockets, compared with the recorded real server."""

from __future__ import annotations

import json
import struct

import aiohttp

from engine_helpers import post_prompt, simple, txt2img, types


def collapse(seq: list[str]) -> list[str]:
    """Consecutive progress_state messages count as one (the server sends one or two between nodes)."""
    out: list[str] = []
    for t in seq:
        if not (t == "progress_state" and out and out[-1] == "progress_state"):
            out.append(t)
    return out


def trace_runs(path) -> list[list[str]]:
    """Type sequences of each prompt in a trace file, from the first status after the POST to executing null."""
    runs, current = [], None
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec["kind"] == "note" and rec.get("what") == "http_post_prompt_sent":
            current = []
        elif current is not None and rec["kind"] in ("text", "binary"):
            msg = rec.get("msg", {})
            current.append("binary" if rec["kind"] == "binary" else msg["type"])
            if msg.get("type") == "executing" and msg["data"].get("node") is None:
                runs.append(current)
                current = None
    return runs


async def test_txt2img_sequence_matches_trace(engine, session, connect, traces_dir):
    expected = trace_runs(traces_dir / "ws" / "txt2img_micro_ckpt.jsonl")
    ws = await connect("dw-seq")
    runs = []
    for seed in (1, 2, 2):        # cold, new seed, identical rerun: the three recorded runs
        status, body = await post_prompt(session, engine, txt2img(seed=seed), client_id="dw-seq")
        assert status == 200 and body["node_errors"] == {}
        runs.append(await ws.done(body["prompt_id"]))
    for ours, theirs in zip(runs, expected):
        assert collapse(types(ours)) == collapse(theirs)
    # Shapes: the keys of every JSON message match the recorded ones.
    recorded = {}
    for line in (traces_dir / "ws" / "txt2img_micro_ckpt.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["kind"] == "text":
            recorded.setdefault(rec["msg"]["type"], set(rec["msg"]["data"]))
    for msg in runs[0]:
        if isinstance(msg, dict) and msg["type"] != "status":
            keys = set(msg["data"])
            if msg["type"] == "executing" and msg["data"]["node"] is None:
                assert keys == {"node", "prompt_id"}
            else:
                assert keys == recorded[msg["type"]], msg["type"]
    previews = [m for m in runs[0] if isinstance(m, bytes)]
    assert len(previews) == 3 and all(struct.unpack(">II", p[:8]) == (1, 1) for p in previews)
    assert previews[0][8:10] == b"\xff\xd8"


async def test_cached_repeat_returns_old_file(engine, session, connect):
    ws = await connect("dw-cache")
    _, first = await post_prompt(session, engine, txt2img(seed=7), client_id="dw-cache")
    run1 = await ws.done(first["prompt_id"])
    _, second = await post_prompt(session, engine, txt2img(seed=7), client_id="dw-cache")
    run2 = await ws.done(second["prompt_id"])
    executed = [m["data"]["output"] for run in (run1, run2) for m in run if isinstance(m, dict) and m["type"] == "executed"]
    assert executed[0] == executed[1]
    cached = next(m for m in run2 if isinstance(m, dict) and m["type"] == "execution_cached")
    assert cached["data"]["nodes"] == ["4", "6", "7", "5", "3", "8", "9"]
    assert "executing" not in types(run2)[:-1] and "binary" not in types(run2)
    assert len(list(engine.output_dir.iterdir())) == 1
    # A new seed re-runs only the sampler and what follows it.
    _, third = await post_prompt(session, engine, txt2img(seed=8), client_id="dw-cache")
    run3 = await ws.done(third["prompt_id"])
    ran = [m["data"]["node"] for m in run3 if isinstance(m, dict) and m["type"] == "executing" and m["data"]["node"]]
    assert ran == ["3", "8", "9"]


async def test_history_after_completion(engine, session, connect):
    ws = await connect("dw-hist")
    _, body = await post_prompt(session, engine, simple(), client_id="dw-hist")
    await ws.done(body["prompt_id"])
    async with session.get(f"{engine.url}/history/{body['prompt_id']}") as r:
        entry = (await r.json())[body["prompt_id"]]
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
    assert [m[0] for m in entry["status"]["messages"]] == ["execution_start", "execution_cached", "execution_success"]
    assert entry["outputs"]["3"]["images"][0]["filename"] == "dw_simple_00001_.png"
    assert entry["prompt"][1] == body["prompt_id"] and entry["prompt"][3] == {"client_id": "dw-hist"}


async def test_feature_flags_type4_before_progress(engine, session, connect):
    ws = await connect("dw-ff", hello=True)
    reply = await ws.next()
    assert reply == {"type": "feature_flags", "data": {"supports_preview_metadata": True, "max_upload_size": 104857600}}
    _, body = await post_prompt(session, engine, txt2img(steps=2), client_id="dw-ff")
    run = await ws.done(body["prompt_id"])
    seq = collapse(types(run))
    assert seq[seq.index("binary") - 1] == "progress_state" and seq[seq.index("binary") + 1] == "progress"
    frame = next(m for m in run if isinstance(m, bytes))
    kind, meta_len = struct.unpack(">II", frame[:8])
    meta = json.loads(frame[8:8 + meta_len])
    assert kind == 4 and meta["prompt_id"] == body["prompt_id"] and meta["node_id"] == "3"
    assert meta["image_type"] == "image/jpeg" and frame[8 + meta_len:8 + meta_len + 2] == b"\xff\xd8"


async def test_save_image_websocket_and_preview_image(engine, session, connect):
    graph = {"1": {"class_type": "EmptyImage", "inputs": {"width": 96, "height": 64, "batch_size": 2, "color": 6157018}},
             "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
             "3": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["2", 0]}},
             "4": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    ws = await connect("dw-siw")
    _, body = await post_prompt(session, engine, graph, client_id="dw-siw")
    run = await ws.done(body["prompt_id"])
    frames = [m for m in run if isinstance(m, bytes)]
    assert len(frames) == 2 and all(struct.unpack(">II", f[:8]) == (1, 2) for f in frames)
    executed = [m["data"] for m in run if isinstance(m, dict) and m["type"] == "executed"]
    assert [e["node"] for e in executed] == ["4"]
    assert [i["type"] for i in executed[0]["output"]["images"]] == ["temp", "temp"]
    progress = [m["data"]["value"] for m in run if isinstance(m, dict) and m["type"] == "progress"]
    assert progress == [0, 1]


async def test_exec_error_then_queue_keeps_working(engine, session, connect):
    ws = await connect("dw-err")
    graph = simple(prefix="../../escape/dw")
    _, body = await post_prompt(session, engine, graph, client_id="dw-err")
    run = await ws.done(body["prompt_id"])
    err = next(m["data"] for m in run if isinstance(m, dict) and m["type"] == "execution_error")
    assert err["node_id"] == "3" and err["node_type"] == "SaveImage" and err["executed"] == ["1", "2"]
    assert set(err) == {"prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type",
                        "traceback", "current_inputs", "current_outputs", "timestamp"}
    assert "outside the output folder" in err["exception_message"]
    assert types(run)[-2:] == ["status", "executing"] and "execution_success" not in types(run)
    async with session.get(f"{engine.url}/history/{body['prompt_id']}") as r:
        entry = (await r.json())[body["prompt_id"]]
    assert entry["status"]["status_str"] == "error" and entry["outputs"] == {}
    _, good = await post_prompt(session, engine, simple(prefix="dw_after"), client_id="dw-err")
    assert "execution_success" in types(await ws.done(good["prompt_id"]))


async def test_interrupt_by_id_and_global(engine, session, connect):
    engine.settings.seconds_per_image = 30.0
    ws = await connect("dw-intr")
    _, first = await post_prompt(session, engine, txt2img(seed=1, steps=50), client_id="dw-intr")
    _, second = await post_prompt(session, engine, txt2img(seed=2, steps=50), client_id="dw-intr")
    await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
    # An interrupt naming another prompt is ignored; the pending one is deleted from the queue.
    async with session.post(engine.url + "/interrupt", json={"prompt_id": second["prompt_id"]}) as r:
        assert r.status == 200
    async with session.post(engine.url + "/interrupt", json={"prompt_id": first["prompt_id"]}) as r:
        assert r.status == 200
    run = await ws.done(first["prompt_id"])
    intr = next(m["data"] for m in run if isinstance(m, dict) and m["type"] == "execution_interrupted")
    assert intr["node_id"] == "3" and intr["node_type"] == "KSampler"
    assert set(intr) == {"prompt_id", "node_id", "node_type", "executed", "timestamp"}
    await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
    async with session.post(engine.url + "/interrupt") as r:       # global, no body
        assert r.status == 200
    assert "execution_interrupted" in types(await ws.done(second["prompt_id"]))
    async with session.get(f"{engine.url}/history/{second['prompt_id']}") as r:
        status = (await r.json())[second["prompt_id"]]["status"]
    assert status["status_str"] == "error" and status["completed"] is False


async def test_queue_delete_and_clear_touch_only_pending(engine, session, connect):
    engine.settings.seconds_per_image = 30.0
    ws = await connect("dw-q")
    ids = []
    for seed in range(3):
        _, body = await post_prompt(session, engine, txt2img(seed=seed, steps=50), client_id="dw-q")
        ids.append(body["prompt_id"])
    await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
    async with session.post(engine.url + "/queue", json={"delete": [ids[1], ids[0], "no-such-id"]}) as r:
        assert r.status == 200
    async with session.get(engine.url + "/queue") as r:
        q = await r.json()
    assert [i[1] for i in q["queue_running"]] == [ids[0]] and [i[1] for i in q["queue_pending"]] == [ids[2]]
    assert len(q["queue_running"][0]) == 5
    async with session.post(engine.url + "/queue", json={"clear": True}) as r:
        assert r.status == 200
    async with session.get(engine.url + "/prompt") as r:
        assert await r.json() == {"exec_info": {"queue_remaining": 1}}
    async with session.post(engine.url + "/queue", data=b"") as r:
        assert r.status == 500


async def test_two_clients_and_no_client_id(engine, session, connect):
    a, b = await connect("dw-A"), await connect("dw-B")
    c = await connect(None)
    sid_c = c.log[0]["data"]["sid"]
    assert len(sid_c) == 32 and int(sid_c, 16) >= 0
    _, pa = await post_prompt(session, engine, simple("dw_two"), client_id="dw-A")
    await a.done(pa["prompt_id"])
    seen_b = await b.until(lambda m: m["type"] == "status" and m["data"]["status"]["exec_info"]["queue_remaining"] == 0)
    assert set(types(seen_b)) == {"status"}
    _, pn = await post_prompt(session, engine, simple("dw_none"))
    seen = await b.until(lambda m: m["type"] == "status" and m["data"]["status"]["exec_info"]["queue_remaining"] == 0)
    assert set(types(seen)) == {"status", "progress_state"}
    _, pc = await post_prompt(session, engine, simple("dw_sid"), client_id=sid_c)
    assert "executed" in types(await c.done(pc["prompt_id"]))


async def test_reconnect_same_client_id_mid_prompt(engine, session, connect):
    engine.settings.seconds_per_image = 30.0
    first = await connect("dw-recon")
    _, body = await post_prompt(session, engine, txt2img(steps=50), client_id="dw-recon")
    await first.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
    await first.ws.close()
    again = await connect("dw-recon")
    assert again.log[0]["data"]["status"]["exec_info"]["queue_remaining"] == 1
    assert await again.next() == {"type": "executing", "data": {"node": "3"}}
    async with session.post(engine.url + "/interrupt", json={"prompt_id": body["prompt_id"]}):
        pass
    assert "execution_interrupted" in types(await again.done(body["prompt_id"]))


async def test_duplicate_client_id_orphans_first_socket(engine, session, connect):
    old = await connect("dw-dup")
    new = await connect("dw-dup")
    _, body = await post_prompt(session, engine, simple("dw_dup"), client_id="dw-dup")
    assert "executed" in types(await new.done(body["prompt_id"]))
    assert not old.ws.closed
    # The old socket heard nothing, not even the status broadcasts.
    await new.ws.close()
    _, body2 = await post_prompt(session, engine, simple("dw_dup2"), client_id="dw-dup")
    for _ in range(100):
        async with session.get(f"{engine.url}/history/{body2['prompt_id']}") as r:
            if await r.json():
                break
        await old.ws.ping()
    try:
        msg = await old.ws.receive(timeout=0.05)
        assert msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
    except TimeoutError:
        pass
