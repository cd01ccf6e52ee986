from __future__ import annotations

import logging
import os
import random
import textwrap
from pathlib import Path

import pytest

from dreamwindow.catalog import Catalog, NothingToPlay
from dreamwindow.errors import ConfigError


def write(path: Path, text: str, *, bump: int = 0) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    if bump:  # a distinct mtime, as a later save by a person would have
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))
    return path


def playlist(path: Path, *prompts: str, order: str = "sequence", bump: int = 0) -> Path:
    items = "\n".join(f"  - {p}" for p in prompts)
    return write(path, f"order: {order}\ncheckpoint: x.safetensors\nprompts:\n{items}\n", bump=bump)


def texts(catalog: Catalog, n: int) -> list[str]:
    return [catalog.next_item()[1].text for _ in range(n)]


def test_playlists_take_turns(tmp_path: Path) -> None:
    a = playlist(tmp_path / "a.yaml", "a1", "a2")
    b = playlist(tmp_path / "b.yaml", "b1")
    catalog = Catalog([a, b], rng=random.Random(0))
    catalog.load()
    assert texts(catalog, 5) == ["a1", "b1", "a2", "b1", "a1"]


def test_folder_source_follows_files_coming_and_going(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    playlist(folder / "a.yaml", "a1")
    catalog = Catalog([folder], rng=random.Random(0))
    catalog.load()
    assert texts(catalog, 2) == ["a1", "a1"]
    playlist(folder / "b.yaml", "b1")
    assert sorted(texts(catalog, 2)) == ["a1", "b1"]
    (folder / "a.yaml").unlink()  # removed from the folder: it leaves the rotation
    assert texts(catalog, 3) == ["b1", "b1", "b1"]


def test_edit_is_picked_up(tmp_path: Path) -> None:
    a = playlist(tmp_path / "a.yaml", "old")
    catalog = Catalog([a], rng=random.Random(0))
    catalog.load()
    assert texts(catalog, 1) == ["old"]
    playlist(a, "new", bump=5)
    assert texts(catalog, 2) == ["new", "new"]


def test_broken_edit_keeps_last_good_and_is_reported_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a = playlist(tmp_path / "a.yaml", "good")
    catalog = Catalog([a], rng=random.Random(0))
    catalog.load()
    write(a, "order: sequence\nprompts:\n  - fine\nstepz: 3\n", bump=5)
    with caplog.at_level(logging.ERROR):
        assert texts(catalog, 3) == ["good", "good", "good"]
    reports = [r for r in caplog.records if "keeping the last good version" in r.getMessage()]
    assert len(reports) == 1
    assert f"{a}:4" in reports[0].getMessage() and "stepz" in reports[0].getMessage()
    playlist(a, "fixed", bump=10)
    assert texts(catalog, 1) == ["fixed"]


def test_set_aside_until_file_changes(tmp_path: Path) -> None:
    a = playlist(tmp_path / "a.yaml", "bad", "good")
    catalog = Catalog([a], rng=random.Random(0))
    catalog.load()
    pl, item = catalog.next_item()
    assert item.text == "bad"
    catalog.set_aside(pl, item, "node 4 input ckpt_name: not available")
    assert texts(catalog, 3) == ["good", "good", "good"]
    playlist(a, "bad", "good", bump=5)  # saved again: everything gets another chance
    assert texts(catalog, 2) == ["bad", "good"]


def test_nothing_to_play_when_all_set_aside(tmp_path: Path) -> None:
    a = playlist(tmp_path / "a.yaml", "only")
    catalog = Catalog([a], rng=random.Random(0))
    catalog.load()
    pl, item = catalog.next_item()
    catalog.set_aside(pl, item, "rejected")
    with pytest.raises(NothingToPlay):
        catalog.next_item()


def test_workflow_file_change_reloads(tmp_path: Path) -> None:
    wf = write(tmp_path / "wf.json", '{"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, '
               '"batch_size": 1, "color": 0}}, "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], '
               '"filename_prefix": "x"}}}')
    a = write(tmp_path / "a.yaml", """
        workflow: wf.json
        bindings: {seed: {to: "1.color", modulo: 16777216}}
        prompts: [colour]
        """)
    catalog = Catalog([a], rng=random.Random(0))
    catalog.load()
    pl, item = catalog.next_item()
    catalog.set_aside(pl, item, "rejected by the server")
    with pytest.raises(NothingToPlay):
        catalog.next_item()
    write(wf, wf.read_text().replace('"x"', '"y"'), bump=5)
    assert catalog.next_item()[1].text == "colour"


def test_load_fails_only_when_nothing_loads(tmp_path: Path) -> None:
    good = playlist(tmp_path / "good.yaml", "fine")
    bad = write(tmp_path / "bad.yaml", "prompts: [unclosed\n")
    catalog = Catalog([good, bad], rng=random.Random(0))
    catalog.load()
    assert texts(catalog, 2) == ["fine", "fine"]
    with pytest.raises(ConfigError) as info:
        Catalog([bad], rng=random.Random(0)).load()
    assert str(bad) in str(info.value)
