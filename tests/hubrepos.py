"""Builders of hub repo content for the hub tests: torch zips, safetensors, pickles (never run)."""

from __future__ import annotations

import io
import json
import struct
import zipfile

# A pickle that would call os.system("true") if anyone unpickled it (nobody does).
EVIL_PICKLE = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
# collections.OrderedDict() with one persistent-id storage reference, like a state dict.
PLAIN_PICKLE = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01."


def torch_zip(
    data_pkl: bytes = PLAIN_PICKLE, tensor_bytes: int = 1 << 20, stem: str = "archive"
) -> bytes:
    """A torch.save-style zip: stored members, data.pkl first, raw storages after."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{stem}/data.pkl", data_pkl)
        zf.writestr(f"{stem}/byteorder", b"little")
        zf.writestr(f"{stem}/data/0", bytes(tensor_bytes))
        zf.writestr(f"{stem}/version", b"3\n")
    return buffer.getvalue()


def safetensors(tensor_bytes: int = 1 << 20) -> bytes:
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [tensor_bytes // 4], "data_offsets": [0, tensor_bytes]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + bytes(tensor_bytes)


def transformers_repo(weights: bytes | None = None) -> dict[str, bytes]:
    config = {"model_type": "bert", "architectures": ["BertModel"]}
    files = {
        "config.json": json.dumps(config).encode(),
        "README.md": b"# a model\n",
        "model.safetensors": safetensors(),
    }
    if weights is not None:
        files["pytorch_model.bin"] = weights
    return files


def custom_code_repo() -> dict[str, bytes]:
    config = {
        "model_type": "foo",
        "auto_map": {"AutoModel": "modeling_foo.FooModel"},
    }
    return {
        "config.json": json.dumps(config).encode(),
        "modeling_foo.py": b"import os\n\nclass FooModel:\n    def __init__(self):\n"
        b"        os.system('true')\n",
        "pytorch_model.bin": torch_zip(),
    }


class ReadAllAnalyzer:
    """A test analyzer that reads every weight file to its end (as a pickle walker may)."""

    name = "readall"
    version = "1"

    def wants(self, entry: object, kind: object) -> bool:
        return str(getattr(entry, "path", "")).endswith(".bin")

    def analyze_file(self, ctx: object, entry: object, kind: object) -> object:
        from loadguard.analyzers.base import AnalyzerOutput
        from loadguard.model import ScanError

        path = entry.path  # type: ignore[attr-defined]
        try:
            with ctx.snapshot.store.open(path) as stream:  # type: ignore[attr-defined]
                while stream.read(1 << 20):
                    pass
        except OSError as exc:
            return AnalyzerOutput(errors=(ScanError(path, self.name, str(exc), "unreadable"),))
        return AnalyzerOutput()
