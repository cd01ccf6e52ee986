from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dreamwindow.store import ImageStore, StoreError

PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"y" * 32


def test_save_writes_image_and_sidecar(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s", keep=10, clock=lambda: 1_700_000_000.0)
    store.open()
    stored = store.save(PNG, {"prompt": "a misty forest", "seed": 7})
    assert stored.path.read_bytes() == PNG
    assert stored.path.suffix == ".png"
    meta = json.loads(stored.sidecar.read_text())
    assert meta["prompt"] == "a misty forest" and meta["seed"] == 7
    assert meta["file"] == stored.path.name
    assert meta["stored_at"] == 1_700_000_000.0
    assert not list((tmp_path / "s").glob(".*.tmp"))


def test_suffix_follows_content(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    assert store.save(JPEG, {}).path.suffix == ".jpg"


def test_keeps_newest_n(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=3)
    store.open()
    keys = [store.save(PNG, {"n": i}).key for i in range(5)]
    remaining = store.recent()
    assert [img.key for img in remaining] == list(reversed(keys[2:]))
    assert [img.meta["n"] for img in remaining] == [4, 3, 2]
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_order_survives_clock_going_backwards(tmp_path: Path) -> None:
    times = iter([2_000_000_000.0, 1_000_000_000.0])
    store = ImageStore(tmp_path, keep=10, clock=lambda: next(times))
    store.open()
    first = store.save(PNG, {"n": 1})
    second = store.save(PNG, {"n": 2})
    assert [img.key for img in store.recent()] == [second.key, first.key]


def test_reopen_continues_sequence_and_cleans_interrupted_writes(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    first = store.save(PNG, {"n": 1})
    (tmp_path / ".000000009-x.png.tmp").write_bytes(b"partial")
    orphan = tmp_path / "000000005-20260101-000000.png"
    orphan.write_bytes(PNG)  # image renamed into place, crash before its sidecar
    again = ImageStore(tmp_path, keep=10)
    again.open()
    assert not orphan.exists()
    assert not list(tmp_path.glob(".*.tmp"))
    second = again.save(PNG, {"n": 2})
    assert second.key > first.key
    assert [img.meta["n"] for img in again.recent()] == [2, 1]


def test_pick_replay_never_repeats_screen_and_prefers_not_recent(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    a, b, c = (store.save(PNG, {"n": n}) for n in range(3))
    rng = random.Random(1)
    for _ in range(20):
        assert store.pick_replay(rng, on_screen=a.key, recent={b.key}).key == c.key
        assert store.pick_replay(rng, on_screen=a.key, recent={a.key, b.key, c.key}).key in {b.key, c.key}
    only = ImageStore(tmp_path / "one", keep=10)
    only.open()
    single = only.save(PNG, {})
    assert only.pick_replay(rng, on_screen=single.key) is None
    assert only.pick_replay(rng).key == single.key


def test_pick_replay_empty_store(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    assert store.pick_replay(random.Random(0)) is None


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ImageStore(tmp_path, keep=0)


def test_sidecar_that_is_not_an_object_is_ignored_with_one_warning(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    good = store.save(PNG, {"prompt": "fine"})
    bad = store.save(PNG, {"prompt": "soon broken"})
    bad.sidecar.write_text("[]")
    for _ in range(3):
        assert [img.key for img in store.recent()] == [good.key]
    assert [r.getMessage() for r in caplog.records].count(
        f"ignoring {bad.path.name} in the store: its sidecar is not a JSON object") == 1


def test_unusable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match=r"the picture folder .*afile/pictures \(store.dir\) is not usable"):
        ImageStore(blocker / "pictures", keep=10).open()


def test_write_failure_while_running_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    store = ImageStore(folder, keep=10)
    store.open()
    folder.rmdir()
    folder.write_text("someone replaced the folder with a file")
    with pytest.raises(StoreError, match="cannot write .* \\(store.dir\\)"):
        store.save(PNG, {})


def test_quarantine_takes_a_picture_out_of_rotation(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, keep=10)
    store.open()
    keep = store.save(PNG, {"n": 1})
    broken = store.save(b"garbage", {"n": 2})
    store.quarantine(broken, "not a picture")
    assert [img.key for img in store.recent()] == [keep.key]
    assert (tmp_path / (broken.path.name + ".bad")).exists()
    assert (tmp_path / (broken.sidecar.name + ".bad")).exists()
