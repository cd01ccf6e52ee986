"""What each node class does when it runs. Pixel work happens in worker threads (``asyncio.to_thread``).

Data between nodes: MODEL/CLIP/VAE are small dicts naming the checkpoint, CONDITIONING is ``{"text"}``,
LATENT is ``{"width", "height", "batch", "images"?}`` (the sampler paints into it), IMAGE is a list of RGB
Pillow images (a batch).
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageFilter, ImageOps

from dreamwindow.engine.paint import paint, preview

MAX_PIXELS = 64 * 1024 * 1024        # a batch bigger than this fails like an allocation failure
Outputs = tuple[tuple[Any, ...], dict[str, Any] | None]


class Context(Protocol):
    """What a running node may ask of the executor."""

    node_id: str
    seconds_per_image: float
    preview_side: int
    large_previews: bool
    output_dir: Path
    temp_dir: Path
    temp_prefix: str

    async def step(self, value: int, total: int, image: bytes | None, png: bool) -> None: ...
    async def pause_until(self, deadline: float) -> None: ...


def png_bytes(img: Image.Image, level: int = 4) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=level)
    return buf.getvalue()


def jpeg_bytes(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class Counters:
    """Next file number per (folder, prefix), found by scanning once, like ComfyUI's counter naming."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str], int] = {}

    def take(self, folder: Path, prefix: str, n: int) -> int:
        key = (str(folder), prefix)
        if key not in self._next:
            pattern = re.compile(re.escape(prefix) + r"_(\d{5,})_")
            found = [int(m.group(1)) for f in (os.listdir(folder) if folder.is_dir() else [])
                     if (m := pattern.match(f))]
            self._next[key] = max(found, default=0) + 1
        first = self._next[key]
        self._next[key] = first + n
        return first


COUNTERS = Counters()


def _write(images: list[Image.Image], root: Path, prefix: str, kind: str, level: int) -> list[dict[str, str]]:
    subfolder, name = os.path.split(os.path.normpath(prefix))
    folder = Path(os.path.abspath(root / subfolder))
    common = os.path.commonpath((str(root), str(folder)))
    if common != str(root):
        raise Exception("**** ERROR: Saving image outside the output folder is not allowed."
                        f"\n full_output_folder: {folder}\n         output_dir: {root}\n         commonpath: {common}\n")
    folder.mkdir(parents=True, exist_ok=True)
    first = COUNTERS.take(folder, name, len(images))
    results = []
    for i, img in enumerate(images):
        filename = f"{name}_{first + i:05}_.png"
        (folder / filename).write_bytes(png_bytes(img, level))
        results.append({"filename": filename, "subfolder": subfolder, "type": kind})
    return results


def _empty_image(width: int, height: int, batch: int, color: int) -> list[Image.Image]:
    if width * height * batch > MAX_PIXELS:
        raise RuntimeError(f"can't allocate memory: you tried to allocate {width * height * batch * 12} bytes. "
                           "(the dream engine keeps batches under 64 megapixels)")
    rgb = ((color >> 16) & 255, (color >> 8) & 255, color & 255)
    return [Image.new("RGB", (width, height), rgb) for _ in range(batch)]


def _scale(images: list[Image.Image], method: str, width: int, height: int, crop: str) -> list[Image.Image]:
    resample = {"nearest-exact": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                "area": Image.Resampling.BOX, "bicubic": Image.Resampling.BICUBIC,
                "lanczos": Image.Resampling.LANCZOS}[method]
    out = []
    for img in images:
        w, h = width, height
        if w == 0 and h == 0:
            out.append(img)
            continue
        w = w or max(1, round(img.width * h / img.height))
        h = h or max(1, round(img.height * w / img.width))
        if crop == "center":
            out.append(ImageOps.fit(img, (w, h), resample))
        else:
            out.append(img.resize((w, h), resample))
    return out


def _add_noise(images: list[Image.Image], seed: int, strength: float) -> list[Image.Image]:
    rng = random.Random(seed)
    return [Image.blend(img, Image.frombytes("RGB", img.size, rng.randbytes(img.width * img.height * 3)), strength)
            for img in images]


async def _sample(ctx: Context, latent: dict, text: str, seed: int, steps: int, denoise: float) -> dict:
    loop = asyncio.get_running_loop()
    start = loop.time()
    w, h, batch = latent["width"], latent["height"], latent.get("batch", 1)

    def work() -> list[Image.Image]:
        pictures = [paint(text, seed + i, w, h) for i in range(batch)]
        if latent.get("images") and denoise < 1.0:
            pictures = [Image.blend(old.convert("RGB").resize((w, h)), new, denoise)
                        for old, new in zip(latent["images"], pictures)]
        return pictures

    images = await asyncio.to_thread(work)
    cached_preview: bytes | None = None
    for step in range(1, steps + 1):
        await ctx.pause_until(start + ctx.seconds_per_image * step / steps)
        if ctx.large_previews:
            frame, png = await asyncio.to_thread(png_bytes, images[0], 1), True
        elif ctx.seconds_per_image > 0 or cached_preview is None:
            # With no time budget (benchmarks) one preview is encoded and reused for every step.
            frame = await asyncio.to_thread(lambda s=step: jpeg_bytes(preview(images[0], s, steps, ctx.preview_side, seed)))
            cached_preview, png = frame, False
        else:
            frame, png = cached_preview, False
        await ctx.step(step, steps, frame, png)
    return {"width": w, "height": h, "batch": batch, "images": images}


async def run_node(class_type: str, a: dict[str, Any], ctx: Context) -> Outputs:
    """Execute one node with its resolved inputs; returns (outputs, ui)."""
    if class_type == "CheckpointLoaderSimple":
        model = {"ckpt": a["ckpt_name"]}
        return (model, dict(model), dict(model)), None
    if class_type == "CLIPTextEncode":
        return ({"text": str(a["text"])},), None
    if class_type == "EmptyLatentImage":
        return ({"width": a["width"], "height": a["height"], "batch": a["batch_size"]},), None
    if class_type == "KSampler":
        latent = await _sample(ctx, a["latent_image"], a["positive"]["text"], a["seed"], a["steps"], a["denoise"])
        return (latent,), None
    if class_type == "VAEDecode":
        s = a["samples"]
        images = s.get("images") or [Image.new("RGB", (s["width"], s["height"]), (118, 108, 98))] * s.get("batch", 1)
        return ([img.copy() for img in images],), None
    if class_type == "SaveImage":
        ui = await asyncio.to_thread(_write, a["images"], ctx.output_dir, str(a["filename_prefix"]), "output", 4)
        return (), {"images": ui}
    if class_type == "PreviewImage":
        ui = await asyncio.to_thread(_write, a["images"], ctx.temp_dir, ctx.temp_prefix, "temp", 1)
        return (), {"images": ui}
    if class_type == "SaveImageWebsocket":
        for i, img in enumerate(a["images"]):
            await ctx.step(i, len(a["images"]), await asyncio.to_thread(png_bytes, img, 1), True)
        return (), None
    if class_type == "EmptyImage":
        return (await asyncio.to_thread(_empty_image, a["width"], a["height"], a["batch_size"], a["color"]),), None
    if class_type == "ImageInvert":
        return (await asyncio.to_thread(lambda: [ImageOps.invert(i) for i in a["image"]]),), None
    if class_type == "ImageBlur":
        blur = ImageFilter.GaussianBlur(min(float(a["sigma"]), float(a["blur_radius"])))
        imgs = a["image"] if a["blur_radius"] <= 1 else await asyncio.to_thread(lambda: [i.filter(blur) for i in a["image"]])
        return (imgs,), None
    if class_type == "ImageScale":
        return (await asyncio.to_thread(_scale, a["image"], a["upscale_method"], a["width"], a["height"], a["crop"]),), None
    if class_type == "ImageAddNoise":
        return (await asyncio.to_thread(_add_noise, a["image"], a["seed"], float(a["strength"])),), None
    raise NotImplementedError(f"the dream engine cannot run {class_type}")
