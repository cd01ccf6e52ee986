from __future__ import annotations

import socket
from pathlib import Path

from dreamwindow.sdnotify import Notifier


def test_messages_reach_the_notify_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "120000000"})
        assert notifier.enabled and notifier.watchdog_interval == 60.0
        notifier.ready("showing dreams")
        assert server.recv(1024) == b"READY=1\nSTATUS=showing dreams"
        notifier.watchdog()
        assert server.recv(1024) == b"WATCHDOG=1"
        notifier.stopping()
        assert server.recv(1024) == b"STOPPING=1"


def test_abstract_socket_address(tmp_path: Path) -> None:
    name = f"dreamwindow-test-{tmp_path.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert server.recv(1024) == b"READY=1"


def test_outside_systemd_everything_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_interval is None
    notifier.ready()
    notifier.watchdog()
