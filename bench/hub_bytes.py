"""Bytes downloaded and time to a verdict: remote range-read scan vs download-then-scan.

A fake Hugging Face hub on 127.0.0.1 (tests/hubserver.py) serves one repo
with a 1 GiB torch zip checkpoint and a 1 GiB safetensors file, plus a
config and custom code. Two arms, same analyzers:

  remote  loadguard: hf_snapshot (model_info + range reads) -> scan_snapshot
  full    huggingface_hub.snapshot_download -> scan of the downloaded folder
          (what every download-first scanner must do), and picklescan on the
          folder when it is installed (an anchor tool)

Both arms also read every pickle member of the torch zip and the safetensors
header, as the pickle/weights analyzers do, so the remote arm cannot win by
reading less than a real scan needs. Bytes are counted on the server side.

    PYTHONPATH=src /work/venv/bin/python bench/hub_bytes.py [--gib 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hubserver import HubServer  # noqa: E402
from loadguard.analyzers import DEFAULT_ANALYZERS, REGISTRY  # noqa: E402
from loadguard.engine import scan_snapshot  # noqa: E402
from loadguard.filekinds import classify_all  # noqa: E402
from loadguard.model import FileKind, Snapshot  # noqa: E402
from loadguard.sources.huggingface import hf_snapshot  # noqa: E402
from loadguard.sources.local import snapshot_from_folder  # noqa: E402

# os.system("true") if unpickled; never unpickled here.
PAYLOAD = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
CHUNK = 16 << 20


def build_repo(directory: Path, size: int) -> dict[str, Path | bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    torch_path = directory / "pytorch_model.bin"
    with zipfile.ZipFile(torch_path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", PAYLOAD)
        zf.writestr("archive/byteorder", b"little")
        with zf.open("archive/data/0", "w", force_zip64=True) as member:
            zeros = bytes(CHUNK)
            for _ in range(size // CHUNK):
                member.write(zeros)
        zf.writestr("archive/version", b"3\n")
    st_path = directory / "model.safetensors"
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [size // 4], "data_offsets": [0, size]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    with st_path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(header)) + header)
        fh.truncate(8 + len(header) + size)  # sparse: zeros without writing them
    return {
        "config.json": json.dumps(
            {"model_type": "foo", "auto_map": {"AutoModel": "modeling_foo.FooModel"}}
        ).encode(),
        "modeling_foo.py": b"import os\n\nclass FooModel:\n    pass\n",
        "pytorch_model.bin": torch_path,
        "model.safetensors": st_path,
    }


def read_like_weight_analyzers(snapshot: Snapshot) -> int:
    """Read what pickle/safetensors analyzers read; returns pickle bytes seen."""
    seen = 0
    for path, kind in classify_all(snapshot).items():
        if kind is FileKind.TORCH_ZIP:
            with snapshot.store.open(path) as stream, zipfile.ZipFile(stream) as zf:
                for name in zf.namelist():
                    if name.endswith(".pkl"):
                        seen += len(zf.read(name))
        elif kind is FileKind.SAFETENSORS:
            with snapshot.store.open(path) as stream:
                (length,) = struct.unpack("<Q", stream.read(8))
                json.loads(stream.read(length))
    return seen


def analyzers() -> tuple[str, ...]:
    extra = tuple(a for a in ("pickle", "weights") if a in REGISTRY)
    return tuple(dict.fromkeys(DEFAULT_ANALYZERS + extra))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0, help="size of each weight file")
    args = parser.parse_args()
    size = int(args.gib * (1 << 30)) // CHUNK * CHUNK
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    work = Path(tempfile.mkdtemp(prefix="lg-hub-bench-"))
    server = HubServer().start()
    try:
        started = time.perf_counter()
        files = build_repo(work / "src", size)
        repo = server.state.repo("bench/big")
        commit = repo.commit(files)
        for path in files:
            repo.sha(commit, path)  # the hub knows its hashes before anyone asks
        print(f"built repo: 2 x {size / (1 << 30):.2f} GiB in {time.perf_counter() - started:.1f}s")
        chosen = analyzers()
        print(f"analyzers: {', '.join(chosen) or '(none registered; detection only)'}")

        server.state.bytes_served = 0
        t0 = time.perf_counter()
        snap = hf_snapshot("bench/big", endpoint=server.url)
        remote_result = scan_snapshot(snap, analyzers=chosen)
        pickles = read_like_weight_analyzers(snap)
        remote_seconds = time.perf_counter() - t0
        remote_bytes = server.state.bytes_served
        print(
            f"remote : {remote_bytes:>14,d} bytes  {remote_seconds:7.2f}s  "
            f"verdict {remote_result.verdict.value}  (ledger {snap.metadata['bytes_fetched']:,} "
            f"bytes, {snap.metadata['requests']} range/whole requests, pickle bytes {pickles})"
        )

        import huggingface_hub

        server.state.bytes_served = 0
        t0 = time.perf_counter()
        local = huggingface_hub.snapshot_download(
            "bench/big", local_dir=work / "download", endpoint=server.url
        )
        download_seconds = time.perf_counter() - t0
        folder = snapshot_from_folder(local)
        full_result = scan_snapshot(folder, analyzers=chosen)
        read_like_weight_analyzers(folder)
        full_seconds = time.perf_counter() - t0
        full_bytes = server.state.bytes_served
        print(
            f"full   : {full_bytes:>14,d} bytes  {full_seconds:7.2f}s  "
            f"verdict {full_result.verdict.value}  (download {download_seconds:.2f}s)"
        )
        if importlib.util.find_spec("picklescan") is not None:
            t1 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "picklescan", "-p", local], capture_output=True, check=False
            )
            print(f"picklescan on the download: +{time.perf_counter() - t1:.2f}s")
        else:
            print("picklescan: not installed (anchor skipped)")
        assert remote_result.verdict == full_result.verdict, "both arms must agree"
        print(
            f"ratio  : {full_bytes / max(remote_bytes, 1):,.0f}x fewer bytes, "
            f"{full_seconds / max(remote_seconds, 1e-9):.1f}x faster to a verdict"
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
