"""Pure units: event parsing, binary framing, backoff, failure-streak logging, and the recorded HTTP answers."""

from __future__ import annotations

import gzip
import json
import logging
import random
import struct
from pathlib import Path

import pytest

from dreamwindow.comfy.api import check_prompt_response, parse_history, parse_node_errors, queue_ids, select_images
from dreamwindow.comfy.backoff import Backoff, FailureStreak
from dreamwindow.comfy.events import (
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    Executed,
    Executing,
    FeatureFlags,
    ImageRef,
    Preview,
    Progress,
    ProgressState,
    Status,
    Unknown,
    encode_preview,
    encode_preview_with_metadata,
    parse_binary,
    parse_text,
)
from dreamwindow.comfy.jobs import Outcome
from dreamwindow.errors import Rejected, Unavailable


def msg(kind: str, data) -> str:
    return json.dumps({"type": kind, "data": data})


# ----- text events -------------------------------------------------------------------------------------------
def test_status_with_and_without_sid() -> None:
    assert parse_text(msg("status", {"status": {"exec_info": {"queue_remaining": 2}}, "sid": "abc"})) == Status(2, "abc")
    assert parse_text(msg("status", {"status": {"exec_info": {}}})) == Status(None, None)


def test_executing_null_and_missing_prompt_id() -> None:
    assert parse_text(msg("executing", {"node": None, "prompt_id": "p"})) == Executing(None, "p")
    assert parse_text(msg("executing", {"node": "10"})) == Executing("10", None)


def test_executed_images_and_other_outputs() -> None:
    ev = parse_text(msg("executed", {"node": "9", "prompt_id": "p", "output": {
        "images": [{"filename": "a.png", "subfolder": "s", "type": "output"}]}}))
    assert isinstance(ev, Executed) and ev.images == (ImageRef("a.png", "s", "output"),)
    text = parse_text(msg("executed", {"node": "3", "prompt_id": "p", "output": {"text": ["False"]}}))
    assert isinstance(text, Executed) and text.images == ()


def test_error_interrupted_cached_progress_flags() -> None:
    err = parse_text(msg("execution_error", {"prompt_id": "p", "node_id": "1", "node_type": "EmptyImage",
                                             "exception_type": "RuntimeError", "exception_message": "boom",
                                             "traceback": ["a", "b"]}))
    assert err == ExecutionError("p", "1", "EmptyImage", "RuntimeError", "boom", ("a", "b"))
    assert parse_text(msg("execution_interrupted", {"prompt_id": "p", "node_id": "12", "node_type": "ImageBlur"})) \
        == ExecutionInterrupted("p", "12", "ImageBlur")
    assert parse_text(msg("execution_cached", {"prompt_id": "p", "nodes": ["1", 2]})) == ExecutionCached("p", ("1", "2"))
    assert parse_text(msg("progress", {"value": 1, "max": 3, "prompt_id": "p", "node": "3"})) == Progress("p", "3", 1.0, 3.0)
    assert isinstance(parse_text(msg("progress_state", {"prompt_id": "p", "nodes": {}})), ProgressState)
    assert parse_text(msg("feature_flags", {"supports_preview_metadata": True})) == FeatureFlags(
        {"supports_preview_metadata": True})


@pytest.mark.parametrize("raw", ["not json", "[1,2]", '{"data": {}}', msg("executed", {"node": "1"}),
                                 msg("status", [1]), msg("brand_new_type", {"x": 1})])
def test_bad_or_unknown_text_is_unknown_not_none(raw: str) -> None:
    ev = parse_text(raw)
    assert isinstance(ev, Unknown) and ev.reason


# ----- binary frames -----------------------------------------------------------------------------------------
def test_type1_jpeg_and_png() -> None:
    jpeg = parse_binary(encode_preview(b"\xff\xd8jpegdata", "jpeg"))
    assert jpeg == Preview("jpeg", b"\xff\xd8jpegdata")
    png = parse_binary(struct.pack(">II", 1, 2) + b"\x89PNG")
    assert png.format == "png" and png.data == b"\x89PNG" and png.prompt_id is None


def test_type4_metadata_names_prompt_and_node() -> None:
    meta = {"node_id": "3", "prompt_id": "p1", "display_node_id": "3", "image_type": "image/png"}
    ev = parse_binary(encode_preview_with_metadata(b"\x89PNGbytes", meta))
    assert ev == Preview("png", b"\x89PNGbytes", "p1", "3")


def test_type4_frame_with_json_looking_image_is_not_json_parsed() -> None:
    payload = b'{"type": "status"}'  # an image body that happens to look like JSON stays bytes
    ev = parse_binary(encode_preview_with_metadata(payload, {"prompt_id": "p", "image_type": "image/jpeg"}))
    assert isinstance(ev, Preview) and ev.data == payload


@pytest.mark.parametrize("frame", [b"", b"\0\0", struct.pack(">I", 7) + b"xx", struct.pack(">I", 1),
                                   struct.pack(">II", 4, 999) + b"{}", struct.pack(">II", 4, 2) + b"no"])
def test_bad_binary_is_unknown(frame: bytes) -> None:
    ev = parse_binary(frame)
    assert isinstance(ev, Unknown) and ev.binary


# ----- backoff and logging -----------------------------------------------------------------------------------
def test_backoff_grows_caps_jitters_and_resets() -> None:
    b = Backoff(base=0.1, cap=1.0, factor=2.0, jitter=0.5, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    ceilings = [min(1.0, 0.1 * 2 ** i) for i in range(10)]
    assert all(c * 0.5 <= d <= c for d, c in zip(delays, ceilings))
    assert max(delays) <= 1.0 and len(set(delays)) == len(delays)
    b.reset()
    assert b.next_delay() <= 0.1


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(base=2, cap=1)


def test_failure_streak_warns_once_then_debug_then_info(caplog: pytest.LogCaptureFixture) -> None:
    streak = FailureStreak(logging.getLogger("t.streak"), "server x")
    with caplog.at_level(logging.DEBUG, logger="t.streak"):
        for i in range(5):
            streak.failure(f"e{i}")
        streak.success()
        streak.success()
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.WARNING] + [logging.DEBUG] * 4 + [logging.INFO]
    assert "5 failure" in caplog.records[-1].getMessage()


# ----- recorded HTTP answers ---------------------------------------------------------------------------------
def load(traces_dir: Path, name: str):
    return json.loads((traces_dir / "http" / name).read_text())


REJECTED_CASES = {
    "unknown_class_type": ("invalid_prompt", []),
    "invalid_value_width_minus5": ("prompt_outputs_failed_validation", [("1", "EmptyImage", "width", "Value -5 smaller than min of 1")]),
    "invalid_value_width_too_big": ("prompt_outputs_failed_validation", [("1", "EmptyImage", "width", "Value 99999 bigger than max of 16384")]),
    "invalid_value_width_string": ("prompt_outputs_failed_validation", [("1", "EmptyImage", "width", "Failed to convert an input value to a INT value")]),
    "missing_required_input": ("prompt_outputs_failed_validation", [("1", "EmptyImage", "height", "Required input is missing")]),
    "link_to_nonexistent_node": ("prompt_outputs_failed_validation", [("2", "ImageInvert", "image", "Exception when validating inner node")]),
    "link_to_nonexistent_output_slot": ("prompt_outputs_failed_validation", [("2", "ImageInvert", "image", "Exception when validating inner node")]),
    "invalid_combo_value": ("prompt_outputs_failed_validation", [("4", "ImageScale", "upscale_method", "Value not in list")]),
    "type_mismatch_latent_into_image": ("prompt_outputs_failed_validation", [("5", "SaveImage", "images", "Return type mismatch between linked nodes")]),
    "no_output_node": ("prompt_no_outputs", []),
    "empty_workflow": ("prompt_no_outputs", []),
    "node_without_class_type": ("invalid_prompt", []),
    "no_prompt_key": ("no_prompt", []),
    "empty_json_object": ("no_prompt", []),
}


def test_every_post_prompt_case(traces_dir: Path) -> None:
    seen = set()
    for case in load(traces_dir, "post_prompt_cases.json"):
        name, status, body = case["case"], case["status"], case.get("json", case.get("text"))
        seen.add(name)
        if name in REJECTED_CASES:
            error_type, errors = REJECTED_CASES[name]
            with pytest.raises(Rejected) as info:
                check_prompt_response(status, body, output_nodes=frozenset({"5"}))
            assert info.value.error_type == error_type
            assert [(e.node_id, e.class_type, e.input_name, e.message) for e in info.value.node_errors] == errors
            if name == "unknown_class_type":
                assert "NoSuchNodeType" in str(info.value) and "#2" in str(info.value)
        elif status == 500:
            with pytest.raises(Unavailable, match="500"):
                check_prompt_response(status, body, output_nodes=None)
        elif name == "one_good_one_bad_output":
            check_prompt_response(status, body, output_nodes=frozenset({"5"}))  # the output we need is fine
            for needed in (frozenset({"6"}), None):
                with pytest.raises(Rejected) as info:
                    check_prompt_response(status, body, output_nodes=needed)
                [err] = info.value.node_errors
                assert (err.node_id, err.class_type, err.message) == ("6", "SaveImage", "Exception when validating node")
        else:
            assert status == 200
            check_prompt_response(status, body, output_nodes=None)
    assert len(seen) == 25


def test_history_shapes(traces_dir: Path) -> None:
    rec = load(traces_dir, "history_by_id.json")
    pid = rec["request"]["path"].rsplit("/", 1)[1]
    hist = parse_history(rec["json"], pid)
    assert hist.outcome is Outcome.SUCCESS and hist.outputs == {"5": [ImageRef("dw_single_00003_.png", "", "output")]}
    assert parse_history(load(traces_dir, "history_unknown_id.json")["json"], "00000000-0000-0000-0000-000000000000") is None

    cached = load(traces_dir, "history_cached_repeat.json")
    outcomes = {}
    for key, rec in cached.items():
        pid = rec["request"]["path"].rsplit("/", 1)[1]
        outcomes[key] = parse_history(rec["json"], pid)
    assert all(h.outcome is Outcome.SUCCESS for h in outcomes.values())
    assert any(h.cached_nodes >= {"5"} for h in outcomes.values())  # the identical rerun

    errors = load(traces_dir, "history_exec_error.json")
    got = {k: parse_history(r["json"], r["request"]["path"].rsplit("/", 1)[1]) for k, r in errors.items()}
    assert got["regex_invalid_pattern_no_error"].outcome is Outcome.SUCCESS
    assert got["regex_invalid_pattern_no_error"].outputs == {}  # text output, no image
    assert got["alloc_error"].outcome is Outcome.ERROR and got["alloc_error"].error["node_type"] == "EmptyImage"

    rec = load(traces_dir, "history_interrupted.json")
    hist = parse_history(rec["json"], rec["request"]["path"].rsplit("/", 1)[1])
    assert hist.outcome is Outcome.INTERRUPTED and hist.outputs == {} and hist.interrupted["node_id"] == "12"

    rec = load(traces_dir, "history_saveimagewebsocket_previewimage.json")
    hist = parse_history(rec["json"], rec["request"]["path"].rsplit("/", 1)[1])
    assert set(hist.outputs) == {"4"} and all(r.type == "temp" for r in hist.outputs["4"])
    assert [r.filename for _, r in select_images(hist.outputs, None)] == [
        "ComfyUI_temp_yuozs_00001_.png", "ComfyUI_temp_yuozs_00002_.png"]


def test_restart_leaves_empty_history_and_queue(traces_dir: Path) -> None:
    for name in ("restart_after_SIGTERM_history_queue.json", "restart_after_SIGINT_history_queue.json"):
        rec = load(traces_dir, name)
        pid = rec["history_of_prompt_running_at_stop"]["request"]["path"].rsplit("/", 1)[1]
        assert parse_history(rec["history_of_prompt_running_at_stop"]["json"], pid) is None
        assert queue_ids(rec["queue_after_restart"]["json"]) == (set(), set())


def test_queue_shapes(traces_dir: Path) -> None:
    running, pending = queue_ids(load(traces_dir, "queue_busy.json")["json"])
    assert running == {"7fdc97e1-13c9-4879-8f8b-a0f0546e301c"} and len(pending) == 1
    assert queue_ids(load(traces_dir, "queue_empty.json")["json"]) == (set(), set())


def test_object_info_trace_is_readable_by_capabilities(traces_dir: Path) -> None:
    info = json.loads(gzip.decompress((traces_dir / "http" / "object_info_full.json.gz").read_bytes()))
    assert "KSampler" in info and len(info) > 400


def test_parse_node_errors_tolerates_odd_shapes() -> None:
    assert parse_node_errors(None) == []
    [e] = parse_node_errors({"7": {"class_type": "X"}})
    assert (e.node_id, e.class_type) == ("7", "X")
