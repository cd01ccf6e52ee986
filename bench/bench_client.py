"""ComfyUI client benchmark (run by hand, not part of the test suite).

    python bench/bench_client.py [--rounds 5] [--jobs-per-round 40] [--total 2000]

Engines run as separate processes (so their work does not share our event loop). Measures:
1. overhead per job, submit -> image bytes in hand, against an engine with zero generation time: our
   ComfyClient vs a naive client (POST, then a new WebSocket per prompt, then history and /view), interleaved
   in rounds (A/B order alternates each round) because this machine drifts between minutes;
2. jobs/s through the pool with 1 and 4 zero-time servers, and a 2000-job run checking nothing is lost or
   duplicated;
3. throughput with 4 servers vs 1 when generation time dominates (0.2 s per image).
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from dreamwindow.comfy.client import ComfyClient  # noqa: E402
from dreamwindow.comfy.pool import BackendPool  # noqa: E402
from dreamwindow.engine.constants import ENGINE_CHECKPOINT  # noqa: E402


def graph(seed: int) -> dict[str, Any]:
    return {
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 1, "cfg": 7.0, "sampler_name": "euler",
                                                  "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                  "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ENGINE_CHECKPOINT}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "quiet lake at dusk", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "bench", "images": ["8", 0]}},
    }


@dataclass
class Cfg:
    url: str
    name: str
    weight: float = 1.0
    max_in_flight: int = 2
    headers: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def spawn_engines(n: int, seconds: float) -> tuple[list[subprocess.Popen], list[str]]:
    procs, urls = [], []
    for _ in range(n):
        port = free_port()
        code = f"from dreamwindow.engine.runner import run_engine_cli; run_engine_cli('127.0.0.1', {port}, {seconds})"
        procs.append(subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    async with aiohttp.ClientSession() as s:
        for url in urls:
            for _ in range(200):
                try:
                    async with s.get(url + "/system_stats") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
    return procs, urls


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(10)


async def naive_run(session: aiohttp.ClientSession, url: str, g: dict) -> bytes:
    """The common approach: POST, then open a WebSocket for this prompt, wait, read history, download."""
    client_id = str(uuid.uuid4())
    async with session.post(url + "/prompt", json={"prompt": g, "client_id": client_id}) as r:
        prompt_id = (await r.json())["prompt_id"]
    async with session.ws_connect(url + f"/ws?clientId={client_id}", max_msg_size=64 << 20) as ws:
        # It may already be done before the socket opened: a naive client that does not check hangs forever.
        async with session.get(url + f"/history/{prompt_id}") as r:
            done = bool(await r.json())
        while not done:
            msg = await asyncio.wait_for(ws.receive(), 10)
            if msg.type is aiohttp.WSMsgType.TEXT:
                m = msg.json()
                d = m.get("data") or {}
                done = m["type"] == "executing" and d.get("node") is None and d.get("prompt_id") == prompt_id
            elif msg.type is not aiohttp.WSMsgType.BINARY:
                raise RuntimeError("socket closed")
    for _ in range(50):
        async with session.get(url + f"/history/{prompt_id}") as r:
            hist = await r.json()
        if hist:
            break
        await asyncio.sleep(0.01)
    img = hist[prompt_id]["outputs"]["9"]["images"][0]
    async with session.get(url + "/view", params=img) as r:
        return await r.read()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def overhead(url: str, rounds: int, per_round: int) -> dict[str, list[float]]:
    lat: dict[str, list[float]] = {"ComfyClient": [], "naive (WS per prompt)": [], "ComfyClient overhead": []}
    client = ComfyClient(url, name="bench")
    await client.start()
    async with aiohttp.ClientSession() as session:
        async def ours() -> None:
            t0 = time.time()
            r = await client.run(graph(random.randrange(2**32)), output_nodes=["9"], deadline=30)
            assert r.images[0].data
            # Client overhead = wall time minus the server's execution (execution_start -> executing null).
            t = r.timings
            lat["ComfyClient overhead"].append(((time.time() - t0) - (t["finished_at"] - t["started_at"])) * 1000)

        async def naive() -> None:
            assert await naive_run(session, url, graph(random.randrange(2**32)))

        for _ in range(3):  # warm-up
            await ours()
            await naive()
        for rnd in range(rounds):
            order = [("ComfyClient", ours), ("naive (WS per prompt)", naive)]
            if rnd % 2:
                order.reverse()
            for name, fn in order:
                for _ in range(per_round):
                    t0 = time.perf_counter()
                    await fn()
                    lat[name].append((time.perf_counter() - t0) * 1000)
    await client.close()
    return lat


async def throughput(urls: list[str], jobs: int, concurrency: int) -> tuple[float, int, int, int]:
    pool = BackendPool([Cfg(u, f"s{i}") for i, u in enumerate(urls)])
    await pool.start()
    sem = asyncio.Semaphore(concurrency)
    ids: list[str] = []
    files: list[tuple[str, str]] = []

    async def one() -> None:
        async with sem:
            r = await pool.run(graph(random.randrange(2**32)), output_nodes=["9"], deadline=120)
            assert r.images and r.images[0].data
            ids.append(r.prompt_id)
            files.append((r.server, r.images[0].filename))

    t0 = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(jobs)), return_exceptions=True)
    elapsed = time.perf_counter() - t0
    await pool.close()
    failed = sum(1 for o in outcomes if isinstance(o, BaseException))
    return jobs / elapsed, failed, len(ids) - len(set(ids)), len(files) - len(set(files))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--jobs-per-round", type=int, default=30)
    ap.add_argument("--total", type=int, default=2000)
    ap.add_argument("--slow-jobs", type=int, default=24)
    args = ap.parse_args()

    procs, urls = await spawn_engines(4, 0.0)
    try:
        lat = await overhead(urls[0], args.rounds, args.jobs_per_round)
        tp1 = await throughput(urls[:1], 400, 4)
        tp4 = await throughput(urls, 400, 8)
        big = await throughput(urls, args.total, 8)
    finally:
        stop(procs)
    procs, urls = await spawn_engines(4, 0.2)
    try:
        slow1 = await throughput(urls[:1], args.slow_jobs, 8)
        slow4 = await throughput(urls, args.slow_jobs, 8)
    finally:
        stop(procs)

    print("\n| client | jobs | median ms | p99 ms |\n|---|---|---|---|")
    for name, values in lat.items():
        if name == "ComfyClient overhead":
            values = values[3:]  # warm-up
        print(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 0.99):.2f} |")
    print("\n| run | jobs/s | failed | duplicate ids | duplicate files |\n|---|---|---|---|---|")
    for name, (rate, failed, dup_ids, dup_files) in [
        ("1 server, 0 s/image", tp1), ("4 servers, 0 s/image", tp4), (f"{args.total} jobs, 4 servers", big),
        ("1 server, 0.2 s/image", slow1), ("4 servers, 0.2 s/image", slow4),
    ]:
        print(f"| {name} | {rate:.1f} | {failed} | {dup_ids} | {dup_files} |")
    print(f"\n4 vs 1 servers when generation dominates: {slow4[0] / slow1[0]:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
