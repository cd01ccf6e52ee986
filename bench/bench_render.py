"""Renderer benchmarks, run by hand: ``python bench/bench_render.py [--rounds 7] [--idle-seconds 5]``.

Interleaved rounds (as in the perf baseline: this kind of VM drifts 20-50 % between minutes, so candidates run
round-robin and we report the median per candidate):
1. crossfade cost per frame at 1080p: the renderer's approach (A convert(), B convert_alpha() + set_alpha), the
   naive one (A, B convert(), B.set_alpha), and our Renderer.run_once() end to end, over whole 60-frame fades;
2. idle CPU (process time / wall time) and wakeups/s of our Renderer.run() vs a pygame.event.wait(1000) loop;
3. imaging.prepare() for a 1024x1024 PNG (and JPEG) to 1920x1080.
Prints a markdown table. SDL_VIDEODRIVER=dummy: display.flip() is a no-op, so no present cost is included.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from dreamwindow.display.renderer import Frame, Renderer  # noqa: E402
from dreamwindow.imaging import PreparedImage, prepare  # noqa: E402

W, H = 1920, 1080
FADE_FRAMES = 60


def display_cfg(seconds: float = 4.0) -> SimpleNamespace:
    return SimpleNamespace(fullscreen=False, size=(W, H), rotate=0, caption=False, fps=30,
                           transition=SimpleNamespace(seconds=seconds, easing="linear"))


def test_picture(size: tuple[int, int], seed: int) -> Image.Image:
    """Gradients + soft blobs + noise, like the baseline's generator but Pillow-only."""
    w, h = size
    grad = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40 + seed * 7).filter(ImageFilter.GaussianBlur(1))
    bands = [grad, radial, noise] if seed % 2 else [noise, grad, radial]
    return Image.merge("RGB", bands)


def fade_alpha(i: int) -> int:
    return round(255 * ((i % FADE_FRAMES) + 1) / (FADE_FRAMES + 1))  # 4..251: no SDL special cases


def cpu_and_switches() -> tuple[float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_nvcsw + r.ru_nivcsw


def bench_crossfade(rounds: int) -> dict[str, list[float]]:
    clock = SimpleNamespace(now=0.0)
    renderer = Renderer(display_cfg(4.0), headless=True, clock=lambda: clock.now)
    renderer.open()
    screen = pygame.display.get_surface()
    a_img = PreparedImage((W, H), test_picture((W, H), 1).tobytes())
    b_img = PreparedImage((W, H), test_picture((W, H), 2).tobytes())
    a = pygame.image.frombuffer(a_img.rgb, (W, H), "RGB").convert()
    b = pygame.image.frombuffer(b_img.rgb, (W, H), "RGB").convert()
    b_alpha = b.convert_alpha()

    def chosen() -> None:
        for i in range(FADE_FRAMES):
            screen.blit(a, (0, 0))
            b_alpha.set_alpha(fade_alpha(i))
            screen.blit(b_alpha, (0, 0))
            pygame.display.flip()

    def naive() -> None:
        for i in range(FADE_FRAMES):
            screen.blit(a, (0, 0))
            b.set_alpha(fade_alpha(i))
            screen.blit(b, (0, 0))
            pygame.display.flip()
        b.set_alpha(None)

    flip = [a_img, b_img]

    def renderer_loop() -> None:
        # A full fade through the real loop (queue, events, easing, blits, flip); the per-picture setup
        # (frombuffer + convert + convert_alpha + screen copy) is included once per 60 frames.
        renderer.submit(Frame(flip[0], None, str(clock.now)))
        flip.reverse()
        for _ in range(FADE_FRAMES):
            renderer.run_once()
            clock.now += 4.0 / (FADE_FRAMES + 1)
        clock.now += 4.0
        renderer.run_once()

    cases: dict[str, Callable[[], None]] = {
        "A convert() + B convert_alpha().set_alpha(a) (chosen)": chosen,
        "naive: A, B convert(), B.set_alpha(a)": naive,
        "Renderer.run_once() end to end, per fade frame": renderer_loop,
    }
    results: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            results[name].append((time.perf_counter() - t0) * 1000 / FADE_FRAMES)
    renderer.close()
    return results


def idle_round(kind: str, seconds: float) -> tuple[float, float]:
    if kind == "renderer":
        renderer = Renderer(display_cfg(), headless=True)
        renderer.open()
        renderer.submit(Frame(PreparedImage((W, H), test_picture((W, H), 3).tobytes()), None, "x"))
        renderer._seconds = 0.0  # show it at once; we measure the idle loop afterwards
        renderer.run_once()
        end: list[tuple[float, int, float]] = []

        def stop() -> None:  # sample before run() tears the display down, so close() is not counted
            end.append((*cpu_and_switches(), time.monotonic()))
            renderer.request_stop()

        timer = threading.Timer(seconds, stop)
        cpu0, sw0 = cpu_and_switches()
        wall0 = time.monotonic()
        timer.start()
        renderer.run()
        timer.join()
        cpu1, sw1, wall1 = end[0]
        return 100 * (cpu1 - cpu0) / (wall1 - wall0), (sw1 - sw0) / (wall1 - wall0)
    else:
        pygame.display.init()
        pygame.display.set_mode((W, H))
        cpu0, sw0 = cpu_and_switches()
        wall0 = time.monotonic()
        while time.monotonic() - wall0 < seconds:
            pygame.event.wait(1000)
    cpu1, sw1 = cpu_and_switches()
    wall = time.monotonic() - wall0
    pygame.display.quit()
    return 100 * (cpu1 - cpu0) / wall, (sw1 - sw0) / wall


def bench_idle(rounds: int, seconds: float) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {"renderer": [], "event.wait(1000)": []}
    for _ in range(rounds):
        for kind in out:
            out[kind].append(idle_round(kind, seconds / rounds))
    return out


def bench_prepare(rounds: int) -> dict[str, list[float]]:
    src = test_picture((1024, 1024), 4)
    png, jpg = io.BytesIO(), io.BytesIO()
    src.save(png, "PNG")
    src.save(jpg, "JPEG", quality=90)
    cases = {
        f"PNG 1024² ({len(png.getvalue()) / 1e6:.1f} MB) → 1080p cover": (png.getvalue(), "cover"),
        "PNG 1024² → 1080p contain": (png.getvalue(), "contain"),
        "PNG 1024² → 1080p blur": (png.getvalue(), "blur"),
        f"JPEG 1024² ({len(jpg.getvalue()) / 1e6:.2f} MB) → 1080p cover": (jpg.getvalue(), "cover"),
    }
    results: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, (data, fit) in cases.items():
            t0 = time.perf_counter()
            prepare(data, (W, H), fit)
            results[name].append((time.perf_counter() - t0) * 1000)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--idle-seconds", type=float, default=5.0, help="per candidate, split over 2 rounds")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    med = statistics.median
    lines = [f"pygame-ce {pygame.version.ver} (SDL {'.'.join(map(str, pygame.get_sdl_version()))}), "
             f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
             f"SDL_VIDEODRIVER=dummy, {args.rounds} interleaved rounds", "",
             "| measurement | median | min–max |", "|---|---|---|"]
    for name, ms in bench_crossfade(args.rounds).items():
        lines.append(f"| crossfade 1080p: {name} | {med(ms):.2f} ms/frame ({1000 / med(ms):.0f} fps) "
                     f"| {min(ms):.2f}–{max(ms):.2f} |")
    for name, samples in bench_idle(2, args.idle_seconds * 2).items():
        cpu = [c for c, _ in samples]
        wake = [s for _, s in samples]
        lines.append(f"| idle {name}, {args.idle_seconds:.0f} s | {med(cpu):.3f} % CPU, {med(wake):.0f} switches/s "
                     f"| {min(cpu):.3f}–{max(cpu):.3f} % |")
    for name, ms in bench_prepare(args.rounds).items():
        lines.append(f"| prepare(): {name} | {med(ms):.1f} ms | {min(ms):.1f}–{max(ms):.1f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
