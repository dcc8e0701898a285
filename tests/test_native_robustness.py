"""Bad input becomes an error entry, never a crash; folding never blows up."""

import base64
import zlib

from loadguard.analyzers.base import AnalysisContext
from loadguard.analyzers.native import NativeAnalyzer, analyze_source
from loadguard.model import FileEntry, FileKind, LoadPlan, Platform, Snapshot


def _errors(data: bytes) -> list[str]:
    return [e.kind for e in analyze_source(data, "bad.py").errors]


def test_python2_syntax_error_nul():
    assert _errors(b"print 'hello'\n") == ["python2"]
    assert _errors(b"def f(:\n") == ["parse"]
    assert _errors(b"x = 1\x00\n") == ["parse"]


def test_deep_expressions_do_not_recurse():
    chain = "x = " + "+".join(["'a'"] * 2_000) + "\nexec(x)\n"
    output = analyze_source(chain.encode(), "long.py")
    assert output.errors == ()
    assert any(f.rule_id == "LG-EXEC-003" for f in output.findings)  # folded, iteratively
    longer = "x = " + "+".join(["'a'"] * 50_000) + "\n"
    output = analyze_source(longer.encode(), "longer.py")
    assert output.findings == () and [e.kind for e in output.errors] in ([], ["too-deep"])
    nested = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    output = analyze_source(nested.encode(), "deep.py")
    assert output.findings == () or output.errors == ()
    deep_calls = "f(" * 3000 + ")" * 3000 + "\n"
    analyze_source(deep_calls.encode(), "calls.py")  # either parsed or an error, no exception


def test_huge_literals_and_bombs_are_capped():
    big = "x = '" + "a" * 3_000_000 + "'\nexec(x * 1000)\n"
    output = analyze_source(big.encode(), "big.py")
    assert output.errors == ()
    bomb = base64.b64encode(zlib.compress(b"\x00" * (50 << 20))).decode()
    output = analyze_source(
        f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{bomb}')))\n".encode(),
        "bomb.py",
    )
    # too big to fold: judged as exec of data decoded at run time
    assert any(f.rule_id == "LG-OBF-001" for f in output.findings)


def test_format_width_bomb_not_folded():
    output = analyze_source(b"x = '%9999999999s' % 'a'\nexec(x)\n", "fmt.py")
    assert output.errors == ()


class _Store:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def open(self, path: str):  # pragma: no cover - not used by the native analyzer
        import io

        return io.BytesIO(self.files[path])

    def read(self, path: str, limit: int) -> bytes:
        return self.files[path]


def test_file_analyzer_protocol_and_errors():
    files = {"modeling_x.py": b"import os\nos.system('true')\n", "old.py": b"print 'x'\n"}
    snapshot = Snapshot(
        Platform.LOCAL,
        "local/x",
        tuple(FileEntry(p, len(b)) for p, b in files.items()),
        _Store(files),
    )
    ctx = AnalysisContext(snapshot, LoadPlan((), (), ()), dict.fromkeys(files, FileKind.PYTHON))
    analyzer = NativeAnalyzer()
    good = analyzer.analyze_file(ctx, snapshot.files[0], FileKind.PYTHON)
    assert [f.rule_id for f in good.findings] == ["LG-CMD-001"]
    assert good.findings[0].snippet == "os.system('true')"
    assert good.findings[0].cwe == ("CWE-78",)
    bad = analyzer.analyze_file(ctx, snapshot.files[1], FileKind.PYTHON)
    assert bad.findings == () and bad.errors[0].kind == "python2"
    assert analyzer.wants(snapshot.files[0], FileKind.PYTHON)
    assert not analyzer.wants(snapshot.files[0], FileKind.JSON)


def test_registered_by_default():
    from loadguard.analyzers import DEFAULT_ANALYZERS, REGISTRY, load_analyzer

    assert "native" in DEFAULT_ANALYZERS
    assert load_analyzer("native").name == "native" and "native" in REGISTRY
