"""Pure helpers of the display: rotation geometry and caption wrapping."""

from __future__ import annotations

import pytest

from dreamwindow.display.captions import ELLIPSIS, wrap
from dreamwindow.display.screen import logical_size, rect_to_physical

LOGICAL = (40, 80)  # a portrait picture on an 80x40 panel at 90/270


@pytest.mark.parametrize(
    ("rotate", "logical", "rect", "physical"),
    [
        (0, (80, 40), (0, 30, 80, 10), (0, 30, 80, 10)),
        (180, (80, 40), (0, 30, 80, 10), (0, 0, 80, 10)),  # bottom band -> top of the framebuffer
        (90, LOGICAL, (0, 70, 40, 10), (0, 0, 10, 40)),  # bottom band -> left edge (top went right)
        (270, LOGICAL, (0, 70, 40, 10), (70, 0, 10, 40)),  # bottom band -> right edge (top went left)
        (90, LOGICAL, (0, 0, 40, 5), (75, 0, 5, 40)),  # top edge -> right edge at 90
        (270, LOGICAL, (0, 0, 40, 5), (0, 0, 5, 40)),
        (90, LOGICAL, (0, 0, 1, 1), (79, 0, 1, 1)),  # top-left corner -> top-right at 90
        (270, LOGICAL, (0, 0, 1, 1), (0, 39, 1, 1)),  # top-left corner -> bottom-left at 270
    ],
)
def test_rect_to_physical(rotate: int, logical: tuple[int, int], rect: tuple[int, ...],
                          physical: tuple[int, ...]) -> None:
    assert rect_to_physical(rect, logical, rotate) == physical  # type: ignore[arg-type]


@pytest.mark.parametrize(("rotate", "size"), [(0, (80, 40)), (90, (40, 80)), (180, (80, 40)), (270, (40, 80))])
def test_logical_size(rotate: int, size: tuple[int, int]) -> None:
    assert logical_size((80, 40), rotate) == size


def fits(width: int):  # type: ignore[no-untyped-def]
    return lambda s: len(s) <= width


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("a misty forest", 40, ["a misty forest"]),
        ("a misty pine forest at dawn", 14, ["a misty pine", "forest at dawn"]),
        ("a misty pine forest at dawn", 12, ["a misty pine", "forest at" + ELLIPSIS]),
        ("", 10, []),
        ("   ", 10, []),
    ],
)
def test_wrap(text: str, width: int, lines: list[str]) -> None:
    got = wrap(text, fits(width))
    assert got == lines
    assert all(len(line) <= width for line in got)


def test_wrap_cuts_with_an_ellipsis_after_two_lines() -> None:
    got = wrap("one two three four five six seven eight nine ten", fits(10))
    assert len(got) == 2 and got[-1].endswith(ELLIPSIS) and all(len(line) <= 10 for line in got)


def test_wrap_shortens_a_word_wider_than_the_screen() -> None:
    got = wrap("supercalifragilistic", fits(8))
    assert len(got) == 1 and len(got[0]) <= 8 and got[0].startswith("super") and got[0].endswith(ELLIPSIS)
