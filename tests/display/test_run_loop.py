"""run() on the test's main thread with the real clock; other threads submit frames and stop it, as the app does."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from display_helpers import frame, make_display, screen_rgb, solid

from dreamwindow.display.renderer import Renderer, RenderState

SIZE = (64, 48)


def test_run_shows_submitted_frames_and_stops_on_request() -> None:
    done = {"a": threading.Event(), "b": threading.Event()}
    states: list[RenderState] = []
    last_rgb: list[bytes] = []

    def on_frame(surface: object, state: RenderState) -> None:
        states.append(state)
        if state.t == 1.0 and state.to_key in done:
            last_rgb.append(screen_rgb(surface))  # type: ignore[arg-type]
            done[state.to_key].set()

    renderer = Renderer(make_display(seconds=0.15, fps=60), headless=True, on_frame=on_frame)
    renderer.open()
    errors: list[str] = []

    def feeder() -> None:
        renderer.submit(frame(solid(SIZE, (255, 0, 0)), "a"))
        if not done["a"].wait(10):
            errors.append("a never finished")
        renderer.submit(frame(solid(SIZE, (0, 0, 255)), "b"))
        if not done["b"].wait(10):
            errors.append("b never finished")
        renderer.request_stop()

    thread = threading.Thread(target=feeder, daemon=True)
    thread.start()
    started = time.monotonic()
    renderer.run()
    thread.join(5)
    assert not errors
    assert last_rgb[-1] == solid(SIZE, (0, 0, 255)).rgb
    mid = [s for s in states if 0 < s.t < 1]
    assert mid, "the fades drew intermediate frames"
    # Paced at fps: two 0.15 s fades at 60 fps are ~20 frames, far from a busy loop.
    assert len(states) < 60
    assert time.monotonic() - started < 10


def test_request_stop_wakes_an_idle_loop_at_once() -> None:
    renderer = Renderer(make_display(), headless=True)
    renderer.open()
    quits: list[bool] = []
    timer = threading.Timer(0.05, renderer.request_stop)
    timer.start()
    started = time.monotonic()
    renderer.run(on_quit=lambda: quits.append(True))
    elapsed = time.monotonic() - started
    timer.join()
    assert elapsed < 0.2 + 0.5  # woken by the queue, not left waiting out the idle timeout
    assert renderer.stopped and quits == []  # on_quit is for quits from the display, not our own stop
    renderer.close()  # idempotent after run() closed it


def test_idle_loop_costs_almost_no_cpu() -> None:
    renderer = Renderer(make_display(), headless=True)
    renderer.open()
    timer = threading.Timer(1.0, renderer.request_stop)
    timer.start()
    cpu, wall = time.process_time(), time.monotonic()
    renderer.run()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    timer.join()
    # The bench measures ~0.0x %; this generous bound still catches event.wait (~2 %) x 5 or any busy loop.
    assert cpu / wall < 0.1, (cpu, wall)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_request_stop_from_a_signal_handler() -> None:
    """The app stops the renderer from its SIGTERM handler, which runs on the render (main) thread itself."""
    renderer = Renderer(make_display(), headless=True)
    renderer.open()
    previous = signal.signal(signal.SIGALRM, lambda *_: renderer.request_stop())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        started = time.monotonic()
        renderer.run()
        assert time.monotonic() - started < 2.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert renderer.stopped
