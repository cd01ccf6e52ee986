"""`dreamwindow check`: every problem in the files at once, then what each server says about running them."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import Any, TextIO

from dreamwindow.errors import ConfigError, DreamWindowError, Timeout


def run_check(config_path: Path | None, *, offline: bool = False, out: TextIO | None = None,
              probe_timeout: float = 5.0) -> int:
    """Print problems as FILE:LINE: key: message and a per-server report. 0 when all is well, 2 otherwise."""
    out = out or sys.stdout
    from dreamwindow.config import check_files, find_config, load_config, load_playlist

    path = find_config(config_path)
    problems = check_files(path)
    for problem in problems:
        print(problem, file=out)
    try:
        config = load_config(path)
    except ConfigError:
        print(f"{len(problems)} problem(s) in {path}", file=out)
        return 2
    playlists = []
    files = config.playlist_files()
    for playlist_path in files:
        try:
            playlists.append(load_playlist(playlist_path, default_checkpoint=config.comfyui.checkpoint))
        except ConfigError:
            continue  # already reported by check_files
    print(f"{path}: config {'has problems' if problems else 'OK'}; {len(playlists)} of "
          f"{len(files)} playlist(s) valid", file=out)
    healthy = not problems
    from dreamwindow.store import ImageStore, StoreError

    try:
        ImageStore(config.store.dir, config.store.keep).check_writable()
        print(f"store {config.store.dir}: writable", file=out)
    except StoreError as exc:
        print(f"{path}: store.dir: {exc}", file=out)
        healthy = False
    if not offline:
        healthy = asyncio.run(_probe(config, playlists, out, probe_timeout)) and healthy
    return 0 if healthy else 2


async def _probe(config: Any, playlists: list[Any], out: TextIO, timeout: float) -> bool:
    from dreamwindow.comfy.pool import BackendPool
    from dreamwindow.workflow import build_job

    pool = BackendPool(list(config.comfyui.backends), request_timeout=min(config.comfyui.request_timeout, timeout))
    await pool.start()
    healthy = True
    try:
        try:
            await pool.wait_until_up(timeout=timeout)
        except Timeout:
            pass  # reported per server below
        for status in await pool.status(timeout=timeout):
            if status.reachable:
                queue = "?" if status.queue_remaining is None else status.queue_remaining
                print(f"server {status.name} ({status.url}): reachable, version {status.version or 'unknown'}, "
                      f"queue {queue}, {status.node_classes or 0} node classes", file=out)
            else:
                healthy = False
                print(f"server {status.name} ({status.url}): NOT reachable ({status.last_error or status.state})",
                      file=out)
        rng = random.Random(0)
        for playlist in playlists:
            try:
                job = build_job(playlist, playlist.prompts[0], rng, default_checkpoint=config.comfyui.checkpoint)
            except DreamWindowError as exc:
                print(f"playlist {playlist.name}: cannot build a job: {exc}", file=out)
                healthy = False
                continue
            verdicts = pool.can_run(job.graph)
            able = [name for name, problems in verdicts.items() if problems == []]
            for name, problems in verdicts.items():
                if problems:
                    print(f"playlist {playlist.name}: cannot run on {name}: {'; '.join(problems)}", file=out)
            if able:
                print(f"playlist {playlist.name}: runs on {', '.join(able)}", file=out)
            else:
                healthy = False
                if all(p is None for p in verdicts.values()):
                    print(f"playlist {playlist.name}: unknown (no server reachable)", file=out)
    finally:
        await pool.close()
    return healthy
