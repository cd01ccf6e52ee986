"""Replay every recorded WebSocket sequence through events.py and the per-prompt tracker.

Each logical client (one clientId, across reconnects) gets one tracker; the prompts that client posted are
registered up front, as the real client registers before its POST. Binary frames are rebuilt from the recorded
framing (the traces keep the header, not the image bytes) and decoded back.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dreamwindow.comfy.events import (
    Executing,
    Preview,
    Status,
    Unknown,
    encode_preview,
    encode_preview_with_metadata,
    parse_binary,
    parse_text,
)
from dreamwindow.comfy.jobs import Job, JobTracker, Outcome

S, E, I = Outcome.SUCCESS, Outcome.ERROR, Outcome.INTERRUPTED
OPEN = None  # never finished on the socket: the client must poll /history and /queue

# file -> {prompt_id prefix: (outcome, filenames of executed outputs, cached)}
EXPECTED: dict[str, dict[str, tuple[Outcome | None, list[str], bool]]] = {
    "single_prompt": {"36080f3c": (S, ["dw_single_00003_.png"], False)},
    "cached_repeat": {
        "7be6812f": (S, ["dw_cached_00003_.png"], False),
        "9a0ec1fa": (S, ["dw_cached_00003_.png"], True),  # identical graph: the OLD file, from the cache
        "b9e8bd2a": (S, ["dw_cached_changed_00003_.png"], False),
    },
    "exec_error": {
        "92b327c9": (S, [], False),
        "d62ba31d": (E, [], False),
        "18bf29fd": (E, [], False),
        "a200e5bd": (S, ["dw_after_err_00003_.png"], False),
    },
    "interrupt": {"7fdc97e1": (I, [], False), "0daaec2e": (S, ["dw_after_intr_00002_.png"], False)},
    "two_clients": {"fb7e2a6e": (S, ["dw_two_00002_.png"], False), "db19461f": (S, ["dw_sid_00002_.png"], False)},
    "reconnect_same_client_id": {"688f908f": (S, ["dw_recon_00002_.png"], False)},
    "duplicate_client_id": {"ef959c94": (S, ["dw_dup_00001_.png"], False), "050b24e3": (OPEN, [], False)},
    "feature_flags_saveimagewebsocket_previewimage": {
        "b2abf291": (S, ["ComfyUI_temp_yuozs_00001_.png", "ComfyUI_temp_yuozs_00002_.png"], False)},
    "no_feature_flags_saveimagewebsocket_previewimage": {
        "3d4698da": (S, ["ComfyUI_temp_yuozs_00003_.png", "ComfyUI_temp_yuozs_00004_.png"], False)},
    "queue_ops": {
        "16191fac": (I, [], False), "6bbcfafd": (OPEN, [], False), "285ea619": (OPEN, [], False),
        "82bc74f9": (OPEN, [], False), "96a1ff8b": (S, ["dw_after_idle_interrupt_00002_.png"], False),
    },
    "server_stop_SIGTERM_while_running": {
        "e359ab4c": (S, ["dw_before_stop_00005_.png"], False), "5e94b200": (OPEN, [], False)},
    "server_stop_SIGINT_while_running": {
        "b9a90e7a": (S, ["dw_before_stop_00006_.png"], False), "b2d4909b": (OPEN, [], False)},
    "txt2img_micro_ckpt": {
        "9e25ecb5": (S, ["dw_t2i_micro_00003_.png"], False),
        "a9d1e99c": (S, ["dw_t2i_micro_00004_.png"], False),
        "57754f8d": (S, ["dw_t2i_micro_00004_.png"], True),  # identical rerun
    },
    "txt2img_micro_ckpt_feature_flags": {"93a1863d": (S, ["dw_t2i_micro_ff_00002_.png"], False)},
    "txt2img_tiny_ckpt": {"8c1250c8": (S, ["dw_t2i_tiny_00003_.png"], False),
                          "9fc165d9": (S, ["dw_t2i_tiny_00004_.png"], False)},
}
# Prompts in two_clients.jsonl that belong to nobody we play (posted without a client_id).
FOREIGN = {"two_clients": {"a862bc2b"}}


def rebuild_binary(rec: dict) -> bytes:
    """The frame a recorded binary record describes, with dummy image bytes of the recorded length."""
    body = bytes.fromhex(rec.get("image_magic_hex", "")) if rec.get("image_magic_hex") else b""
    body = body + b"\0" * max(0, rec.get("image_len", 16) - len(body))
    if rec["event_type"] == 4:
        return encode_preview_with_metadata(body, rec["metadata"])
    if rec["event_type"] == 1:
        return encode_preview(body, "jpeg" if rec["first8_hex"].endswith("1") else "png")
    return bytes.fromhex(rec["first8_hex"])


class Replay:
    """One logical client: a tracker plus what it saw."""

    def __init__(self) -> None:
        self.tracker = JobTracker()
        self.previews: list[tuple[str, str]] = []  # (prompt_id, format)
        self.statuses: list[Status] = []
        self.unknown: list[Unknown] = []
        self.finished_order: list[str] = []
        self.closes: list[dict] = []
        self.anonymous_executing = 0

    def feed(self, event) -> None:
        if isinstance(event, Preview):
            job = self.tracker.preview_target(event)
            if job is not None:
                self.previews.append((job.prompt_id, event.format))
            return
        if isinstance(event, Status):
            self.statuses.append(event)
        if isinstance(event, Unknown):
            self.unknown.append(event)
        if isinstance(event, Executing) and event.prompt_id is None:
            self.anonymous_executing += 1
        done = self.tracker.feed(event)
        if done is not None:
            self.finished_order.append(done.prompt_id)


def replay(path: Path, owned: dict[str, set[str]]) -> dict[str, Replay]:
    """Feed a trace; ``owned`` maps logical client id -> prompt ids it registers."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    socket_to_client: dict[str, str] = {}
    clients: dict[str, Replay] = {}
    for rec in records:
        sock = rec.get("client")
        if rec.get("what") == "ws_connect_start":
            cid = parse_qs(urlparse(rec["url"]).query).get("clientId", [None])[0]
            socket_to_client[sock] = cid or sock
        if sock is None or rec["kind"] not in ("text", "binary", "close"):
            continue
        logical = socket_to_client.get(sock, sock)
        if logical not in clients:
            clients[logical] = Replay()
            for pid in owned.get(logical, set()):
                clients[logical].tracker.register(Job(pid))
        rp = clients[logical]
        if rec["kind"] == "close":
            rp.closes.append(rec)
        elif rec["kind"] == "binary":
            rp.feed(parse_binary(rebuild_binary(rec)))
        else:
            rp.feed(parse_text(json.dumps(rec["msg"])))
    return clients


def posted_ids(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("what") == "http_post_prompt_response" and rec.get("status") == 200:
            out.append(rec["response"]["prompt_id"])
    return out


def ownership(name: str, path: Path, traces_dir: Path) -> dict[str, set[str]]:
    ids = posted_ids(path)
    if name == "two_clients":
        m = json.loads((traces_dir / "ws" / "two_clients.ids.json").read_text())
        # C connected without clientId: the socket name is its logical id; it owns the prompt sent with its sid.
        return {m["A"]: {m["prompt_A"]}, "C_no_clientId": {m["prompt_for_C_sid"]}}
    first = json.loads(path.read_text().splitlines()[0])
    cid = parse_qs(urlparse(first["url"]).query)["clientId"][0]
    return {cid: set(ids)}


def test_every_trace_has_expectations(traces_dir: Path) -> None:
    names = {p.stem for p in (traces_dir / "ws").glob("*.jsonl")}
    assert names == set(EXPECTED), f"unplayed traces: {names - set(EXPECTED)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replay_outcomes(traces_dir: Path, name: str) -> None:
    path = traces_dir / "ws" / f"{name}.jsonl"
    owned = ownership(name, path, traces_dir)
    clients = replay(path, owned)
    jobs = {pid: rp.tracker.jobs[pid] for rp in clients.values() for pid in rp.tracker.jobs}
    for prefix, (outcome, files, cached) in EXPECTED[name].items():
        [pid] = [p for p in jobs if p.startswith(prefix)]
        job = jobs[pid]
        assert job.outcome is outcome, f"{name} {prefix}: {job.outcome} != {outcome}"
        assert [r.filename for refs in job.outputs.values() for r in refs] == files
        if outcome is S:
            assert job.cached is cached, f"{name} {prefix}: cached={job.cached}"
    # Every posted prompt not expected is foreign; nobody finished a prompt it does not own.
    for prefix in FOREIGN.get(name, ()):
        assert not any(p.startswith(prefix) for p in jobs)
    for rp in clients.values():
        assert set(rp.finished_order) <= set(rp.tracker.jobs)
        assert len(rp.finished_order) == len(set(rp.finished_order)), "a prompt finished twice"
        assert not rp.unknown, f"unparsed messages: {rp.unknown[:3]}"


def test_execution_error_details(traces_dir: Path) -> None:
    path = traces_dir / "ws" / "exec_error.jsonl"
    [rp] = replay(path, ownership("exec_error", path, traces_dir)).values()
    errors = {pid[:8]: job.error for pid, job in rp.tracker.jobs.items() if job.error}
    assert errors["d62ba31d"].node_id == "1" and errors["d62ba31d"].node_type == "EmptyImage"
    assert errors["d62ba31d"].exception_type == "RuntimeError"
    assert "can't allocate memory" in errors["d62ba31d"].message
    assert errors["18bf29fd"].node_id == "3" and errors["18bf29fd"].node_type == "SaveImage"
    assert "outside the output folder" in errors["18bf29fd"].message
    assert errors["18bf29fd"].traceback


def test_interrupt_details(traces_dir: Path) -> None:
    path = traces_dir / "ws" / "interrupt.jsonl"
    [rp] = replay(path, ownership("interrupt", path, traces_dir)).values()
    job = next(j for p, j in rp.tracker.jobs.items() if p.startswith("7fdc97e1"))
    assert job.interrupted is not None
    assert (job.interrupted.node_id, job.interrupted.node_type) == ("12", "ImageBlur")


def test_two_clients_ignore_foreign_prompts(traces_dir: Path) -> None:
    path = traces_dir / "ws" / "two_clients.jsonl"
    ids = json.loads((traces_dir / "ws" / "two_clients.ids.json").read_text())
    clients = replay(path, ownership("two_clients", path, traces_dir))
    a, b = clients[ids["A"]], clients[ids["B"]]
    assert a.finished_order == [ids["prompt_A"]]
    assert b.finished_order == [] and not b.tracker.jobs
    # B saw broadcasts (status, progress_state of the client-less prompt) and ignored them.
    assert b.statuses and b.tracker.in_flight() == []
    assert clients["C_no_clientId"].finished_order == [ids["prompt_for_C_sid"]]
    assert clients["C_no_clientId"].statuses[0].sid == ids["C_server_assigned_sid"]


def test_reconnect_executing_without_prompt_id(traces_dir: Path) -> None:
    path = traces_dir / "ws" / "reconnect_same_client_id.jsonl"
    [rp] = replay(path, ownership("reconnect_same_client_id", path, traces_dir)).values()
    assert rp.anonymous_executing == 1  # the extra executing{"node": "10"} right after the reconnect
    [job] = rp.tracker.jobs.values()
    assert job.outcome is S and job.outputs["99"][0].filename == "dw_recon_00002_.png"
    assert [s.sid for s in rp.statuses if s.sid] == ["dw-recon-e42752e1"] * 2


@pytest.mark.parametrize("name", ["server_stop_SIGTERM_while_running", "server_stop_SIGINT_while_running"])
def test_server_stop_leaves_job_in_flight_and_socket_1006(traces_dir: Path, name: str) -> None:
    path = traces_dir / "ws" / f"{name}.jsonl"
    [rp] = replay(path, ownership(name, path, traces_dir)).values()
    [close] = rp.closes
    assert close["ws_close_code"] == 1006
    [running] = rp.tracker.in_flight()
    assert running.started and rp.tracker.current == running.prompt_id  # lost mid-run: catch-up must resolve it


@pytest.mark.parametrize(
    ("name", "formats", "per_prompt"),
    [
        ("feature_flags_saveimagewebsocket_previewimage", {"png"}, {"b2abf291": 2}),
        ("no_feature_flags_saveimagewebsocket_previewimage", {"png"}, {"3d4698da": 2}),
        ("txt2img_micro_ckpt", {"jpeg"}, {"9e25ecb5": 3, "a9d1e99c": 3}),
        ("txt2img_micro_ckpt_feature_flags", {"jpeg"}, {"93a1863d": 2}),
    ],
)
def test_previews_routed_to_their_prompt(traces_dir: Path, name: str, formats: set[str], per_prompt: dict) -> None:
    path = traces_dir / "ws" / f"{name}.jsonl"
    [rp] = replay(path, ownership(name, path, traces_dir)).values()
    counts: dict[str, int] = {}
    for pid, fmt in rp.previews:
        counts[pid[:8]] = counts.get(pid[:8], 0) + 1
        assert fmt in formats
    assert counts == per_prompt


def test_foreign_type4_preview_is_not_ours() -> None:
    tracker = JobTracker()
    tracker.register(Job("mine"))
    ev = parse_binary(encode_preview_with_metadata(b"x", {"prompt_id": "theirs", "node_id": "3"}))
    assert tracker.preview_target(ev) is None
    tracker.feed(parse_text(json.dumps({"type": "executing", "data": {"node": "3", "prompt_id": "mine"}})))
    assert tracker.preview_target(parse_binary(encode_preview(b"x"))).prompt_id == "mine"
    assert tracker.preview_target(ev) is None  # metadata names another prompt: not ours even while ours runs
