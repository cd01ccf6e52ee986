"""BackendPool with several built-in engines over real sockets."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest

from comfy_engine_helpers import ENGINE_CHECKPOINT, fast_tuning, start_engine, txt2img
from dreamwindow.comfy.backoff import Backoff
from dreamwindow.comfy.pool import BackendPool
from dreamwindow.errors import ExecutionFailed, Rejected


@dataclass
class Cfg:  # duck-typed BackendConfig
    url: str
    name: str | None = None
    weight: float = 1.0
    max_in_flight: int = 1
    headers: dict[str, str] = field(default_factory=dict)


def make_pool(cfgs: list[Cfg]) -> BackendPool:
    return BackendPool(cfgs, request_timeout=5.0, tuning=fast_tuning,
                       probe_backoff=lambda: Backoff(base=0.01, cap=0.05))


@pytest.fixture()
async def engines(request):
    seconds, n = getattr(request, "param", (0.3, 2))
    engs = [await start_engine(seconds) for _ in range(n)]
    yield engs
    for e in engs:
        await e.stop()


@pytest.mark.parametrize("engines", [(0.3, 2)], indirect=True)
async def test_shortest_queue_spreads_jobs_and_respects_max_in_flight(engines) -> None:
    pool = make_pool([Cfg(e.url, f"e{i}", max_in_flight=2) for i, e in enumerate(engines)])
    await pool.start()
    try:
        results = await asyncio.gather(*(pool.run(txt2img(), output_nodes=["9"], deadline=20) for _ in range(6)))
    finally:
        await pool.close()
    assert Counter(r.server for r in results) == {"e0": 3, "e1": 3}
    for server in ("e0", "e1"):  # never more than 2 of this server's jobs alive at once
        spans = sorted((r.timings["queued_at"], r.timings["finished_at"]) for r in results if r.server == server)
        for i, (start, _) in enumerate(spans):
            assert sum(1 for s, f in spans[:i] if f > start) <= 1


@pytest.mark.parametrize("engines", [(0.2, 1)], indirect=True)
async def test_one_in_flight_means_jobs_wait_their_turn(engines) -> None:
    pool = make_pool([Cfg(engines[0].url, "only", max_in_flight=1)])
    await pool.start()
    try:
        results = await asyncio.gather(*(pool.run(txt2img(), deadline=20) for _ in range(3)))
    finally:
        await pool.close()
    spans = sorted((r.timings["queued_at"], r.timings["finished_at"]) for r in results)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(2))  # strictly one after another


@pytest.mark.parametrize("engines", [(0.2, 2)], indirect=True)
async def test_weight_prefers_the_heavier_server(engines) -> None:
    pool = make_pool([Cfg(engines[0].url, "big", weight=3, max_in_flight=3), Cfg(engines[1].url, "small", max_in_flight=3)])
    await pool.start()
    try:
        results = await asyncio.gather(*(pool.run(txt2img(), deadline=20) for _ in range(4)))
    finally:
        await pool.close()
    assert Counter(r.server for r in results)["big"] == 3


@pytest.mark.parametrize("engines", [(0.0, 2)], indirect=True)
async def test_weights_divide_one_at_a_time_work(engines) -> None:
    # A wall with lookahead 1 asks for one picture at a time: every server is idle at each dispatch.
    pool = make_pool([Cfg(engines[0].url, "big", weight=3), Cfg(engines[1].url, "small")])
    await pool.start()
    try:
        servers = [(await pool.run(txt2img(), deadline=20)).server for _ in range(16)]
    finally:
        await pool.close()
    assert Counter(servers) == {"big": 12, "small": 4}


@pytest.mark.parametrize("engines", [(0.6, 2)], indirect=True)
async def test_in_flight_job_moves_when_its_server_stops(engines) -> None:
    a, b = engines
    pool = make_pool([Cfg(a.url, "a", weight=10), Cfg(b.url, "b")])
    await pool.start()
    running = asyncio.Event()
    try:
        task = asyncio.create_task(pool.run(txt2img(steps=4), deadline=20, on_preview=lambda d, p: running.set()))
        await asyncio.wait_for(running.wait(), 5)  # it started on "a" (the heavier one)
        await a.stop()
        result = await task
        assert result.server == "b" and result.images
        status = {s.name: s for s in await pool.status()}
        assert not status["a"].reachable and status["b"].reachable
    finally:
        await pool.close()


@pytest.mark.parametrize("engines", [(0.0, 2)], indirect=True)
async def test_restart_mid_job_is_resubmitted_once(engines) -> None:
    a, b = engines
    pool = make_pool([Cfg(a.url, "a", weight=10), Cfg(b.url, "b")])
    await pool.start()
    try:
        a.faults.restart_before = "executing"
        result = await pool.run(txt2img(), output_nodes=["9"], deadline=20)
        assert result.images and result.server == "b"
    finally:
        await pool.close()


async def test_dead_server_is_probed_and_taken_back() -> None:
    eng = await start_engine(0.0)
    port = eng.port
    await eng.stop()
    pool = make_pool([Cfg(f"http://127.0.0.1:{port}", "late")])
    await pool.start()  # does not raise: probes in the background
    try:
        [st] = await pool.status()
        assert not st.reachable and st.last_error
        await eng.start("127.0.0.1", port)
        await pool.wait_until_up("late", timeout=10)
        result = await pool.run(txt2img(), deadline=10)
        assert result.server == "late" and result.images
        [st] = await pool.status()
        assert st.reachable and st.version and st.node_classes and st.queue_remaining == 0
    finally:
        await pool.close()
        await eng.stop()


@pytest.mark.parametrize("engines", [(0.0, 1)], indirect=True)
async def test_a_server_that_never_answered_does_not_hold_a_refusal(engines) -> None:
    pool = make_pool([Cfg(engines[0].url, "up"), Cfg("http://127.0.0.1:9", "down")])
    await pool.start()
    try:
        await pool.wait_until_up("up", timeout=5)
        started = asyncio.get_running_loop().time()
        with pytest.raises(Rejected) as info:
            await pool.run(txt2img(ckpt="sdxl_base.safetensors"), deadline=30)
        assert asyncio.get_running_loop().time() - started < 5  # refused now, not at the 30 s deadline
        assert "up: " in str(info.value) and "not reachable, so not asked: down" in str(info.value)
        result = await pool.run(txt2img(), deadline=30)  # what "up" can run still runs
        assert result.server == "up"
    finally:
        await pool.close()


@pytest.mark.parametrize("engines", [(0.0, 1)], indirect=True)
async def test_can_run_refuses_missing_checkpoint_and_node_class(engines) -> None:
    pool = make_pool([Cfg(engines[0].url, "e")])
    await pool.start()
    try:
        await pool.wait_until_up(timeout=5)
        assert pool.can_run(txt2img()) == {"e": []}
        with pytest.raises(Rejected) as info:
            await pool.run(txt2img(ckpt="sdxl_base.safetensors"), deadline=5)
        text = str(info.value)
        assert "'sdxl_base.safetensors' is not available" in text and ENGINE_CHECKPOINT in text and "e:" in text
        graph = txt2img()
        graph["10"] = {"class_type": "UltimateSDUpscale", "inputs": {}}
        with pytest.raises(Rejected, match="node class 'UltimateSDUpscale' is not installed"):
            await pool.run(graph, deadline=5)
    finally:
        await pool.close()


async def test_job_goes_only_to_the_server_that_has_the_model() -> None:
    plain = await start_engine(0.0)
    special = await start_engine(0.0, checkpoints=[ENGINE_CHECKPOINT, "special.safetensors"])
    pool = make_pool([Cfg(plain.url, "plain", weight=100), Cfg(special.url, "special")])
    await pool.start()
    try:
        await pool.wait_until_up("special", timeout=5)
        verdict = pool.can_run(txt2img(ckpt="special.safetensors"))
        assert verdict["special"] == [] and "special.safetensors" in verdict["plain"][0]
        results = await asyncio.gather(*(pool.run(txt2img(ckpt="special.safetensors"), deadline=10) for _ in range(3)))
        assert {r.server for r in results} == {"special"}
    finally:
        await pool.close()
        await plain.stop()
        await special.stop()


@pytest.mark.parametrize("engines", [(0.0, 2)], indirect=True)
async def test_execution_failures_are_not_retried_by_the_pool(engines) -> None:
    a, b = engines
    pool = make_pool([Cfg(a.url, "a", weight=10), Cfg(b.url, "b")])
    await pool.start()
    try:
        a.faults.execution_errors = 1
        with pytest.raises(ExecutionFailed):
            await pool.run(txt2img(), deadline=10)
        a.faults.prompt_http_errors = [500]
        result = await pool.run(txt2img(), deadline=10)  # 5xx: retried on the other server
        assert result.server == "b"
    finally:
        await pool.close()
