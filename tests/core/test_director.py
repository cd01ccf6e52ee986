from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from dreamwindow.director import Director, Rotation
from dreamwindow.errors import ExecutionFailed, NotNew
from dreamwindow.store import ImageStore, StoredImage

PNG = b"\x89PNG\r\n\x1a\n"


def _img(key: str) -> StoredImage:
    return StoredImage(key=key, path=Path(f"/x/{key}.png"), sidecar=Path(f"/x/{key}.json"), meta={})


def test_rotation_counts_ready_and_in_flight() -> None:
    rot = Rotation(lookahead=2)
    assert rot.wanted() == 2
    rot.started()
    rot.started()
    assert rot.wanted() == 0
    rot.finished(_img("a"))
    assert rot.wanted() == 0  # one ready + one in flight
    rot.finished(None)  # a failure frees its slot
    assert rot.wanted() == 1
    assert rot.take_next().key == "a"
    assert rot.take_next() is None
    assert rot.wanted() == 2


class Harness:
    """A director wired to a real store; generation is a coroutine the test steers."""

    def __init__(self, tmp_path: Path, **kw: object) -> None:
        self.store = ImageStore(tmp_path, keep=50)
        self.store.open()
        self.shown: list[str] = []
        self.shown_event = asyncio.Event()
        self.concurrent = 0
        self.max_concurrent = 0
        self.gate: asyncio.Queue[object] = asyncio.Queue()
        self.calls = 0
        self.changed = asyncio.Condition()
        opts = dict(every=30.0, lookahead=2, when_starved="replay", rng=random.Random(3), retry_base=0.05)
        opts.update(kw)
        self.director = Director(self.generate, self.show, self.store, **opts)  # type: ignore[arg-type]

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def generate(self) -> StoredImage:
        self.calls += 1
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        await self._notify()
        try:
            outcome = await self.gate.get()
        finally:
            self.concurrent -= 1
        if isinstance(outcome, Exception):
            raise outcome
        image = await asyncio.to_thread(self.store.save, PNG, {"n": outcome})
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._notify()))
        return image

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    async def show(self, image: StoredImage) -> bool:
        self.shown.append(image.meta.get("n"))
        self.shown_event.set()
        return True

    async def wait_shown(self, count: int, timeout: float = 5.0) -> None:
        async def until() -> None:
            while len(self.shown) < count:
                self.shown_event.clear()
                await self.shown_event.wait()

        await asyncio.wait_for(until(), timeout)


async def test_first_picture_goes_up_at_once_and_lookahead_is_respected(tmp_path: Path) -> None:
    h = Harness(tmp_path, lookahead=2)
    await h.director.start()
    try:
        await asyncio.sleep(0)  # let the generation tasks start
        assert h.calls == 2 and h.concurrent == 2
        h.gate.put_nowait(1)
        await h.wait_shown(1)  # long before the 30 s rotation
        assert h.shown == [1]
        await h.wait_for(lambda: h.calls == 3)
        assert h.max_concurrent == 2
    finally:
        await h.director.stop()


async def test_rotation_shows_each_picture_once_and_never_exceeds_lookahead(tmp_path: Path) -> None:
    h = Harness(tmp_path, every=0.2, lookahead=2)
    await h.director.start()
    try:
        for n in range(1, 7):
            h.gate.put_nowait(n)
        await h.wait_shown(5)
        # Pictures go up in the order they finish; two run at once, so only the set is fixed.
        assert sorted(h.shown[:5]) == [1, 2, 3, 4, 5]
        assert h.max_concurrent <= 2
    finally:
        await h.director.stop()


async def test_failure_keeps_current_picture_and_retries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, lookahead=1, when_starved="hold")
    await h.director.start()
    try:
        h.gate.put_nowait(1)
        await h.wait_shown(1)
        h.gate.put_nowait(ExecutionFailed("sampler exploded", node_id="3", node_type="KSampler"))
        await h.wait_for(lambda: h.calls == 3)  # retried after backoff
        assert h.shown == [1]
        assert "sampler exploded" in caplog.text
        h.gate.put_nowait(2)
        await h.wait_for(lambda: len(h.director.rotation.ready) == 1)
        await h.director._advance()
        assert h.shown == [1, 2]
    finally:
        await h.director.stop()


async def test_starved_replay_shows_a_stored_picture_not_on_screen(tmp_path: Path) -> None:
    h = Harness(tmp_path, lookahead=1, when_starved="replay")
    for n in (10, 11, 12):
        h.store.save(PNG, {"n": n})
    await h.director.start()  # puts one stored picture up at once
    try:
        await h.wait_shown(1)
        for _ in range(3):
            await h.director._advance()  # generation never finishes: starved
        assert len(h.shown) == 4
        assert all(a != b for a, b in zip(h.shown, h.shown[1:]))
        assert set(h.shown) <= {10, 11, 12}
    finally:
        await h.director.stop()


async def test_starved_hold_keeps_picture(tmp_path: Path) -> None:
    h = Harness(tmp_path, lookahead=1, when_starved="hold")
    h.store.save(PNG, {"n": 10})
    h.store.save(PNG, {"n": 11})
    await h.director.start()
    try:
        await h.wait_shown(1)
        await h.director._advance()
        await h.director._advance()
        assert len(h.shown) == 1
    finally:
        await h.director.stop()


async def test_failure_streak_warns_once_and_logs_recovery(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, lookahead=1, when_starved="hold")
    with caplog.at_level("DEBUG", logger="dreamwindow.director"):
        await h.director.start()
        try:
            for attempt in range(3):
                h.gate.put_nowait(ExecutionFailed(f"boom {attempt}"))
                await h.wait_for(lambda n=attempt: h.calls == n + 2)
            h.gate.put_nowait(1)
            await h.wait_shown(1)
        finally:
            await h.director.stop()
    records = [r for r in caplog.records if r.name == "dreamwindow.director"]
    warnings = [r for r in records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "boom 0" in warnings[0].getMessage()
    assert any(r.levelname == "DEBUG" and "boom 2" in r.getMessage() for r in records)
    assert any(r.levelname == "INFO" and "recovered after 3 failure(s)" in r.getMessage() for r in records)


async def test_a_picture_we_already_have_is_no_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, lookahead=1, when_starved="hold")
    with caplog.at_level("DEBUG", logger="dreamwindow.director"):
        await h.director.start()
        try:
            h.gate.put_nowait(NotNew("the server answered from its cache"))
            await h.wait_for(lambda: h.calls == 2)  # asked again after a pause
            h.gate.put_nowait(1)
            await h.wait_shown(1)
        finally:
            await h.director.stop()
    records = [r for r in caplog.records if r.name == "dreamwindow.director"]
    assert not [r for r in records if r.levelname == "WARNING"]
    assert any("no new picture this time" in r.getMessage() for r in records)


async def test_stop_lets_a_rotation_in_progress_finish(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, lookahead=1)
    entered, release = asyncio.Event(), asyncio.Event()
    show = h.show

    async def slow_show(image: StoredImage) -> bool:  # preparing a big picture takes a moment
        entered.set()
        await release.wait()
        return await show(image)

    h.director._show = slow_show
    await h.director.start()
    h.gate.put_nowait(1)
    await asyncio.wait_for(entered.wait(), 5)
    stopping = asyncio.create_task(h.director.stop())
    await asyncio.sleep(0)  # a scheduling yield: stop() runs up to its wait for the rotation
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert h.shown == [1]
    assert "Traceback" not in caplog.text and "raised an exception" not in caplog.text
