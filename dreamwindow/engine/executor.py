"""The single worker that runs queued prompts in order, emitting ComfyUI's message sequence.

Per prompt: ``status`` (taken) -> ``execution_start`` -> ``execution_cached`` -> per node that runs:
``progress_state`` running -> ``executing`` -> [``progress_state``/``progress``/preview per step] ->
[``executed``] -> ``progress_state`` finished -> ``execution_success`` | ``execution_error`` |
``execution_interrupted`` -> (history written) -> ``status`` -> ``executing{node: null}``.
The cache is ComfyUI's classic one: only the previous prompt's node outputs, keyed by input signature.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from typing import TYPE_CHECKING, Any

from dreamwindow.engine.nodes import run_node
from dreamwindow.engine.state import QueueItem
from dreamwindow.engine.validate import convert_widget

if TYPE_CHECKING:
    from dreamwindow.engine.server import DreamEngine

log = logging.getLogger(__name__)


class Interrupted(Exception):
    pass


def _now_ms() -> int:
    return int(time.time() * 1000)


class Run:
    """One prompt being executed; also the Context its nodes see."""

    def __init__(self, ex: "Executor", item: QueueItem) -> None:
        self.ex, self.item, self.engine = ex, item, ex.engine
        self.node_id = ""
        self.states: dict[str, dict[str, Any]] = {}
        settings = self.engine.settings
        self.seconds_per_image = settings.seconds_per_image
        self.preview_side = settings.preview_size
        self.large_previews = self.engine.faults.large_previews
        self.output_dir, self.temp_dir = self.engine.output_dir, self.engine.temp_dir
        self.temp_prefix = self.engine.temp_prefix

    async def emit(self, kind: str, data: dict[str, Any], broadcast_without_client: bool = False) -> None:
        await self.ex.before_send(kind)
        sid = self.item.client_id
        if sid is None and not broadcast_without_client:
            return                                  # nobody hears a prompt queued without client_id
        await self.engine.hub.send(kind, data, sid)

    async def progress_state(self) -> None:
        await self.emit("progress_state", {"prompt_id": self.item.prompt_id, "nodes": dict(self.states)}, True)

    def set_state(self, node: str, value: float, total: float, state: str) -> None:
        self.states[node] = {"value": value, "max": total, "state": state, "node_id": node,
                             "prompt_id": self.item.prompt_id, "display_node_id": node,
                             "parent_node_id": None, "real_node_id": node}

    async def step(self, value: int, total: int, image: bytes | None, png: bool) -> None:
        self.check_interrupt()
        self.set_state(self.node_id, value, total, "running")
        await self.progress_state()
        pid, node = self.item.prompt_id, self.node_id
        metadata = self.engine.hub.metadata_client(self.item.client_id)
        if image is not None and metadata:
            await self.ex.before_send("preview")
            await self.engine.hub.preview(self.item.client_id, image, png, pid, node)
        await self.emit("progress", {"value": value, "max": total, "prompt_id": pid, "node": node})
        if image is not None and not metadata:
            await self.ex.before_send("preview")
            await self.engine.hub.preview(self.item.client_id, image, png, pid, node)

    async def pause_until(self, deadline: float) -> None:
        """Sleep until the loop time ``deadline``, waking early for an interrupt."""
        delay = deadline - asyncio.get_running_loop().time()
        if delay > 0:
            try:
                await asyncio.wait_for(self.ex.interrupt.wait(), delay)
            except asyncio.TimeoutError:
                pass
        self.check_interrupt()

    def check_interrupt(self) -> None:
        if self.ex.interrupt.is_set():
            raise Interrupted()


class Executor:
    def __init__(self, engine: "DreamEngine") -> None:
        self.engine = engine
        self.interrupt = asyncio.Event()
        self.current_node: str | None = None
        self.cache: dict[str, tuple[tuple[Any, ...], dict | None]] = {}

    async def before_send(self, kind: str) -> None:
        faults = self.engine.faults
        if faults.drop_ws_before == kind:
            faults.drop_ws_before = None
            log.info("fault: dropping every WebSocket before %s", kind)
            self.engine.hub.drop_all()
        if faults.restart_before == kind:
            faults.restart_before = None
            log.info("fault: restarting before %s", kind)
            self.engine.spawn(self.engine.restart())
            await asyncio.Event().wait()            # the restart cancels this worker

    async def run_forever(self) -> None:
        queue = self.engine.queue
        while True:
            item = await queue.take()
            self.interrupt.clear()                  # an interrupt sent while idle is discarded
            await self.engine.hub.status()
            try:
                await self.execute(item)
            except asyncio.CancelledError:
                raise
            except Exception:                       # a bug must not kill the worker: log it and go on
                log.exception("prompt %s crashed the dream engine's executor", item.prompt_id)
                queue.done()
            finally:
                self.current_node = None

    def _plan(self, item: QueueItem) -> tuple[list[str], dict[str, str]]:
        """Nodes the outputs need, in an order that respects links, and each node's cache signature."""
        prompt = item.prompt
        sigs: dict[str, str] = {}

        def sig(nid: str) -> str:
            if nid not in sigs:
                node = prompt[nid]
                parts = {k: ([sig(str(v[0])), v[1]] if isinstance(v, list) else v)
                         for k, v in sorted((node.get("inputs") or {}).items())}
                sigs[nid] = json.dumps([node["class_type"], parts], sort_keys=True, default=str)
            return sigs[nid]

        order: list[str] = []
        seen: set[str] = set()

        def visit(nid: str) -> None:
            if nid in seen:
                return
            seen.add(nid)
            for v in (prompt[nid].get("inputs") or {}).values():
                if isinstance(v, list) and str(v[0]) in prompt:
                    visit(str(v[0]))
            order.append(nid)

        for out in item.outputs:
            visit(out)
        for nid in order:
            sig(nid)
        return order, sigs

    async def execute(self, item: QueueItem) -> None:
        engine, pid = self.engine, item.prompt_id
        run = Run(self, item)
        messages: list[list[Any]] = []

        async def record(kind: str, data: dict[str, Any]) -> None:
            messages.append([kind, data])
            await run.emit(kind, data)

        await record("execution_start", {"prompt_id": pid, "timestamp": _now_ms()})
        order, sigs = self._plan(item)
        cached = [n for n in item.prompt if n in sigs and sigs[n] in self.cache]
        await record("execution_cached", {"nodes": cached, "prompt_id": pid, "timestamp": _now_ms()})
        results: dict[str, tuple[Any, ...]] = {}
        outputs: dict[str, Any] = {}
        executed: list[str] = []
        keep: dict[str, tuple[tuple[Any, ...], dict | None]] = {}
        fail_at = self._fault_node(item, order, set(cached))
        status, final = "success", None
        try:
            for nid in order:
                class_type = item.prompt[nid]["class_type"]
                if nid in cached:
                    results[nid], ui = self.cache[sigs[nid]]
                    keep[sigs[nid]] = (results[nid], ui)
                    if ui is not None:
                        outputs[nid] = ui
                        await run.emit("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": pid})
                        run.set_state(nid, 1, 1, "finished")  # the real server sends ints here (floats elsewhere)
                        await run.progress_state()
                    continue
                run.node_id = self.current_node = nid
                run.set_state(nid, 0.0, 1.0, "running")
                await run.progress_state()
                await run.emit("executing", {"node": nid, "display_node": nid, "prompt_id": pid})
                run.check_interrupt()
                args = self._inputs(item.prompt[nid], results, engine.node_defs[class_type])
                try:
                    if nid == fail_at:
                        raise RuntimeError("DreamWindow engine: injected execution error")
                    results[nid], ui = await run_node(class_type, args, run)
                except (Interrupted, asyncio.CancelledError):
                    raise
                except Exception as ex:
                    final = self._error(item, nid, class_type, executed, ex, args)
                    status = "error"
                    break
                keep[sigs[nid]] = (results[nid], ui)
                executed.append(nid)
                if ui is not None:
                    outputs[nid] = ui
                    await run.emit("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": pid})
                done = run.states[nid]
                run.set_state(nid, done["max"] if done["value"] != 0.0 else 1.0,
                              done["max"] if done["value"] != 0.0 else 1.0, "finished")
                await run.progress_state()
        except Interrupted:
            status = "interrupted"
            final = ("execution_interrupted", {"prompt_id": pid, "node_id": run.node_id,
                                               "node_type": item.prompt[run.node_id]["class_type"],
                                               "executed": list(executed), "timestamp": _now_ms()})
        self.cache = keep                       # classic cache: this prompt's outputs replace the last one's
        if final is None:
            final = ("execution_success", {"prompt_id": pid, "timestamp": _now_ms()})
        await record(*final)
        # The real server writes history only after execution_success went out; clients meet that race.
        await asyncio.sleep(engine.faults.history_delay)
        ok = status == "success"
        engine.history.add(pid, {
            "prompt": item.as_list(), "outputs": outputs if ok else {},
            "status": {"status_str": "success" if ok else "error", "completed": ok, "messages": messages},
            "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
                     for n in outputs} if ok else {},
        })
        engine.queue.done()
        self.current_node = None
        await engine.hub.status()
        await run.emit("executing", {"node": None, "prompt_id": pid})

    @staticmethod
    def _inputs(node: dict[str, Any], results: dict[str, tuple[Any, ...]], definition: dict) -> dict[str, Any]:
        required = definition["input"]["required"]
        args: dict[str, Any] = {}
        for name, value in (node.get("inputs") or {}).items():
            if isinstance(value, list):
                args[name] = results[str(value[0])][value[1]]
            elif name in required and not isinstance(required[name][0], list):
                args[name] = convert_widget(required[name][0], value)
            else:
                args[name] = value
        return args

    def _fault_node(self, item: QueueItem, order: list[str], cached: set[str]) -> str | None:
        faults = self.engine.faults
        if faults.execution_errors <= 0:
            return None
        runnable = [n for n in order if n not in cached]
        if faults.error_at is not None:
            hits = [n for n in runnable if faults.error_at in (n, item.prompt[n]["class_type"])]
        else:
            hits = [n for n in runnable if item.prompt[n]["class_type"] == "KSampler"] or runnable[:1]
        if hits and faults.take("execution_errors"):
            return hits[0]
        return None

    def _error(self, item: QueueItem, nid: str, class_type: str, executed: list[str], ex: Exception,
               args: dict[str, Any]) -> tuple:
        log.info("prompt %s failed at node %s (%s): %s", item.prompt_id, nid, class_type, ex)
        literal = self._current_inputs(item, class_type, args)
        return ("execution_error", {
            "prompt_id": item.prompt_id, "node_id": nid, "node_type": class_type, "executed": list(executed),
            "exception_message": str(ex), "exception_type": type(ex).__name__,
            "traceback": [line.split("\n")[0] + "\n" for line in traceback.format_tb(ex.__traceback__)],
            "current_inputs": literal, "current_outputs": list(item.prompt), "timestamp": _now_ms(),
        })

    def _current_inputs(self, item: QueueItem, class_type: str, args: dict[str, Any]) -> dict[str, list[Any]]:
        """``current_inputs`` of an execution_error, as the real server formats them: every input (linked ones
        too) as a one-item list, plain values kept and anything else as its ``str``, then the hidden inputs
        (``prompt``, ``extra_pnginfo``) of the nodes that declare them."""
        def fmt(value: Any) -> Any:
            return value if value is None or isinstance(value, (int, float, bool, str)) else str(value)

        current = {name: [fmt(value)] for name, value in args.items()}
        hidden = self.engine.node_defs[class_type]["input"].get("hidden") or {}
        if "prompt" in hidden:
            current["prompt"] = [str(item.prompt)]
        if "extra_pnginfo" in hidden:
            current["extra_pnginfo"] = [fmt(item.extra_data.get("extra_pnginfo"))]
        return current
