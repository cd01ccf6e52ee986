"""The frame loop: pygame-ce on the main thread, crossfading prepared frames; idles at ~0 % CPU.

Frames arrive already decoded, fitted and rotated (dreamwindow.imaging.prepare, off this thread). Per picture the
render thread does only frombuffer + convert (a few ms at 1080p) and, if captions are on, paints the band once.
Per tick of a fade it blits the old screen (opaque) and the new picture as a convert_alpha() surface with a
surface alpha: pygame-ce's own SIMD blitter, the fastest exact crossfade measured (shared/perf-baseline).

Idle, the loop blocks on the frame queue with a timeout and pumps SDL events between waits: pygame.event.wait()
is a pump + SDL_Delay(1) loop (~900 wakeups/s), a queue wait is a real blocking wait.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pygame

from dreamwindow.display.captions import CaptionPainter, StatusPainter
from dreamwindow.display.screen import (
    Snapshots,
    close_screen,
    logical_size,
    open_screen,
    release_memory,
    rotate_surface,
)
from dreamwindow.display.transitions import Fade, alpha_byte, get_easing
from dreamwindow.imaging import PreparedImage

log = logging.getLogger(__name__)

IDLE_WAIT = 0.2  # seconds between event pumps while nothing moves: Esc / window close answer within this
WAITING_COLOUR = (12, 12, 16)  # never a blank screen: a calm dark one until the first picture
WAITING_TEXT = "waiting for the first dream…"  # the status until set_status() says something more precise


class TransitionSettings(Protocol):
    seconds: float
    easing: str


class DisplaySettings(Protocol):
    """What the renderer reads from dreamwindow.config.DisplayConfig."""

    fullscreen: bool
    size: tuple[int, int]
    rotate: int
    transition: TransitionSettings
    caption: bool
    fps: int


@dataclass(frozen=True)
class Frame:
    image: PreparedImage
    caption: str | None
    key: str  # identifies the picture (store id, filename)

    def __post_init__(self) -> None:
        # A caption comes from a prompt that may have been a number in a hand-edited sidecar; the render thread
        # must only ever see text.
        if self.caption is not None and not isinstance(self.caption, str):
            object.__setattr__(self, "caption", str(self.caption))


@dataclass(frozen=True)
class RenderState:
    t: float  # linear transition progress 0..1; 1 when idle
    alpha: float  # eased progress 0..1 (the weight of the new picture)
    from_key: str | None
    to_key: str | None


_WAKE = object()  # queued by request_stop() and set_status() so a blocked wait returns at once
OnFrame = Callable[[pygame.Surface, RenderState], None]


class Renderer:
    def __init__(
        self,
        display: DisplaySettings,
        *,
        headless: bool,
        clock: Callable[[], float] = time.monotonic,
        snapshot_dir: Path | None = None,
        on_frame: OnFrame | None = None,
    ) -> None:
        self._display = display
        self._headless = headless
        self._clock = clock
        self._snapshot_dir = snapshot_dir
        self._on_frame = on_frame
        self._easing = get_easing(display.transition.easing)
        self._seconds = float(display.transition.seconds)
        self._tick = 1.0 / max(1, int(display.fps))
        self.rotate = int(display.rotate)
        self.physical_size: tuple[int, int] = (int(display.size[0]), int(display.size[1]))  # open() has the truth
        self.size: tuple[int, int] = logical_size(self.physical_size, self.rotate)
        self.on_quit: Callable[[], None] | None = None
        self.frames_drawn = 0
        self.last_tick = time.monotonic()  # the loop's heartbeat, read by the systemd watchdog from another thread
        # SimpleQueue and a plain flag: request_stop() may run inside a signal handler on this very thread, which
        # must never wait for a lock the interrupted code holds (queue.Queue.put and Event.set take one).
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending: Frame | None = None
        self._stopping = False
        self._screen: pygame.Surface | None = None
        self._captions: CaptionPainter | None = None
        self._status_painter: StatusPainter | None = None
        # The waiting screen's text: written by set_status() from any thread (a plain attribute store is atomic),
        # drawn by the loop while no picture has been taken; _status_drawn is what the screen shows now.
        self._status: str = WAITING_TEXT
        self._status_drawn: str | None = None
        self._pictures_up = False
        self._warned_caption = False
        self._snapshots: Snapshots | None = None
        # Fade state: _from is a copy of the screen when the fade began, _to the new picture (opaque) and
        # _to_alpha the same pixels as a per-pixel-alpha surface for the fast blend. Idle keeps none of them.
        self._from: pygame.Surface | None = None
        self._to: pygame.Surface | None = None
        self._to_alpha: pygame.Surface | None = None
        self._fade: Fade | None = None
        self._from_key: str | None = None
        self._to_key: str | None = None
        self._warned_size = False
        self._warned_rotate = False

    # ---- lifecycle (main thread) -----------------------------------------------------------------------------

    def open(self) -> tuple[int, int]:
        """Open the screen; returns the logical size (what to pass to imaging.prepare with rotate=display.rotate)."""
        self._screen = open_screen(
            fullscreen=self._display.fullscreen, size=tuple(self._display.size), headless=self._headless
        )
        self.physical_size = self._screen.get_size()
        self.size = logical_size(self.physical_size, self.rotate)
        if self._display.caption:
            self._captions = CaptionPainter(self.size, self.rotate)
        if self._snapshot_dir is not None:
            self._snapshots = Snapshots(self._snapshot_dir)
        self._status_painter = StatusPainter(self.size, self.rotate)
        self._draw_waiting()
        return self.size

    def close(self) -> None:
        if self._screen is None:
            return
        self._from = self._to = self._to_alpha = self._screen = None
        self._captions = self._status_painter = None
        close_screen()

    # ---- thread-safe API -------------------------------------------------------------------------------------

    def submit(self, frame: Frame) -> None:
        """Queue a prepared frame (any thread); the loop starts a crossfade to it as soon as it takes it."""
        self._queue.put(frame)

    def set_status(self, text: str | None) -> None:
        """Any thread: the dim line on the waiting screen (None: the default). Ignored once a picture is up."""
        if self._pictures_up:
            return
        self._status = WAITING_TEXT if text is None or not str(text).strip() else str(text)
        self._queue.put(_WAKE)

    def request_stop(self) -> None:
        """Any thread, or a signal handler: the loop finishes its current step and run() returns."""
        self._stopping = True
        self._queue.put(_WAKE)

    @property
    def stopped(self) -> bool:
        return self._stopping

    @property
    def busy(self) -> bool:  # a crossfade is running
        return self._fade is not None

    # ---- the loop --------------------------------------------------------------------------------------------

    def run(self, on_quit: Callable[[], None] | None = None) -> None:
        """Main thread: draw until request_stop(), Esc/q or window close. Closes the screen on the way out."""
        if on_quit is not None:
            self.on_quit = on_quit
        if self._screen is None:
            self.open()
        try:
            while not self._stopping:
                started = time.monotonic()
                self.run_once()
                if self._stopping:
                    break
                # Fading: sleep out the rest of this tick. Idle: block until a frame comes or it is time to pump.
                timeout = max(0.0, self._tick - (time.monotonic() - started)) if self.busy else IDLE_WAIT
                self._wait(timeout)
        finally:
            self.close()

    def run_once(self, now: float | None = None) -> bool:
        """One loop iteration without blocking: events, new frames, one fade step. True if a frame was drawn."""
        assert self._screen is not None, "open() first"
        self._handle_events()
        if self._stopping:
            return False
        now = self._clock() if now is None else now
        frame = self._take_frame()
        if frame is not None:
            self._pictures_up = True
            self._start_fade(frame, now)
        elif not self._pictures_up and self._status != self._status_drawn:
            self._draw_waiting()
            return True
        if self._fade is None:
            return False
        self._draw_fade(now)
        return True

    def _wait(self, timeout: float) -> None:
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return
        if isinstance(item, Frame):
            self._keep_newest(item)

    def _take_frame(self) -> Frame | None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Frame):
                self._keep_newest(item)
        frame, self._pending = self._pending, None
        return frame

    def _keep_newest(self, frame: Frame) -> None:
        if self._pending is not None:
            log.debug("frame %s superseded by %s before it was shown", self._pending.key, frame.key)
        self._pending = frame

    def _handle_events(self) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
            ):
                log.info("quit requested from the display (%s)", pygame.event.event_name(event.type))
                self._stopping = True
                if self.on_quit is not None:
                    self.on_quit()
                return
            if event.type in (pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE) and self._fade is None:
                pygame.display.flip()  # the window surface still holds the picture; just present it again

    # ---- drawing ---------------------------------------------------------------------------------------------

    def _draw_waiting(self) -> None:
        """The calm screen before the first picture: never blank, always saying what it waits for."""
        assert self._screen is not None and self._status_painter is not None
        status = self._status
        try:
            self._status_painter.paint(self._screen, WAITING_COLOUR, status)
        except Exception:  # text is decoration; the loop must live on without it
            log.warning("could not draw the waiting text %r", status, exc_info=True)
            self._screen.fill(WAITING_COLOUR)
        self._status_drawn = status
        self._present(RenderState(1.0, 1.0, None, None))

    def _start_fade(self, frame: Frame, now: float) -> None:
        assert self._screen is not None
        target = self._make_surface(frame)
        # Fade from whatever is on screen now, so a picture arriving mid-fade continues without a pop.
        self._from = self._screen.copy()
        self._to, self._to_alpha = target, target.convert_alpha()
        self._from_key, self._to_key = self._to_key, frame.key
        self._fade = Fade(now, self._seconds, self._easing)
        log.debug("crossfade %s -> %s over %.2fs", self._from_key, self._to_key, self._seconds)

    def _make_surface(self, frame: Frame) -> pygame.Surface:
        image = frame.image
        surface = pygame.image.frombuffer(image.rgb, image.size, "RGB")  # no copy; convert() below copies
        delta = (self.rotate - image.rotate) % 360
        if delta:
            # Only if the caller prepared without rotate=display.rotate: correct, but costs the render thread.
            if not self._warned_rotate:
                log.info("frames arrive unrotated; rotating on the render thread (pass rotate= to prepare())")
                self._warned_rotate = True
            surface = rotate_surface(surface, delta)
        if surface.get_size() != self.physical_size:
            if not self._warned_size:
                log.warning(
                    "frame %s is %dx%d but the screen is %dx%d; centring it unscaled (prepare at Renderer.size)",
                    frame.key, *surface.get_size(), *self.physical_size,
                )
                self._warned_size = True
            canvas = pygame.Surface(self.physical_size)
            canvas.blit(surface, surface.get_rect(center=canvas.get_rect().center))
            surface = canvas
        target = surface.convert()
        if self._captions is not None and frame.caption:
            self._paint_caption(target, frame)
        return target

    def _paint_caption(self, target: pygame.Surface, frame: Frame) -> None:
        assert self._captions is not None
        try:
            self._captions.paint(target, frame.caption)
        except Exception:  # a caption must never kill the render thread: show the picture without it
            if not self._warned_caption:
                log.warning("caption of %s not drawn; showing the picture without it", frame.key, exc_info=True)
                self._warned_caption = True
            else:
                log.debug("caption of %s not drawn", frame.key, exc_info=True)

    def _draw_fade(self, now: float) -> None:
        assert self._screen is not None and self._fade is not None and self._to is not None
        t, eased = self._fade.t(now), self._fade.eased(now)
        if t >= 1.0:
            self._screen.blit(self._to, (0, 0))  # land exactly on the new picture
            self._present(RenderState(1.0, 1.0, self._from_key, self._to_key))
            self._finish_fade()
            return
        assert self._from is not None and self._to_alpha is not None
        self._screen.blit(self._from, (0, 0))
        alpha = alpha_byte(eased)
        if alpha:
            self._to_alpha.set_alpha(alpha)
            self._screen.blit(self._to_alpha, (0, 0))
        self._present(RenderState(t, eased, self._from_key, self._to_key))

    def _finish_fade(self) -> None:
        # The screen now holds the picture and the next fade starts from a copy of it: keep no other surface.
        self._fade = None
        self._from = self._to = self._to_alpha = None
        if self._snapshots is not None and self._screen is not None:
            self._snapshots.save(self._screen)
        release_memory()

    def _present(self, state: RenderState) -> None:
        assert self._screen is not None
        pygame.display.flip()
        self.frames_drawn += 1
        if self._on_frame is not None:
            self._on_frame(self._screen, state)
