"""``loadguard.guard()``: the same attacks as under trial, blocked in-process and reported.

Harmless if the guard failed: connections go to a listener on 127.0.0.1,
writes land under pytest's temp dir, the program run is ``true``.
"""

from __future__ import annotations

import ctypes
import pickle
import socket
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

import pytest

import loadguard
from conftest import received_connection
from loadguard import inprocess_guard as guard_module
from loadguard.inprocess_guard import GuardEvent, GuardPolicy, GuardViolation, guard


@pytest.fixture(autouse=True)
def only_scratch_is_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scratch = tmp_path / "cache"
    scratch.mkdir()
    monkeypatch.setattr(guard_module, "_cache_dirs", lambda: iter([str(scratch)]))
    return scratch


def test_public_api() -> None:
    assert loadguard.guard is guard
    assert loadguard.GuardViolation is GuardViolation


def test_network_to_a_non_hub_host_is_blocked(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with guard() as g, pytest.raises(GuardViolation) as info:
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert not received_connection(listener)
    assert info.value.event.category == "network"
    assert [e.category for e in g.events] == ["network"]


def test_loopback_can_be_allowed(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with guard(policy=GuardPolicy(allow_loopback=True)) as g:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert received_connection(listener) and not g.events


def test_writes_outside_the_caches_are_blocked(
    tmp_path: Path, only_scratch_is_writable: Path
) -> None:
    bashrc = tmp_path / "home" / ".bashrc"
    bashrc.parent.mkdir()
    with guard() as g:
        with pytest.raises(GuardViolation):
            bashrc.open("a").write("echo planted\n")
        (only_scratch_is_writable / "model.bin").write_bytes(b"ok")  # the cache is fine
        with pytest.raises(GuardViolation):
            (only_scratch_is_writable / "model.bin").rename(tmp_path / "moved.bin")
    assert not bashrc.exists() and not (tmp_path / "moved.bin").exists()
    assert [e.category for e in g.events] == ["file-write", "file-write"]


def test_process_creation_is_blocked(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with guard() as g, pytest.raises(GuardViolation):
        subprocess.run(["touch", str(marker)], check=False)
    assert not marker.exists()
    assert g.events[0].category == "process"


def test_ctypes_outside_installed_libraries_is_blocked() -> None:
    with guard() as g, pytest.raises(GuardViolation):
        ctypes.CDLL(None)  # the process itself: libc's system() is one lookup away
    assert g.events[0].category == "native"


def test_pickle_globals_outside_the_allowlist_are_blocked() -> None:
    benign = pickle.dumps(OrderedDict(weight=[1.0, 2.0]))
    hostile = b"cos\ngetcwd\n(tR."  # os.getcwd(): harmless, but code, not data
    with guard() as g:
        assert pickle.loads(benign) == OrderedDict(weight=[1.0, 2.0])
        with pytest.raises(GuardViolation):
            pickle.loads(hostile)
    assert [e.detail for e in g.events] == ["pickle imports os.getcwd"]
    with guard(policy=GuardPolicy(pickle_globals=("os.getcwd",))):
        pickle.loads(hostile)


def test_monitor_mode_records_without_blocking(listener: socket.socket) -> None:
    seen: list[GuardEvent] = []
    port = listener.getsockname()[1]
    with guard(mode="monitor", on_event=seen.append) as g:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert received_connection(listener)  # monitor: the connection happened
    assert g.events == seen and seen[0].category == "network" and not seen[0].blocked


def test_decorator_form() -> None:
    @guard()
    def load() -> None:
        subprocess.run(["true"], check=False)

    with pytest.raises(GuardViolation):
        load()
    subprocess.run(["true"], check=True)  # outside the guard nothing is judged


def test_only_the_guarded_thread_and_its_children_are_judged() -> None:
    outcome: dict[str, object] = {}
    ready, release = threading.Event(), threading.Event()

    def bystander() -> None:  # a thread of the application, not of the load
        ready.set()
        release.wait(5)
        try:
            subprocess.run(["true"], check=True)
            outcome["bystander"] = "ran"
        except GuardViolation:
            outcome["bystander"] = "blocked"

    def payload() -> None:  # a thread the load starts (a reverse shell would)
        try:
            subprocess.run(["true"], check=True)
            outcome["payload"] = "ran"
        except GuardViolation:
            outcome["payload"] = "blocked"

    other = threading.Thread(target=bystander)
    other.start()
    ready.wait(5)
    with guard():
        release.set()
        child = threading.Thread(target=payload)
        child.start()
        child.join(5)
        other.join(5)
    assert outcome == {"bystander": "ran", "payload": "blocked"}


def test_guards_nest_and_unwind() -> None:
    with guard(mode="monitor") as outer:
        with guard() as inner, pytest.raises(GuardViolation):
            subprocess.run(["true"], check=False)
        subprocess.run(["true"], check=True)
    assert len(inner.events) == 1 and len(outer.events) == 1
