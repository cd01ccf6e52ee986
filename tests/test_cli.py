"""The command line as a user runs it: real processes, real ports, real files."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from dreamwindow.cli import main

PY = [sys.executable, "-m", "dreamwindow"]


class Proc:
    """A dreamwindow subprocess whose log lines can be waited for (no sleeping)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(PY + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        regex = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s:\n{''.join(self.log)}") from None
            if match := regex.search(line):
                return match

    def finish(self, timeout: float = 60) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "HOME": str(home), "SDL_VIDEODRIVER": "dummy", "DREAMWINDOW_CONFIG": ""}


@pytest.fixture
def engine_url(env: dict[str, str]):
    proc = Proc(["engine", "--port", "0", "--seconds-per-image", "0.1"], env)
    try:
        yield proc.wait_for(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
    finally:
        proc.popen.send_signal(signal.SIGINT)
        try:
            assert proc.finish(15) == 0
        finally:
            proc.kill()


def config_for(tmp_path: Path, repo_root: Path, url: str, every: str = "1.5s") -> Path:
    cfg = tmp_path / "dw.yaml"
    cfg.write_text(textwrap.dedent(f"""
        comfyui:
          backends: [{{url: "{url}"}}]
          checkpoint: dreamwindow-dream.safetensors
        display: {{fullscreen: false, size: [320, 180], transition: {{seconds: 0.4}}}}
        rotation: {{every: {every}, lookahead: 2}}
        store: {{dir: {tmp_path / 'store'}, keep: 20}}
        playlists: [{repo_root / 'playlists'}]
        """))
    return cfg


def distinct_pngs(folder: Path) -> int:
    return len({hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("snapshot-*.png")})


def test_run_against_engine_process(tmp_path: Path, repo_root: Path, env: dict[str, str], engine_url: str) -> None:
    cfg = config_for(tmp_path, repo_root, engine_url)
    snaps = tmp_path / "snaps"
    proc = Proc(["run", "-c", str(cfg), "--headless", "--duration", "8", "--snapshot-dir", str(snaps)], env)
    try:
        assert proc.finish(60) == 0, "".join(proc.log)
    finally:
        proc.kill()
    assert distinct_pngs(snaps) >= 3, "".join(proc.log)
    sidecars = [json.loads(p.read_text()) for p in (tmp_path / "store").glob("*.json")]
    assert len(sidecars) >= 3 and all(s["server"] and s["prompt"] and "seed" in s for s in sidecars)
    assert "running headless" in "".join(proc.log)


def test_sigterm_stops_cleanly(tmp_path: Path, repo_root: Path, env: dict[str, str], engine_url: str) -> None:
    cfg = config_for(tmp_path, repo_root, engine_url, every="30s")
    proc = Proc(["run", "-c", str(cfg), "--headless", "--snapshot-dir", str(tmp_path / "s")], env)
    try:
        proc.wait_for(r"snapshot .*snapshot-00001\.png")
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.finish(30) == 0
    finally:
        proc.kill()
    assert any("received SIGTERM" in line for line in proc.log)


def test_demo_headless_leaves_three_pictures(tmp_path: Path, env: dict[str, str]) -> None:
    snaps = tmp_path / "demo-snaps"
    proc = Proc(["demo", "--headless", "--duration", "22", "--snapshot-dir", str(snaps),
                 "--seconds-per-image", "0.3"], env)
    try:
        assert proc.finish(90) == 0, "".join(proc.log)
    finally:
        proc.kill()
    assert distinct_pngs(snaps) >= 3, "".join(proc.log)


def test_run_without_config_says_how_to_create_one(env: dict[str, str]) -> None:
    result = subprocess.run(PY + ["run"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "no config file found" in result.stderr and "dreamwindow init" in result.stderr


def test_check_reports_every_problem_with_file_line_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pl = tmp_path / "p.yaml"
    pl.write_text("prompts:\n  - fine\n  - text: also fine\n    stepz: 3\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"comfyui:\n  backends: [{{url: http://127.0.0.1:9}}]\n  checkpoint: x\n"
                   f"display:\n  fit: cover\n  rotate: 45\nplaylists: [{pl}]\n")
    assert main(["check", "-c", str(cfg), "--offline"]) == 2
    out = capsys.readouterr().out
    assert f"{cfg}:6: display.rotate:" in out
    assert f"{pl}:4: prompts[1].stepz:" in out and "did you mean 'steps'" in out


def test_check_against_engine(tmp_path: Path, repo_root: Path, engine_url: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config_for(tmp_path, repo_root, engine_url)
    assert main(["--log-level", "error", "check", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"server .*: reachable, version dreamwindow-engine-[\d.]+, queue \d+", out)
    for name in ("forest", "ocean", "night-sky", "desert", "winter"):
        assert f"playlist {name}: runs on" in out
    bad = cfg.read_text().replace("dreamwindow-dream.safetensors", "missing.safetensors")
    cfg.write_text(bad)
    assert main(["--log-level", "error", "check", "-c", str(cfg)]) == 2
    out = capsys.readouterr().out
    assert "'missing.safetensors' is not available; available: 'dreamwindow-dream.safetensors'" in out


def test_check_unreachable_server_fails(tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config_for(tmp_path, repo_root, "http://127.0.0.1:9")
    assert main(["--log-level", "error", "check", "-c", str(cfg)]) == 2
    assert "NOT reachable" in capsys.readouterr().out


def test_init_writes_a_config_that_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "conf"
    assert main(["init", str(target)]) == 0
    cfg = target / "dreamwindow.yaml"
    assert sorted(p.name for p in (target / "playlists").glob("*.yaml")) == [
        "desert.yaml", "forest.yaml", "night-sky.yaml", "ocean.yaml", "winter.yaml"]
    assert main(["check", "-c", str(cfg), "--offline"]) == 0
    assert main(["init", str(target)]) == 1  # never overwrites


def test_schema_lists_config_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"comfyui", "display", "rotation", "store", "playlists"} <= set(schema["properties"])
    assert main(["schema", "playlist"]) == 0
    assert "prompts" in json.loads(capsys.readouterr().out)["properties"]


def test_log_level_after_the_command_and_quiet_broken_pipe(env: dict[str, str]) -> None:
    result = subprocess.run(" ".join(PY) + " schema --log-level debug | head -n 1", shell=True, capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.stdout == "{\n" and result.stderr == ""
