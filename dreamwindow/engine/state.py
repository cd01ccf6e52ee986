"""Engine settings and the in-memory state a ComfyUI server keeps: prompt queue, running prompt, history.

Like the real server, nothing here survives a restart.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from dreamwindow.engine.constants import ENGINE_CHECKPOINT


@dataclass
class EngineSettings:
    seconds_per_image: float = 2.0     # wall time of one picture, spread over the sampler steps
    steps_default: int = 20            # KSampler default shown in object_info
    checkpoints: list[str] = field(default_factory=lambda: [ENGINE_CHECKPOINT])
    preview_size: int = 512            # longest side of the sampler's JPEG previews (ComfyUI's default)
    history_max: int = 10000           # like ComfyUI's MAXIMUM_HISTORY_SIZE


@dataclass
class QueueItem:
    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]             # output node ids that passed validation
    seq: int = 0                   # tie-break: equal numbers run in submission order

    @property
    def client_id(self) -> str | None:
        return self.extra_data.get("client_id")

    def as_list(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


class PromptQueue:
    """Pending prompts ordered by number (``front`` gives negative numbers) plus the one running."""

    def __init__(self) -> None:
        self.pending: list[QueueItem] = []
        self.running: QueueItem | None = None
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def put(self, item: QueueItem) -> None:
        item.seq = next(self._seq)
        self.pending.append(item)
        self.pending.sort(key=lambda i: (i.number, i.seq))
        self._changed.set()

    async def take(self) -> QueueItem:
        while not self.pending:
            self._changed.clear()
            await self._changed.wait()
        item = self.pending.pop(0)
        self.running = item
        return item

    def done(self) -> None:
        self.running = None

    def remaining(self) -> int:
        return len(self.pending) + (1 if self.running is not None else 0)

    def delete(self, prompt_ids: list[str]) -> bool:
        before = len(self.pending)
        self.pending = [i for i in self.pending if i.prompt_id not in set(prompt_ids)]
        return len(self.pending) != before

    def clear(self) -> None:
        self.pending.clear()

    def snapshot(self) -> dict[str, list[Any]]:
        return {
            "queue_running": [self.running.as_list()] if self.running else [],
            "queue_pending": [i.as_list() for i in self.pending],
        }


class History:
    """prompt_id -> history entry, oldest first."""

    def __init__(self, max_items: int) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._max = max_items

    def add(self, prompt_id: str, entry: dict[str, Any]) -> None:
        self._items[prompt_id] = entry
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def get(self, prompt_id: str) -> dict[str, Any]:
        entry = self._items.get(prompt_id)
        return {prompt_id: entry} if entry is not None else {}

    def all(self, max_items: int | None = None) -> dict[str, Any]:
        items = list(self._items.items())
        if max_items is not None:
            items = items[-max_items:] if max_items > 0 else []
        return dict(items)

    def delete(self, prompt_ids: list[str]) -> None:
        for pid in prompt_ids:
            self._items.pop(pid, None)

    def clear(self) -> None:
        self._items.clear()
