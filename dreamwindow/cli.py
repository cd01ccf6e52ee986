"""Command line: run | demo | engine | check | once | schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from dreamwindow import __version__
from dreamwindow.errors import ConfigError, DreamWindowError

log = logging.getLogger("dreamwindow")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO_ROOT / "config" / "demo.yaml"


def _setup_logging(level: str) -> None:
    # Under systemd the journal adds its own timestamps.
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else (
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    logging.basicConfig(level=getattr(logging, level.upper()), format=fmt, datefmt="%H:%M:%S")
    for noisy in ("apscheduler", "aiohttp.access", "PIL"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _duration(text: str) -> float:
    from dreamwindow.durations import parse_duration

    try:
        return parse_duration(text)
    except (ValueError, ConfigError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _display_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="no window: draw off screen (see --snapshot-dir)")
    parser.add_argument("--duration", type=_duration, metavar="SECONDS", help="stop cleanly after this long")
    parser.add_argument("--snapshot-dir", type=Path, metavar="DIR",
                        help="write the screen as a PNG after each finished transition")


LOG_LEVELS = ["debug", "info", "warning", "error"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dreamwindow", description="A wall display onto an ever-changing dream.")
    parser.add_argument("--version", action="version", version=f"dreamwindow {__version__}")
    parser.add_argument("--log-level", default=os.environ.get("DREAMWINDOW_LOG_LEVEL", "info"), choices=LOG_LEVELS,
                        help="how much to log (default info, or $DREAMWINDOW_LOG_LEVEL)")
    # Accepted after the command too (`dreamwindow run --log-level debug`); SUPPRESS keeps the global default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default=argparse.SUPPRESS, choices=LOG_LEVELS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, **kw: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    run = add("run", help="the daemon: generate and show pictures")
    run.add_argument("-c", "--config", type=Path, help="config file (default: $DREAMWINDOW_CONFIG, "
                     "~/.config/dreamwindow/dreamwindow.yaml, /etc/dreamwindow/dreamwindow.yaml)")
    _display_args(run)

    demo = add("demo", help="the built-in dream engine plus the daemon, with the shipped demo config")
    demo.add_argument("-c", "--config", type=Path, default=DEMO_CONFIG, help=argparse.SUPPRESS)
    demo.add_argument("--seconds-per-image", type=float, default=None,
                      help="how long the built-in engine takes per picture")
    _display_args(demo)

    engine = add("engine", help="the built-in ComfyUI-compatible dream engine alone")
    engine.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    engine.add_argument("--port", type=int, default=8188, help="port (default 8188, ComfyUI's; 0 picks a free one)")
    engine.add_argument("--seconds-per-image", type=float, default=2.0,
                        help="how long each picture takes, reported through progress and previews (default 2)")

    check = add("check", help="validate the config, its playlists and workflows; probe the servers")
    check.add_argument("-c", "--config", type=Path, help="config file (default: as for run)")
    check.add_argument("--offline", action="store_true", help="only the files: do not contact the ComfyUI servers")

    once = add("once", help="generate one picture and write it to a file")
    once.add_argument("-c", "--config", type=Path, help="config file (default: as for run)")
    once.add_argument("-o", "--output", type=Path, default=Path("dream.png"),
                      help="where to write the picture (default dream.png; the suffix follows the image type)")

    init = add("init", help="write an example config and playlists to edit")
    init.add_argument("directory", nargs="?", type=Path, default=None,
                      help="where to write them (default ~/.config/dreamwindow)")

    schema = add("schema", help="print the JSON Schema of the config or playlist files")
    schema.add_argument("kind", nargs="?", choices=["config", "playlist"], default="config")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    handler = {
        "run": cmd_run, "demo": cmd_demo, "engine": cmd_engine, "check": cmd_check, "once": cmd_once,
        "schema": cmd_schema, "init": cmd_init,
    }[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except DreamWindowError as exc:
        print(f"dreamwindow: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dreamwindow schema | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _load(path: Path | None):  # noqa: ANN202 - returns Config
    from dreamwindow.config import find_config, load_config

    return load_config(find_config(path))


def _run_app(config, args: argparse.Namespace, engine=None) -> int:  # noqa: ANN001
    from dreamwindow.app import App, RunOptions, headless_needed

    headless, why = headless_needed(args.headless)
    snapshot_dir = args.snapshot_dir
    if headless:
        if snapshot_dir is None and args.command == "demo":
            snapshot_dir = Path("snapshots")
        where = f"the screen is saved as PNG files in {snapshot_dir.resolve()}" if snapshot_dir else (
            "nothing will be visible; pass --snapshot-dir DIR to see the screen as PNG files")
        log.warning("running headless (%s): %s", why, where)
    if snapshot_dir is not None:
        snapshot_dir.mkdir(parents=True, exist_ok=True)
    options = RunOptions(headless=headless, duration=args.duration, snapshot_dir=snapshot_dir, engine=engine)
    return App(config, options).run()


def cmd_run(args: argparse.Namespace) -> int:
    return _run_app(_load(args.config), args)


def cmd_demo(args: argparse.Namespace) -> int:
    from dreamwindow.config import load_config
    from dreamwindow.engine import EngineSettings

    if not args.config.exists():
        raise DreamWindowError(f"the demo config {args.config} is missing: run the demo from a DreamWindow checkout")
    config = load_config(args.config)
    settings = EngineSettings() if args.seconds_per_image is None else EngineSettings(
        seconds_per_image=args.seconds_per_image)
    log.info("demo: built-in dream engine + daemon; pictures change every %.0f s; Ctrl-C stops",
             config.rotation.every)
    return _run_app(config, args, engine=settings)


def cmd_engine(args: argparse.Namespace) -> int:
    from dreamwindow.engine import run_engine_cli

    return run_engine_cli(args.host, args.port, args.seconds_per_image)


def cmd_check(args: argparse.Namespace) -> int:
    from dreamwindow.checkcmd import run_check

    if args.log_level == "info":  # the report says it all; the client's running commentary would only repeat it
        logging.getLogger("dreamwindow.comfy").setLevel(logging.ERROR)
    return run_check(args.config, offline=args.offline)


def cmd_once(args: argparse.Namespace) -> int:
    from dreamwindow.oneshot import generate_once

    config = _load(args.config)
    meta = asyncio.run(generate_once(config, args.output))
    print(json.dumps(meta, indent=2, default=str))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from dreamwindow.initcmd import init_config

    written = init_config(args.directory)
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit {written[0]} (server URL and checkpoint), then run: dreamwindow check")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from dreamwindow.config import config_schema

    print(json.dumps(config_schema(args.kind), indent=2))
    return 0
