"""Fuzz targets: each takes arbitrary bytes and must only ever fail in documented ways.

Run coverage-guided with atheris (``python fuzz/run.py TARGET --seconds N``)
or as property tests with hypothesis (``tests/test_fuzz_smoke.py``). A target
raising anything but the allowed errors is a bug; every crash found becomes a
regression test.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from loadguard.engine import scan_snapshot
from loadguard.errors import SourceError
from loadguard.model import ScanResult
from loadguard.sources.archive import iter_archive_snapshots
from loadguard.sources.memory import snapshot_from_mapping

CONFIG_NAMES = (
    "config.json",
    "tokenizer_config.json",
    "modules.json",
    "model_index.json",
    "configuration.json",
    "adapter_config.json",
    "preprocessor_config.json",
)


def _check(result: ScanResult) -> None:
    # the result must serialize: reports are part of what must not crash
    from loadguard.report.json import dumps, results_to_document

    dumps(results_to_document([result]))


def fuzz_config(data: bytes) -> None:
    """One config file of arbitrary content next to plausible code files."""
    name = CONFIG_NAMES[data[0] % len(CONFIG_NAMES)] if data else "config.json"
    files = {
        name: data[1:],
        "modeling.py": b"from .helpers import x\nclass M: pass\n",
        "helpers.py": b"x = 1\n",
        "hubconf.py": data[1:] if data[:1] == b"#" else b"def entry(): pass\n",
    }
    _check(scan_snapshot(snapshot_from_mapping(files), analyzers=()))


def fuzz_auto_map(data: bytes) -> None:
    """Structured: an auto_map whose values are arbitrary strings from the input."""
    parts = data.decode("utf-8", "replace").split("\x00")
    auto_map: dict[str, object] = {}
    for index, part in enumerate(parts[:8]):
        auto_map[f"AutoModel{index}"] = [part, None] if index % 3 == 0 else part
    files = {
        "config.json": json.dumps({"auto_map": auto_map}).encode(),
        "tokenizer_config.json": json.dumps({"auto_map": parts[:2]}).encode(),
    }
    for part in parts[:8]:
        module = part.split("--")[-1].rpartition(".")[0]
        if module:
            files[f"{module}.py"] = part.encode("utf-8", "replace")
    _check(scan_snapshot(snapshot_from_mapping(files), analyzers=()))


def fuzz_python(data: bytes) -> None:
    """Arbitrary bytes as a module the loader executes (parse, imports, closure)."""
    files = {
        "config.json": b'{"auto_map": {"AutoModel": "modeling.M"}}',
        "modeling.py": data,
        "hubconf.py": data,
    }
    _check(scan_snapshot(snapshot_from_mapping(files)))


def _scan_archive(path: Path) -> None:
    try:
        for snapshot in iter_archive_snapshots(path):
            _check(scan_snapshot(snapshot, analyzers=()))
    except SourceError:
        pass  # "not a readable archive" is the documented outcome


def fuzz_zip(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.zip"
        path.write_bytes(_mutate_zip(data))
        _scan_archive(path)


def fuzz_tar(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tar"
        path.write_bytes(_mutate_tar(data))
        _scan_archive(path)


def _mutate_zip(data: bytes) -> bytes:
    """A valid zip built from the input's names and contents, with the tail mutated."""
    buf = io.BytesIO()
    chunks = data.split(b"\x00")
    with zipfile.ZipFile(buf, "w") as archive:
        for name, content in zip(chunks[::2], chunks[1::2]):
            archive.writestr(name.decode("utf-8", "replace") or "empty", content)
    raw = bytearray(buf.getvalue())
    if data and raw:
        raw[data[0] % len(raw)] ^= data[-1]
    return bytes(raw)


def _mutate_tar(data: bytes) -> bytes:
    buf = io.BytesIO()
    chunks = data.split(b"\x00")
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, content in zip(chunks[::2], chunks[1::2]):
            info = tarfile.TarInfo(name.decode("utf-8", "replace") or "empty")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    raw = bytearray(buf.getvalue())
    if data and raw:
        raw[data[0] % len(raw)] ^= data[-1]
    return bytes(raw)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "config": fuzz_config,
    "auto_map": fuzz_auto_map,
    "python": fuzz_python,
    "zip": fuzz_zip,
    "tar": fuzz_tar,
}
