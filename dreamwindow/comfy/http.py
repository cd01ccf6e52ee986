"""HTTP calls to one ComfyUI server, each with a timeout, with transport failures mapped to our exceptions.

Connection errors, 5xx answers and calls that get no answer within the request timeout all mean "this server
is not healthy right now" and raise :class:`Unavailable`, which the pool answers by trying another server.
(The job deadline, not a single call, is what raises :class:`Timeout`.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from dreamwindow.errors import Unavailable


class Http:
    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        server: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.server = server or self.base_url

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
        raw: bool = False,
    ) -> tuple[int, Any]:
        """Return (status, body): parsed JSON when the answer is JSON, bytes when ``raw``, else text."""
        what = f"{method} {path}"
        try:
            async with asyncio.timeout(timeout or self.timeout):
                async with self.session.request(
                    method, self.base_url + path, json=json_body, params=params, headers=self.headers
                ) as resp:
                    data = await resp.read()
                    if raw:
                        return resp.status, data
                    if resp.content_type == "application/json":
                        try:
                            return resp.status, json.loads(data)
                        except ValueError:
                            pass
                    return resp.status, data.decode("utf-8", "replace")
        except TimeoutError:
            raise Unavailable(f"{what}: no answer within {timeout or self.timeout:g} s", server=self.server) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Unavailable(f"{what}: {exc.__class__.__name__}: {exc}", server=self.server) from exc

    async def get_json(self, path: str, *, timeout: float | None = None) -> Any:
        """GET that must answer 200 with JSON; anything else is Unavailable (an unhealthy or wrong server)."""
        status, body = await self.request("GET", path, timeout=timeout)
        if status != 200 or isinstance(body, str):
            raise Unavailable(f"GET {path} answered {status}: {str(body)[:200]!r}", server=self.server)
        return body

    async def post_json(self, path: str, body: Any, *, timeout: float | None = None) -> tuple[int, Any]:
        return await self.request("POST", path, json_body=body, timeout=timeout)
