"""Workflows: the built-in graph and its bindings, user API-format files bound by id and title, refusals."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dreamwindow.config import load_playlist
from dreamwindow.errors import ConfigError
from dreamwindow.workflow import UI_FORMAT_HELP, Binding, build_job, default_graph, load_workflow

MODEL_FREE = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 512, "height": 512, "batch_size": 1, "color": 0},
          "_meta": {"title": "Canvas"}},
    "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 3, "sigma": 1.0},
          "_meta": {"title": "Blur"}},
    "3": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["2", 0]}},
    "4": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
}


@pytest.fixture
def flow(write) -> Path:
    return write("flow.json", json.dumps(MODEL_FREE))


def test_default_graph_bindings_land_in_the_right_nodes(write) -> None:
    path = write("p.yaml", """
        checkpoint: sd15.safetensors
        negative: blurry {a|a}
        sampler: dpmpp_2m
        scheduler: karras
        prompts:
          - text: a {misty|misty} forest
            steps: 33
            cfg: 5.5
            size: 640x384
            seed: 1234
    """)
    playlist = load_playlist(path)
    job = build_job(playlist, playlist.prompts[0], random.Random(0))
    graph = job.graph
    assert graph["4"]["inputs"]["ckpt_name"] == "sd15.safetensors"
    assert graph["6"]["inputs"]["text"] == "a misty forest"
    assert graph["7"]["inputs"]["text"] == "blurry a"
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (640, 384)
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (1234, 33, 5.5)
    assert (sampler["sampler_name"], sampler["scheduler"]) == ("dpmpp_2m", "karras")
    assert graph["9"]["inputs"]["filename_prefix"] == "DreamWindow"
    assert job.output_nodes == ["9"]
    assert job.meta == {"prompt": "a misty forest", "negative": "blurry a", "seed": 1234, "width": 640,
                        "height": 384, "steps": 33, "cfg": 5.5, "checkpoint": "sd15.safetensors",
                        "playlist": "p", "workflow": "default", "line": 6}
    assert default_graph()["6"]["inputs"]["text"] == ""  # the shipped graph is never modified


def test_random_seed_per_job_and_config_checkpoint(write) -> None:
    playlist = load_playlist(write("p.yaml", "prompts: [x]\n"))
    rng = random.Random(5)
    jobs = [build_job(playlist, playlist.prompts[0], rng, default_checkpoint="c.ckpt") for _ in range(20)]
    seeds = {job.meta["seed"] for job in jobs}
    assert len(seeds) == 20 and all(0 <= s < 2**32 for s in seeds)
    assert all(job.graph["4"]["inputs"]["ckpt_name"] == "c.ckpt" for job in jobs)
    with pytest.raises(ConfigError, match="no checkpoint"):
        build_job(playlist, playlist.prompts[0], rng)


def test_user_workflow_bound_by_id_title_and_class(write, flow: Path) -> None:
    path = write("p.yaml", """
        workflow: flow.json
        bindings:
          seed: {to: "Canvas.color", modulo: 16777216}
          width: "1.width"
          height: {node: Canvas, input: height}
          blur: ["Blur.blur_radius", {node: ImageBlur, input: sigma}]
        values: {blur: 4}
        width: 300
        height: 200
        prompts:
          - text: one
            seed: 4294967295
          - text: two
            seed: 5
            values: {blur: 2}
    """)
    playlist = load_playlist(path)
    assert playlist.workflow == flow
    first = build_job(playlist, playlist.prompts[0], random.Random(0))
    assert first.graph["1"]["inputs"] == {"width": 300, "height": 200, "batch_size": 1, "color": 16777215}
    assert first.graph["2"]["inputs"]["blur_radius"] == 4 and first.graph["2"]["inputs"]["sigma"] == 4
    assert first.output_nodes == ["3", "4"]
    assert first.meta["seed"] == 4294967295 and first.meta["workflow"] == str(flow)
    second = build_job(playlist, playlist.prompts[1], random.Random(0))
    assert second.graph["1"]["inputs"]["color"] == 5 and second.graph["2"]["inputs"]["blur_radius"] == 2
    assert MODEL_FREE["1"]["inputs"]["color"] == 0


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        ("3.seed", [("3", "seed")]),
        ("My Node.v2.seed", [("My Node.v2", "seed")]),
        ({"node": 3, "input": "seed"}, [("3", "seed")]),
        (["1.a", "2.b"], [("1", "a"), ("2", "b")]),
        ({"to": "1.a", "modulo": 7}, [("1", "a")]),
    ],
)
def test_binding_syntax(binding: object, expected: list[tuple[str, str]]) -> None:
    parsed = Binding.model_validate(binding)
    assert [(t.node, t.input) for t in parsed.to] == expected


@pytest.mark.parametrize(
    ("bindings", "words"),
    [
        ("seed: '9.color'", "no node with id or title '9'"),
        ("seed: 'Canvs.color'", "did you mean 'Canvas'?"),
        ("seed: 'Canvas.colour'", "node 1 ('Canvas' EmptyImage) has no input 'colour'; did you mean 'color'?"),
        ("seed: '2.image'", "is connected to node 1"),
        ("mood: '1.color'", "no value named 'mood'"),
        ("seed: 'nodot'", 'write a binding target as "NODE.INPUT"'),
        ("seed: {to: '1.color', modulo: 0}", "must be more than 0, got 0"),
        ("seed: {node: '1', input: color, extra: 1}", "unknown key 'extra'"),
    ],
)
def test_bad_bindings_are_reported_with_line(write, flow: Path, problems, bindings: str, words: str) -> None:
    path = write("p.yaml", f"workflow: flow.json\nprompts: [x]\nbindings:\n  {bindings}\n")
    found = problems(lambda: load_playlist(path))
    assert any(words in p.message and p.line == 4 and p.key.startswith("bindings.") for p in found), found


def test_ui_format_is_refused_with_export_advice(write, problems) -> None:
    ui = write("ui.json", json.dumps({"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [],
                                      "version": 0.4}))
    (problem,) = problems(lambda: load_workflow(ui))
    assert problem.file == str(ui) and problem.message == UI_FORMAT_HELP
    assert "Export (API)" in UI_FORMAT_HELP and "Save (API Format)" in UI_FORMAT_HELP
    assert "Dev mode" in UI_FORMAT_HELP
    playlist = write("p.yaml", "workflow: ui.json\nprompts: [x]\n")
    found = problems(lambda: load_playlist(playlist))
    assert [(Path(p.file).name, p.line) for p in found] == [("p.yaml", 1), ("ui.json", None)]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not an API-format workflow"),
        ('{"1": {"inputs": {}}}', "needs \"class_type\""),
        ('{"1": {"class_type": "EmptyImage", "inputs": {}}}', "no SaveImage"),
    ],
)
def test_broken_workflow_files(write, problems, content: str, words: str) -> None:
    path = write("w.json", content)
    assert any(words in p.message for p in problems(lambda: load_workflow(path)))


def test_saved_prompt_body_is_accepted(write) -> None:
    path = write("body.json", json.dumps({"prompt": MODEL_FREE, "client_id": "abc"}))
    assert load_workflow(path) == MODEL_FREE


def test_ambiguous_title(write, problems) -> None:
    graph = {**MODEL_FREE, "5": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 1,
                                                                        "sigma": 1.0}, "_meta": {"title": "Blur"}}}
    write("two.json", json.dumps(graph))
    path = write("p.yaml", "workflow: two.json\nprompts: [x]\nbindings:\n  seed: Blur.sigma\n  steps: ImageBlur.sigma\n")
    messages = " ".join(p.message for p in problems(lambda: load_playlist(path)))
    assert "title 'Blur' matches nodes 2, 5" in messages and "matches nodes 2, 5 (by class)" in messages
