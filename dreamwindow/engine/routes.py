"""HTTP routes of the engine, answering like ComfyUI (status codes, bodies and headers from the traces)."""

from __future__ import annotations

import asyncio

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dreamwindow.engine.state import QueueItem
from dreamwindow.engine.validate import error_body, validate_prompt
from dreamwindow.engine.viewer import view

if TYPE_CHECKING:
    from dreamwindow.engine.server import DreamEngine

log = logging.getLogger(__name__)

TROUBLE = "500 Internal Server Error\n\nServer got itself in trouble"
MODEL_FOLDERS = ["checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision",
                 "style_models", "embeddings", "diffusers", "vae_approx", "controlnet", "gligen",
                 "upscale_models", "custom_nodes", "hypernetworks", "photomaker", "classifiers"]


def trouble() -> web.Response:
    return web.Response(status=500, text=TROUBLE)


async def json_body(request: web.Request) -> Any:
    """The JSON body, or None when it is empty or not JSON (which the real server answers with 500)."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class Routes:
    def __init__(self, engine: "DreamEngine") -> None:
        self.e = engine

    def install(self, app: web.Application) -> None:
        e = self.e
        table = [
            ("GET", "/ws", e.hub.handle), ("GET", "/prompt", self.get_prompt), ("POST", "/prompt", self.post_prompt),
            ("GET", "/queue", self.get_queue), ("POST", "/queue", self.post_queue),
            ("POST", "/interrupt", self.interrupt), ("POST", "/free", self.free),
            ("GET", "/history", self.get_history), ("GET", "/history/{prompt_id}", self.get_history_id),
            ("POST", "/history", self.post_history), ("GET", "/view", self.view),
            ("GET", "/system_stats", self.system_stats), ("GET", "/object_info", self.object_info),
            ("GET", "/object_info/{node_class}", self.object_info_one), ("GET", "/models", self.models),
            ("GET", "/models/{folder}", self.models_folder), ("GET", "/embeddings", self.empty_list),
            ("GET", "/extensions", self.empty_list), ("GET", "/features", self.features),
            ("GET", "/dreamwindow/faults", self.get_faults), ("POST", "/dreamwindow/faults", self.post_faults),
        ]
        for prefix in ("", "/api"):
            for method, path, handler in table:
                if method == "GET":
                    app.router.add_get(prefix + path, handler)      # HEAD too, like the real server
                else:
                    app.router.add_route(method, prefix + path, handler)
        app.router.add_route("*", "/{tail:.*}", self.not_found)

    async def not_found(self, request: web.Request) -> web.Response:
        return web.Response(status=404, content_type="application/octet-stream")

    async def get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self.e.queue.remaining()}})

    async def post_prompt(self, request: web.Request) -> web.Response:
        e = self.e
        if e.faults.prompt_http_errors:
            code = e.faults.prompt_http_errors.pop(0)
            if code == 500:
                return trouble()
            return web.json_response({"error": {"type": "injected_fault", "message": f"injected HTTP {code}",
                                                "details": "", "extra_info": {}}, "node_errors": {}}, status=code)
        body = await json_body(request)
        if not isinstance(body, dict):
            return trouble()
        if "number" in body:
            number = body["number"]
        else:
            number = e.next_number()
            if body.get("front"):
                number = -number
        if "prompt" not in body:
            return web.json_response(error_body("no_prompt", "No prompt provided", "No prompt provided"), status=400)
        prompt = body["prompt"]
        if not isinstance(prompt, dict):
            return trouble()
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        verdict = validate_prompt(prompt, e.node_defs, body.get("partial_execution_targets"))
        if verdict.error is not None:
            log.info("prompt rejected: %s", verdict.error["error"]["type"])
            return web.json_response(verdict.error, status=400)
        if e.faults.take("reject_prompts"):
            return web.json_response(self._injected_rejection(prompt, verdict.outputs), status=400)
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        e.queue.put(QueueItem(number, prompt_id, prompt, extra, verdict.outputs))
        await e.hub.status()            # goes out before the worker (woken by put) can run
        if e.faults.prompt_answer_delay > 0:  # queued, but the answer is late: the client may give up
            await asyncio.sleep(e.faults.prompt_answer_delay)
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": verdict.node_errors})

    def _injected_rejection(self, prompt: dict[str, Any], outputs: list[str]) -> dict[str, Any]:
        for nid, node in prompt.items():
            required = self.e.node_defs[node["class_type"]]["input"]["required"]
            for name, value in (node.get("inputs") or {}).items():
                if not isinstance(value, list) and name in required:
                    conf = required[name]
                    err = {"type": "value_not_in_list", "message": "Value not in list",
                           "details": f"{name}: '{value}' not in []",
                           "extra_info": {"input_name": name, "input_config": [conf[0], conf[1] if len(conf) > 1 else {}],
                                          "received_value": value}}
                    return error_body("prompt_outputs_failed_validation", "Prompt outputs failed validation", "",
                                      {nid: {"errors": [err], "dependent_outputs": outputs,
                                             "class_type": node["class_type"]}})
        return error_body("prompt_outputs_failed_validation", "Prompt outputs failed validation")

    async def get_queue(self, request: web.Request) -> web.Response:
        return web.json_response(self.e.queue.snapshot())

    async def post_queue(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return trouble()
        if body.get("clear"):
            self.e.queue.clear()
        if "delete" in body:
            self.e.queue.delete([str(p) for p in body["delete"]])
        await self.e.hub.status()
        return web.Response()

    async def interrupt(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        running = self.e.queue.running
        target = body.get("prompt_id") if isinstance(body, dict) else None
        if running is not None and (target is None or target == running.prompt_id):
            self.e.executor.interrupt.set()
        return web.Response()

    async def free(self, request: web.Request) -> web.Response:
        return web.Response() if isinstance(await json_body(request), dict) else trouble()

    async def get_history(self, request: web.Request) -> web.Response:
        max_items = request.query.get("max_items")
        return web.json_response(self.e.history.all(int(max_items) if max_items else None))

    async def get_history_id(self, request: web.Request) -> web.Response:
        return web.json_response(self.e.history.get(request.match_info["prompt_id"]))

    async def post_history(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return trouble()
        if body.get("clear"):
            self.e.history.clear()
        if "delete" in body:
            self.e.history.delete([str(p) for p in body["delete"]])
        return web.Response()

    async def view(self, request: web.Request) -> web.StreamResponse:
        return await view(self.e, request)

    async def system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.e.system_stats())

    async def object_info(self, request: web.Request) -> web.Response:
        return web.json_response(self.e.node_defs)

    async def object_info_one(self, request: web.Request) -> web.Response:
        name = request.match_info["node_class"]
        d = self.e.node_defs.get(name)
        return web.json_response({name: d} if d else {})

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(MODEL_FOLDERS)

    async def models_folder(self, request: web.Request) -> web.Response:
        folder = request.match_info["folder"]
        if folder not in MODEL_FOLDERS:
            return web.Response(status=404)
        return web.json_response(list(self.e.settings.checkpoints) if folder == "checkpoints" else [])

    async def empty_list(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def features(self, request: web.Request) -> web.Response:
        return web.json_response({"supports_preview_metadata": True, "max_upload_size": 104857600})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.e.faults.as_dict())

    async def post_faults(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected a JSON object"}, status=400)
        action, seconds = body.pop("action", None), float(body.pop("seconds", 1.0))
        try:
            self.e.faults.update(body)
        except ValueError as ex:
            return web.json_response({"error": str(ex)}, status=400)
        if action == "drop_websockets":
            self.e.hub.drop_all()
        elif action == "restart":
            self.e.spawn(self.e.restart())
        elif action == "refuse":
            self.e.spawn(self.e.refuse_for(seconds))
        elif action is not None:
            return web.json_response({"error": f"unknown action {action!r}"}, status=400)
        return web.json_response(self.e.faults.as_dict())


def path_key(path: str) -> str:
    """The route path without the /api prefix, for fault lookups."""
    return path[4:] if path.startswith("/api/") else path

