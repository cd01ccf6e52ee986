"""`dreamwindow once`: one picture from the configured playlists, written to a file (and kept in the store)."""

from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path
from typing import Any


async def generate_once(config: Any, output: Path, *, wait_for_server: float = 30.0) -> dict[str, Any]:
    from dreamwindow.catalog import Catalog
    from dreamwindow.comfy.pool import BackendPool
    from dreamwindow.generator import Generator
    from dreamwindow.store import ImageStore

    rng = random.Random()
    store = ImageStore(config.store.dir, config.store.keep)
    await asyncio.to_thread(store.open)
    catalog = Catalog(list(config.playlists), rng=rng, random_start=True)
    catalog.load()
    pool = BackendPool(list(config.comfyui.backends), request_timeout=config.comfyui.request_timeout)
    await pool.start()
    try:
        await pool.wait_until_up(timeout=wait_for_server)
        generator = Generator(pool, store, catalog, timeout=config.comfyui.timeout, rng=rng,
                              default_checkpoint=config.comfyui.checkpoint)
        stored = await generator.generate()
    finally:
        await pool.close()
    output = output.with_suffix(stored.path.suffix) if output.suffix.lower() != stored.path.suffix else output
    await asyncio.to_thread(shutil.copyfile, stored.path, output)
    return {**stored.meta, "output": str(output)}
