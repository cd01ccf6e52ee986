"""HTTP answers compared with the recorded real server: POST /prompt cases, /view cases, lookups."""

from __future__ import annotations

import json
import re

import pytest

from engine_helpers import post_prompt, simple

KNOWN = {"EmptyImage", "ImageInvert", "ImageBlur", "ImageScale", "SaveImage", "PreviewImage", "EmptyLatentImage"}


def _classes(req: dict) -> set[str]:
    prompt = (req.get("json") or {}).get("prompt")
    return {n.get("class_type") for n in prompt.values()} - {None} if isinstance(prompt, dict) else set()


def _shape(value):
    """Keys all the way down (values ignored), to compare response shapes."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__ if not isinstance(value, (int, float)) or isinstance(value, bool) else "number"


def _cases(traces_dir):
    return json.loads((traces_dir / "http" / "post_prompt_cases.json").read_text())


async def test_post_prompt_cases_match_trace(engine, session, traces_dir):
    checked = 0
    for case in _cases(traces_dir):
        req = case["request"]
        if _classes(req) - KNOWN - {"NoSuchNodeType"}:
            continue
        if "raw_body" in req:
            async with session.post(engine.url + "/prompt", data=req["raw_body"].encode()) as r:
                status, ctype, text = r.status, r.content_type, await r.text()
        else:
            async with session.post(engine.url + "/prompt", json=req["json"]) as r:
                status, ctype, text = r.status, r.content_type, await r.text()
        assert status == case["status"], case["case"]
        if "text" in case:
            assert (ctype, text) == ("text/plain", case["text"]), case["case"]
            checked += 1
            continue
        body = json.loads(text)
        want = case["json"]
        if status == 200:
            assert set(body) == {"prompt_id", "number", "node_errors"}
            assert set(body["node_errors"]) == set(want["node_errors"]), case["case"]
            if "prompt_id" in req["json"]:
                assert body["prompt_id"] == req["json"]["prompt_id"]
            if "number" in req["json"]:
                assert body["number"] == req["json"]["number"]
            if req["json"].get("front"):
                assert body["number"] < 0
        else:
            assert body["error"]["type"] == want["error"]["type"], case["case"]
            assert body["error"]["message"] == want["error"]["message"]
            assert body["error"]["details"] == want["error"]["details"], case["case"]
            assert set(body["node_errors"]) == set(want["node_errors"]), case["case"]
            for nid, ne in want["node_errors"].items():
                ours = body["node_errors"][nid]
                assert ours["dependent_outputs"] == ne["dependent_outputs"] and ours["class_type"] == ne["class_type"]
                assert [e["type"] for e in ours["errors"]] == [e["type"] for e in ne["errors"]], case["case"]
                for mine, theirs in zip(ours["errors"], ne["errors"]):
                    assert set(mine["extra_info"]) == set(theirs["extra_info"]), case["case"]
                    if theirs["type"] != "exception_during_inner_validation":
                        assert mine["message"] == theirs["message"] and mine["details"] == theirs["details"]
        checked += 1
    assert checked >= 20


async def test_unknown_checkpoint_is_value_not_in_list(engine, session):
    from engine_helpers import txt2img
    graph = txt2img()
    graph["4"]["inputs"]["ckpt_name"] = "v1-5-pruned-emaonly.safetensors"
    status, body = await post_prompt(session, engine, graph)
    assert status == 400 and body["node_errors"]["4"]["errors"][0]["type"] == "value_not_in_list"
    graph = txt2img()
    graph["3"]["inputs"]["steps"] = 0
    status, body = await post_prompt(session, engine, graph)
    assert body["node_errors"]["3"]["errors"][0]["type"] == "value_smaller_than_min"


async def test_view_cases_match_trace(engine, session, connect, traces_dir):
    cases = json.loads((traces_dir / "http" / "view_cases.json").read_text())
    recorded_file = next(v for v in cases.values() if isinstance(v, dict))["filename"]
    ws = await connect("dw-view")
    prefix = re.sub(r"_\d{5}_\.png$", "", recorded_file)
    engine.output_dir.joinpath(f"{prefix}_00001_.png").write_bytes(b"")   # so ours gets the same counter
    _, body = await post_prompt(session, engine, simple(prefix), client_id="dw-view")
    await ws.done(body["prompt_id"])
    assert engine.output_dir.joinpath(recorded_file).is_file()
    (engine.output_dir / "nosuchdir_is_not_here").mkdir()
    for case in next(v for v in cases.values() if isinstance(v, list)):
        req = case["request"]
        async with session.request(req["method"], engine.url + req["path"]) as r:
            data = await r.read()
            assert r.status == case["status"], case["case"]
            if case["status"] == 200:
                assert r.headers["Content-Type"] == case["headers"]["Content-Type"], case["case"]
                assert r.headers["Content-Disposition"] == case["headers"]["Content-Disposition"]
                assert int(r.headers["Content-Length"]) > 0
                assert len(data) == (0 if req["method"] == "HEAD" else int(r.headers["Content-Length"]))
            else:
                assert data == b""


@pytest.mark.parametrize("path, status, body", [
    ("/history/no-such-id", 200, {}), ("/object_info/NoSuchNode", 200, {}), ("/embeddings", 200, []),
    ("/queue", 200, {"queue_running": [], "queue_pending": []}), ("/prompt", 200, {"exec_info": {"queue_remaining": 0}}),
    ("/features", 200, {"supports_preview_metadata": True, "max_upload_size": 104857600}),
    ("/api/history/x", 200, {}),
])
async def test_lookups(engine, session, path, status, body):
    async with session.get(engine.url + path) as r:
        assert r.status == status and await r.json() == body


async def test_models_object_info_system_stats(engine, session, traces_dir):
    async with session.get(engine.url + "/models/checkpoints") as r:
        assert await r.json() == ["dreamwindow-dream.safetensors"]
    async with session.get(engine.url + "/models/bogus") as r:
        assert r.status == 404 and await r.read() == b""
    async with session.get(engine.url + "/no/such/route") as r:
        assert r.status == 404
    async with session.get(engine.url + "/object_info") as r:
        info = await r.json()
    real = json.loads((traces_dir / "http" / "object_info_KSampler.json").read_text())["json"]["KSampler"]
    ours = info["KSampler"]
    assert set(ours) >= {"input", "input_order", "output", "output_is_list", "output_name", "name", "display_name",
                         "description", "python_module", "category", "output_node"}
    assert ours["input_order"] == real["input_order"] and ours["output"] == real["output"]
    for name in ("seed", "steps", "cfg", "denoise"):
        for k in ("min", "max"):
            assert ours["input"]["required"][name][1][k] == real["input"]["required"][name][1][k]
    assert info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == ["dreamwindow-dream.safetensors"]
    async with session.get(engine.url + "/api/system_stats") as r:
        stats = await r.json()
    real_stats = json.loads((traces_dir / "http" / "system_stats.json").read_text())["json"]
    assert set(stats) == set(real_stats) and set(real_stats["system"]) - {"installed_templates_version", "required_templates_version"} <= set(stats["system"])
    assert "dreamwindow" in stats["system"]["comfyui_version"]


async def test_history_ops(engine, session, connect):
    ws = await connect("dw-hops")
    ids = []
    for i in range(3):
        _, body = await post_prompt(session, engine, simple(f"dw_h{i}", color=i), client_id="dw-hops")
        await ws.done(body["prompt_id"])
        ids.append(body["prompt_id"])
    async with session.get(engine.url + "/history?max_items=2") as r:
        assert list(await r.json()) == ids[1:]
    async with session.post(engine.url + "/history", json={"delete": [ids[0]]}) as r:
        assert r.status == 200
    async with session.get(engine.url + f"/history/{ids[0]}") as r:
        assert await r.json() == {}
    async with session.post(engine.url + "/history", json={"clear": True}) as r:
        assert r.status == 200
    async with session.get(engine.url + "/history") as r:
        assert await r.json() == {}
