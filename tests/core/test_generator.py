"""The generator against the built-in engine over real sockets: one picture from playlist item to store."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from dreamwindow.catalog import Catalog, NothingToPlay
from dreamwindow.comfy.pool import BackendPool
from dreamwindow.config import BackendConfig
from dreamwindow.engine import ENGINE_CHECKPOINT, DreamEngine, EngineSettings
from dreamwindow.errors import Rejected
from dreamwindow.generator import Duplicate, Generator
from dreamwindow.store import ImageStore


@pytest.fixture
async def engine(tmp_path: Path):
    eng = DreamEngine(EngineSettings(seconds_per_image=0.02), output_dir=tmp_path / "engine-out")
    await eng.start("127.0.0.1", 0)
    yield eng
    await eng.stop()


@pytest.fixture
async def pool(engine: DreamEngine):
    p = BackendPool([BackendConfig(url=engine.url, name="engine-a")], request_timeout=5)
    await p.start()
    await p.wait_until_up(timeout=5)
    yield p
    await p.close()


def make(tmp_path: Path, pool: BackendPool, body: str) -> tuple[Generator, ImageStore, Catalog]:
    path = tmp_path / "forest.yaml"
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    store = ImageStore(tmp_path / "store", keep=10)
    store.open()
    rng = random.Random(5)
    catalog = Catalog([path], rng=rng)
    catalog.load()
    gen = Generator(pool, store, catalog, timeout=30, rng=rng, default_checkpoint=ENGINE_CHECKPOINT)
    return gen, store, catalog


async def test_generates_and_stores_with_sidecar(tmp_path: Path, pool: BackendPool) -> None:
    gen, store, _ = make(tmp_path, pool, """
        steps: 2
        size: 96x64
        prompts:
          - a {misty|foggy} forest at dawn
        """)
    stored = await gen.generate()
    with Image.open(stored.path) as im:
        assert im.size == (96, 64)
    meta = json.loads(stored.sidecar.read_text())
    assert meta["prompt"] in ("a misty forest at dawn", "a foggy forest at dawn")
    assert meta["playlist"] == "forest" and meta["workflow"] == "default"
    assert meta["server"] == "engine-a" and meta["checkpoint"] == ENGINE_CHECKPOINT
    assert isinstance(meta["seed"], int) and meta["negative"] == ""
    assert meta["timings"]["total_seconds"] >= 0 and meta["prompt_id"]
    second = await gen.generate()
    assert second.path.read_bytes() != stored.path.read_bytes()  # a fresh seed, a new picture
    assert [img.key for img in store.recent()] == [second.key, stored.key]


async def test_fixed_seed_is_not_shown_as_new(tmp_path: Path, pool: BackendPool,
                                             caplog: pytest.LogCaptureFixture) -> None:
    gen, store, _ = make(tmp_path, pool, """
        steps: 2
        size: 64x64
        prompts:
          - {text: a still lake, seed: 42}
        """)
    await gen.generate()
    with pytest.raises(Duplicate):
        await gen.generate()  # the server answers from its cache: nothing new to show
    assert len(store.recent()) == 1
    assert "new seed" not in caplog.text  # a fixed seed is not retried: it would come back the same


async def test_rejected_item_is_set_aside(tmp_path: Path, pool: BackendPool, engine: DreamEngine) -> None:
    gen, store, catalog = make(tmp_path, pool, """
        steps: 2
        size: 64x64
        order: sequence
        prompts:
          - a broken one
          - a good one
        """)
    engine.faults.reject_prompts = 1
    with pytest.raises(Rejected) as info:
        await gen.generate()
    assert info.value.node_errors, "the rejection names the node and input"
    stored = await gen.generate()
    assert stored.meta["prompt"] == "a good one"
    assert (await gen.generate()).meta["prompt"] == "a good one"  # the broken one stays aside
    catalog.set_aside(*catalog.next_item(), "also broken")
    with pytest.raises(NothingToPlay):
        await gen.generate()


async def test_undecodable_image_is_retried_once_with_new_seed(tmp_path: Path, pool: BackendPool,
                                                               engine: DreamEngine) -> None:
    gen, store, _ = make(tmp_path, pool, """
        steps: 2
        size: 64x64
        prompts: [a desert at noon]
        """)
    engine.faults.view_corrupt = 1
    stored = await gen.generate()
    with Image.open(stored.path) as im:
        im.verify()
    assert len(store.recent()) == 1
