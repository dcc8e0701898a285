"""Property: folding arbitrary literal expressions never raises and never evaluates."""

from hypothesis import given, settings
from hypothesis import strategies as st

from loadguard.analyzers.native import analyze_source

atoms = st.one_of(
    st.text(max_size=12).map(repr),
    st.binary(max_size=12).map(repr),
    st.integers(min_value=-3, max_value=300).map(str),
    st.sampled_from(["x", "os", "exec", "__builtins__", "globals()", "sys.modules"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: f"({p[0]} + {p[1]})"),
        pair.map(lambda p: f"({p[0]} % {p[1]})"),
        pair.map(lambda p: f"({p[0]} * {p[1]})"),
        pair.map(lambda p: f"({p[0]} / {p[1]})"),
        pair.map(lambda p: f"{p[0]}.join([{p[1]}, {p[0]}])"),
        pair.map(lambda p: f"{p[0]}.format({p[1]})"),
        pair.map(lambda p: f"getattr({p[0]}, {p[1]})"),
        pair.map(lambda p: f"{p[0]}[{p[1]}]"),
        pair.map(lambda p: f"codecs.decode({p[0]}, {p[1]})"),
        children.map(lambda c: f"base64.b64decode({c})"),
        children.map(lambda c: f"zlib.decompress({c})"),
        children.map(lambda c: f"bytes.fromhex({c})"),
        children.map(lambda c: f"chr({c})"),
        children.map(lambda c: f"bytes([{c}, 1])"),
        children.map(lambda c: f"{c}[::-1]"),
        children.map(lambda c: f"{c}.decode()"),
        children.map(lambda c: f"__import__({c})"),
        children.map(lambda c: f"f'{{{c}}}'"),
    )


expressions = st.recursive(atoms, _combine, max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(expressions, st.sampled_from(["exec({})", "v = {}\nexec(v)", "os.system({})", "{}()"]))
def test_any_literal_expression_is_analysed_without_crashing(expression, template):
    source = "import os, sys, base64, zlib, codecs\n" + template.format(expression) + "\n"
    output = analyze_source(source.encode("utf-8", "surrogatepass"), "prop.py")
    for finding in output.findings:
        assert finding.rule_id.startswith("LG-")
        assert finding.location.line is not None
