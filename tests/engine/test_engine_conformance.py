"""Differences from a real ComfyUI 0.3.64 found by sending the same requests to both, each pinned here.

Every expected value below was observed on the real server (CPU, model-free graphs).
"""

from __future__ import annotations

from engine_helpers import post_prompt, simple


def blurred(prefix: str = "dw_conf", color: int = 0x336699) -> dict:
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": color}},
        "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 2, "sigma": 1.0}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


async def test_broken_inner_link_is_reported_with_the_linking_nodes_input(engine, session):
    # Node 2's own link points nowhere. The real server records the error on node 2, but with the input name,
    # input config and link of the node that links TO node 2 (SaveImage's "images"), and a 2-frame traceback.
    graph = blurred()
    graph["2"]["inputs"]["image"] = ["42", 0]
    status, body = await post_prompt(session, engine, graph)
    assert status == 400 and body["error"]["type"] == "prompt_outputs_failed_validation"
    [err] = body["node_errors"]["2"]["errors"]
    assert body["node_errors"]["2"]["class_type"] == "ImageBlur"
    assert err["type"] == "exception_during_inner_validation" and err["details"] == "'42'"
    extra = err["extra_info"]
    assert extra["input_name"] == "images"
    assert extra["input_config"][0] == "IMAGE" and "tooltip" in extra["input_config"][1]
    assert extra["linked_node"] == ["2", 0]
    assert extra["exception_type"] == "KeyError" and len(extra["traceback"]) == 2


async def test_bad_output_slot_says_tuple_index(engine, session):
    graph = blurred()
    graph["2"]["inputs"]["image"] = ["1", 5]
    status, body = await post_prompt(session, engine, graph)
    [err] = body["node_errors"]["2"]["errors"]
    assert status == 400 and err["details"] == "tuple index out of range"
    assert err["extra_info"]["exception_type"] == "IndexError"


async def test_broken_link_of_an_output_node_is_exception_during_validation(engine, session):
    graph = blurred()
    graph["3"]["inputs"]["images"] = ["42", 0]
    status, body = await post_prompt(session, engine, graph)
    [err] = body["node_errors"]["3"]["errors"]
    assert status == 400 and err["type"] == "exception_during_validation"
    assert set(err["extra_info"]) == {"exception_type", "traceback"} and len(err["extra_info"]["traceback"]) == 2


async def test_cached_output_progress_state_uses_ints(engine, session, connect):
    ws = await connect()
    graph = simple(prefix="dw_conf_cache")
    for run in range(2):
        status, body = await post_prompt(session, engine, graph, client_id="dw-test")
        msgs = await ws.done(body["prompt_id"])
    states = [m["data"]["nodes"] for m in msgs if isinstance(m, dict) and m["type"] == "progress_state"]
    [cached] = states  # the identical rerun: one progress_state, for the replayed output node
    node = cached["3"]
    assert (node["value"], node["max"], node["state"]) == (1, 1, "finished")
    assert type(node["value"]) is int and type(node["max"]) is int


async def test_execution_error_lists_every_current_input(engine, session, connect):
    ws = await connect()
    graph = blurred()
    graph["3"]["inputs"]["filename_prefix"] = "../../escape/dw"  # validates, then fails while saving
    status, body = await post_prompt(session, engine, graph, client_id="dw-test")
    msgs = await ws.done(body["prompt_id"])
    [error] = [m["data"] for m in msgs if isinstance(m, dict) and m["type"] == "execution_error"]
    current = error["current_inputs"]
    assert set(current) == {"images", "filename_prefix", "prompt", "extra_pnginfo"}
    assert current["filename_prefix"] == ["../../escape/dw"]
    assert isinstance(current["images"][0], str)  # a linked value, as text
    assert "'class_type': 'EmptyImage'" in current["prompt"][0]
    assert current["extra_pnginfo"] == [None]


async def test_every_sampler_of_the_real_server_is_accepted(engine, session):
    async with session.get(engine.url + "/object_info/KSampler") as r:
        samplers = (await r.json())["KSampler"]["input"]["required"]["sampler_name"][0]
    for name in ("dpmpp_2m_sde_gpu", "dpmpp_3m_sde_gpu", "res_multistep_ancestral", "er_sde", "sa_solver_pece",
                 "gradient_estimation", "seeds_3", "ipndm_v"):
        assert name in samplers
    assert len(samplers) == 42


async def test_image_blur_object_info_has_the_newer_node_keys(engine, session):
    async with session.get(engine.url + "/object_info/ImageBlur") as r:
        info = (await r.json())["ImageBlur"]
    assert info["display_name"] is None
    assert info["output_tooltips"] == [None]
    assert (info["deprecated"], info["experimental"], info["api_node"]) == (False, False, False)
