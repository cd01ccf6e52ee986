"""can_run against the recorded object_info of a real server."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from dreamwindow.comfy.capabilities import can_run


@pytest.fixture(scope="module")
def object_info(traces_dir: Path) -> dict:
    return json.loads(gzip.decompress((traces_dir / "http" / "object_info_full.json.gz").read_bytes()))


@pytest.fixture()
def txt2img(traces_dir: Path) -> dict:
    return json.loads((traces_dir / "ws" / "txt2img.workflow.json").read_text())


def test_recorded_workflows_run_on_the_recorded_server(object_info: dict, txt2img: dict, traces_dir: Path) -> None:
    assert can_run(txt2img, object_info) == []
    single = json.loads((traces_dir / "ws" / "single_prompt.workflow.json").read_text())
    assert can_run(single.get("prompt", single), object_info) == []


def test_missing_checkpoint_names_what_is_available(object_info: dict, txt2img: dict) -> None:
    graph = copy.deepcopy(txt2img)
    loader = next(k for k, n in graph.items() if n["class_type"] == "CheckpointLoaderSimple")
    graph[loader]["inputs"]["ckpt_name"] = "dw_micro_sd15.safetensors"
    [problem] = can_run(graph, object_info)
    assert f"node {loader} (CheckpointLoaderSimple) input ckpt_name" in problem
    assert "'dw_micro_sd15.safetensors' is not available" in problem
    assert "dw_micro_sd15_random.safetensors" in problem and "dw_tiny_sd15_random.safetensors" in problem


def test_unknown_node_class_is_named_with_similar_ones(object_info: dict, txt2img: dict) -> None:
    graph = copy.deepcopy(txt2img)
    graph["99"] = {"class_type": "KSamplerAdvancedd", "inputs": {}}
    [problem] = can_run(graph, object_info)
    assert "node 99: node class 'KSamplerAdvancedd' is not installed" in problem and "KSamplerAdvanced" in problem


def test_newer_combo_spelling_and_links_are_understood() -> None:
    info = {"Loader": {"input": {"required": {"name": ["COMBO", {"options": ["a", "b"]}], "x": ["INT", {}]},
                                 "optional": {"img": ["IMAGE", {}]}}}}
    assert can_run({"1": {"class_type": "Loader", "inputs": {"name": "a", "x": 3, "img": ["2", 0]}}}, info) == []
    [p] = can_run({"1": {"class_type": "Loader", "inputs": {"name": "c"}}}, info)
    assert "'c' is not available; available: 'a', 'b'" in p
