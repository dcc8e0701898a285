"""Attacks run under ``loadguard trial``: the layers stop them and the report shows them.

Every payload is harmless if run outside the sandbox: it connects only to a
listener this test opens on 127.0.0.1, reads a fake credential file under
pytest's temp dir, writes only under that temp dir, and bounds its own loops.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import received_connection
from loadguard.sandbox.launcher import SandboxConfig
from loadguard.sandbox.layers import LayerStatus
from loadguard.sandbox.trial import TrialReport, run_trial

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sandbox uses Linux namespaces"
)


def _trial(
    tmp_path: Path, source: str, *, env: dict[str, str] | None = None, **config: object
) -> TrialReport:
    model = tmp_path / "model"
    model.mkdir()
    (model / "attack.py").write_text(textwrap.dedent(source))
    options: dict[str, object] = {"timeout": 30.0, "settle_seconds": 0.2, **config}
    settings = SandboxConfig(env=env or {}, **options)  # type: ignore[arg-type]
    return run_trial(
        model / "attack.py",
        config=settings,
        static=False,
        steps=[{"kind": "modules", "modules": ["attack.py"]}],
    )


def _events(report: TrialReport) -> list[str]:
    return [e.event for e in report.events]


def _rules(report: TrialReport) -> set[str]:
    return {f.rule_id for f in report.findings}


def test_network_connection_to_the_host_never_arrives(
    tmp_path: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    report = _trial(
        tmp_path,
        """
        import os, socket
        for _ in range(3):
            try:
                socket.create_connection(("127.0.0.1", int(os.environ["LG_TEST_PORT"])), timeout=1)
            except OSError:
                pass
        """,
        env={"LG_TEST_PORT": str(port)},
    )
    assert not received_connection(listener)
    assert "socket.connect" in _events(report)
    assert "LG-DYN-003" in _rules(report)
    layers = {layer.name: layer for layer in report.layers}
    assert layers["network namespace"].status is LayerStatus.APPLIED


def test_credential_outside_the_model_folder_is_not_readable(tmp_path: Path) -> None:
    secret = secrets.token_hex(16)
    creds = tmp_path / "fake-home" / ".aws" / "credentials"
    creds.parent.mkdir(parents=True)
    creds.write_text(f"[default]\naws_secret_access_key = {secret}\n")
    report = _trial(
        tmp_path,
        """
        import os
        try:
            print("LEAK", open(os.environ["LG_TEST_CREDS"]).read())
        except OSError as exc:
            print("refused", exc.errno)
        """,
        env={"LG_TEST_CREDS": str(creds)},
    )
    assert secret not in report.raw.stdout_tail + report.raw.stderr_tail
    assert "refused" in report.raw.stdout_tail
    # the attempt shows in telemetry (an .aws/credentials path is a credential read)
    assert any(e.event == "open-read" for e in report.events)
    assert "LG-DYN-005" in _rules(report)


def test_writes_outside_scratch_do_not_land(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / ".bashrc"
    outside.parent.mkdir()
    report = _trial(
        tmp_path,
        """
        import os
        for target in (os.path.expanduser("~/.bashrc"), os.environ["LG_TEST_OUTSIDE"]):
            try:
                with open(target, "a") as handle:
                    handle.write("echo planted\\n")
            except OSError:
                pass
        """,
        env={"LG_TEST_OUTSIDE": str(outside)},
    )
    assert not outside.exists()
    writes = [e for e in report.events if e.event == "open-write"]
    assert writes, report.events
    assert any(
        f.rule_id == "LG-DYN-004" and f.severity.label == "critical" for f in report.findings
    )


def test_spawning_a_program_is_refused_and_reported(tmp_path: Path) -> None:
    marker = tmp_path / "spawned"
    report = _trial(
        tmp_path,
        """
        import os, subprocess
        try:
            subprocess.run(["touch", os.environ["LG_TEST_MARKER"]], check=False)
        except OSError as exc:
            print("refused", exc.errno)
        """,
        env={"LG_TEST_MARKER": str(marker)},
    )
    assert not marker.exists()
    assert "subprocess.Popen" in _events(report)
    assert "LG-DYN-001" in _rules(report)


def test_fork_bomb_is_bounded_and_the_tree_is_gone(tmp_path: Path) -> None:
    report = _trial(
        tmp_path,
        """
        import os, time
        children = 0
        for _ in range(400):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
        print("forked", children)
        """,
        timeout=8.0,
        max_processes=32,
    )
    forked = [line for line in report.raw.stdout_tail.splitlines() if line.startswith("forked")]
    if forked:  # the loop ended: the process limit stopped it well below 400
        assert int(forked[0].split()[1]) < 400
    assert report.raw.tree_gone, report.raw.leftover_pids
    assert "os.fork" in _events(report)


def test_unbounded_memory_hits_the_address_space_limit(tmp_path: Path) -> None:
    report = _trial(
        tmp_path,
        """
        blocks = []
        for _ in range(64):
            blocks.append(bytearray(256 * 1024 * 1024))
        """,
        memory_bytes=1 << 30,
    )
    assert report.raw.tree_gone
    assert any("address space" in e.layer for e in report.isolation_events), report.isolation_events


def test_sleeping_forever_is_killed_at_the_timeout(tmp_path: Path) -> None:
    report = _trial(
        tmp_path,
        """
        import os, time
        if os.fork() == 0:
            time.sleep(3600)
        time.sleep(3600)
        """,
        timeout=3.0,
    )
    assert report.raw.timed_out
    assert report.raw.tree_gone, report.raw.leftover_pids
    assert any(e.layer == "wall-clock timeout" for e in report.isolation_events)


def test_tampering_with_telemetry_is_visible(tmp_path: Path) -> None:
    report = _trial(
        tmp_path,
        """
        import os, sys
        sys.addaudithook(lambda event, args: None)
        os.closerange(3, 256)  # try to cut the telemetry pipe
        import socket
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except OSError:
            pass
        """,
    )
    assert "LG-DYN-010" in _rules(report)  # the hook attempt was seen before the pipe closed
    assert any("telemetry ended" in note for note in report.notes) or (
        "socket.connect" in _events(report)
    )


def test_ctypes_escape_is_reported_and_exec_still_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ctypes-ran"
    report = _trial(
        tmp_path,
        """
        import ctypes, os
        libc = ctypes.CDLL(None)
        libc.system(("touch " + os.environ["LG_TEST_MARKER"]).encode())
        """,
        env={"LG_TEST_MARKER": str(marker)},
    )
    assert not marker.exists()
    assert any(e.event.startswith("ctypes.") for e in report.events)
    assert "LG-DYN-007" in _rules(report)


def _nobody_python(setpriv: str) -> str | None:
    """An interpreter of this Python version that the unprivileged user can run."""
    import shutil
    import subprocess

    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        os.path.realpath(sys.executable),
        shutil.which(version),
        f"/usr/bin/{version}",
    ):
        if candidate and os.path.exists(candidate):
            probe = subprocess.run([setpriv, *_NOBODY, candidate, "-c", "1"], capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


# a real drop: no capabilities survive into the interpreter or its children
_NOBODY = (
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_unprivileged_user_gets_an_honest_layer_report() -> None:
    import json
    import shutil
    import subprocess
    import sysconfig
    import tempfile

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    python = _nobody_python(setpriv)
    if python is None:
        pytest.skip(f"no python{sys.version_info[:2]} interpreter is executable by nobody")
    # pytest's own temp dirs are private to root; nobody needs to read the model
    base = Path(tempfile.mkdtemp(prefix="lg-unpriv-"))
    try:
        os.chmod(base, 0o755)
        model = base / "model"
        model.mkdir(mode=0o755)
        (model / "m.py").write_text("x = 1\n")
        os.chmod(model / "m.py", 0o644)
        src = Path(__file__).resolve().parent.parent / "src"
        path = os.pathsep.join(
            [str(src), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": path,
            "HOME": str(base),
        }
        probe = subprocess.run(
            [setpriv, *_NOBODY, python, "-c", "import loadguard.sandbox.trial"],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(base),
        )
        if probe.returncode != 0:  # e.g. a checkout or venv inside a private (0700) folder
            pytest.skip(f"loadguard is not importable as nobody here: {probe.stderr[-300:]}")
        script = (
            "import json, sys\n"
            "from loadguard.sandbox.trial import run_trial\n"
            "from loadguard.sandbox.launcher import SandboxConfig\n"
            "config = SandboxConfig(python=sys.executable, timeout=30, settle_seconds=0.1)\n"
            "r = run_trial(sys.argv[1], static=False, config=config,"
            " steps=[{'kind': 'modules', 'modules': ['m.py']}])\n"
            "print(json.dumps({l.name: [l.status.value, l.detail] for l in r.layers}))\n"
        )
        result = subprocess.run(
            [setpriv, *_NOBODY, python, "-c", script, str(model / "m.py")],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(base),
            timeout=120,
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if result.returncode != 0 and "Permission denied" in result.stderr:
        pytest.skip(f"the sources are not readable by nobody here: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr[-2000:]
    layers = json.loads(result.stdout.strip().splitlines()[-1])
    statuses = {name: status for name, (status, _) in layers.items()}
    assert set(statuses.values()) <= {s.value for s in LayerStatus}
    if statuses["user namespace"] == "applied":
        # unprivileged user namespaces: the same isolation as root gets
        assert statuses["non-root user"] == "applied"
        assert statuses["network namespace"] == "applied"
    else:
        # without them nothing is claimed that is not in force
        assert statuses["network namespace"] != "applied", layers


def test_trial_html_report_escapes_what_the_load_said(tmp_path: Path) -> None:
    from loadguard.sandbox.html import render_trial_html

    report = _trial(
        tmp_path,
        """
        import subprocess
        try:
            subprocess.run(["<script>alert(1)</script>"])
        except OSError:
            pass
        """,
    )
    page = render_trial_html(report)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "network namespace" in page and "LG-DYN-001" in page
