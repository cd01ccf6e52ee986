"""One picture, from playlist item to stored file: bind the workflow, run it on the pool, keep the result.

Retry policy lives here because only here do we know what a retry means for the wall:
- (a server that lost the job in a restart: the pool already resubmits it once, preferably elsewhere;)
- an image that could not be downloaded or decoded, or a picture we already have (ComfyUI served a cached graph,
  or the exact bytes are on screen) is tried once more with a new seed;
- a rejected graph sets its item aside until the playlist changes; an execution error just fails this job.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections import deque
from typing import Any, Callable

from dreamwindow.catalog import Catalog
from dreamwindow.errors import ConfigError, NotNew, OutputUnusable, Rejected
from dreamwindow.store import ImageStore, StoredImage

log = logging.getLogger(__name__)


class Duplicate(NotNew):
    """The server returned a picture we already have."""


class Generator:
    def __init__(
        self,
        pool: Any,
        store: ImageStore,
        catalog: Catalog,
        *,
        timeout: float,
        rng: random.Random,
        build_job: Callable[..., Any] | None = None,
        default_checkpoint: str | None = None,
        remember: int = 64,
    ) -> None:
        if build_job is None:
            from dreamwindow.workflow import build_job as default_build_job

            build_job = default_build_job
        self._pool = pool
        self._store = store
        self._catalog = catalog
        self._timeout = timeout
        self._rng = rng
        self._build_job = build_job
        self._default_checkpoint = default_checkpoint
        self._recent_digests: deque[str] = deque(maxlen=remember)

    async def generate(self) -> StoredImage:
        """Generate and store one new picture, or raise a DreamWindowError saying why not."""
        playlist, item = self._catalog.next_item()
        fresh_retry = True
        job = self._job(playlist, item)
        while True:
            started = time.time()
            try:
                result = await self._pool.run(job.graph, output_nodes=job.output_nodes, deadline=self._timeout)
                data = self._check_new(result)
            except Rejected as exc:
                self._catalog.set_aside(playlist, item, str(exc))
                raise
            except (OutputUnusable, Duplicate) as exc:
                if not fresh_retry or (isinstance(exc, Duplicate) and getattr(item, "seed", None) is not None):
                    raise  # a fixed seed gives the same picture whatever we do
                fresh_retry = False
                log.info("%s; trying once more with a new seed", exc)
                job = self._job(playlist, item)
                continue
            break
        meta = dict(job.meta)
        meta.update(
            server=result.server,
            prompt_id=result.prompt_id,
            timings={**result.timings, "requested_at": started, "total_seconds": round(time.time() - started, 3)},
        )
        stored = await asyncio.to_thread(self._store.save, data, meta)
        log.info("new picture %s from %s: %s", stored.path.name, result.server, meta.get("prompt"))
        return stored

    def _job(self, playlist: Any, item: Any) -> Any:
        try:
            return self._build_job(playlist, item, self._rng, default_checkpoint=self._default_checkpoint)
        except ConfigError as exc:
            # A value that cannot be bound is a problem of this item, like a rejection by the server.
            self._catalog.set_aside(playlist, item, str(exc))
            raise

    def _check_new(self, result: Any) -> bytes:
        if not result.images:
            raise OutputUnusable("the job finished without an image", server=result.server, prompt_id=result.prompt_id)
        if result.cached:
            raise Duplicate(
                "the server answered from its cache (identical graph): same picture as before",
                server=result.server,
                prompt_id=result.prompt_id,
            )
        data = result.images[0].data
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._recent_digests:
            raise Duplicate(
                "the server returned a picture identical to a recent one",
                server=result.server,
                prompt_id=result.prompt_id,
            )
        self._recent_digests.append(digest)
        return data
