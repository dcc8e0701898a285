"""Every Bandit test id mapped to CWE, plus the severity ceiling loadguard applies.

The CWE tuples list the CWE the engine merges on first (the one loadguard's
native rules use for the same danger, so ``exec`` found by Bandit and by the
native analyzer on one line becomes one finding) and Bandit's own CWE after
it when they differ. Hygiene tests (``assert``, "hardcoded password" on
tokenizer special tokens, unpinned downloads) are capped at INFO/LOW: on 390
benign model repos they were 285 findings and none about load-time danger.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Severity


@dataclass(frozen=True)
class BanditRule:
    name: str
    cwe: tuple[str, ...]
    ceiling: Severity = Severity.CRITICAL  # Bandit's severity is capped at this


INFO, L, M = Severity.INFO, Severity.LOW, Severity.MEDIUM

BANDIT_RULES: dict[str, BanditRule] = {
    "B101": BanditRule("assert_used", ("CWE-703",), INFO),
    "B102": BanditRule("exec_used", ("CWE-95", "CWE-78")),
    "B103": BanditRule("set_bad_file_permissions", ("CWE-732",), L),
    "B104": BanditRule("hardcoded_bind_all_interfaces", ("CWE-605",), L),
    "B105": BanditRule("hardcoded_password_string", ("CWE-259",), INFO),
    "B106": BanditRule("hardcoded_password_funcarg", ("CWE-259",), INFO),
    "B107": BanditRule("hardcoded_password_default", ("CWE-259",), INFO),
    "B108": BanditRule("hardcoded_tmp_directory", ("CWE-377",), L),
    "B110": BanditRule("try_except_pass", ("CWE-703",), L),
    "B112": BanditRule("try_except_continue", ("CWE-703",), L),
    "B113": BanditRule("request_without_timeout", ("CWE-400",), L),
    "B201": BanditRule("flask_debug_true", ("CWE-94",)),
    "B202": BanditRule("tarfile_unsafe_members", ("CWE-22",)),
    "B301": BanditRule("pickle", ("CWE-502",)),
    "B302": BanditRule("marshal", ("CWE-502",)),
    "B303": BanditRule("md5", ("CWE-327", "CWE-328"), L),
    "B304": BanditRule("ciphers", ("CWE-327",), L),
    "B305": BanditRule("cipher_modes", ("CWE-327",), L),
    "B306": BanditRule("mktemp_q", ("CWE-377",), L),
    "B307": BanditRule("eval", ("CWE-95", "CWE-78")),
    "B308": BanditRule("mark_safe", ("CWE-80",), L),
    "B310": BanditRule("urllib_urlopen", ("CWE-22",), L),
    "B311": BanditRule("random", ("CWE-330", "CWE-338"), L),
    "B312": BanditRule("telnetlib", ("CWE-319",), L),
    "B313": BanditRule("xml_bad_cElementTree", ("CWE-20",), L),
    "B314": BanditRule("xml_bad_ElementTree", ("CWE-20",), L),
    "B315": BanditRule("xml_bad_expatreader", ("CWE-20",), L),
    "B316": BanditRule("xml_bad_expatbuilder", ("CWE-20",), L),
    "B317": BanditRule("xml_bad_sax", ("CWE-20",), L),
    "B318": BanditRule("xml_bad_minidom", ("CWE-20",), L),
    "B319": BanditRule("xml_bad_pulldom", ("CWE-20",), L),
    "B320": BanditRule("xml_bad_etree", ("CWE-20",), L),
    "B321": BanditRule("ftplib", ("CWE-319",), L),
    "B322": BanditRule("input", ("CWE-78",), L),
    "B323": BanditRule("unverified_context", ("CWE-295",), L),
    "B324": BanditRule("hashlib_insecure_functions", ("CWE-327", "CWE-328"), L),
    "B325": BanditRule("tempnam", ("CWE-377",), L),
    "B401": BanditRule("import_telnetlib", ("CWE-319",), INFO),
    "B402": BanditRule("import_ftplib", ("CWE-319",), INFO),
    "B403": BanditRule("import_pickle", ("CWE-502",), INFO),
    "B404": BanditRule("import_subprocess", ("CWE-78",), INFO),
    "B405": BanditRule("import_xml_etree", ("CWE-20",), INFO),
    "B406": BanditRule("import_xml_sax", ("CWE-20",), INFO),
    "B407": BanditRule("import_xml_expat", ("CWE-20",), INFO),
    "B408": BanditRule("import_xml_minidom", ("CWE-20",), INFO),
    "B409": BanditRule("import_xml_pulldom", ("CWE-20",), INFO),
    "B410": BanditRule("import_lxml", ("CWE-20",), INFO),
    "B411": BanditRule("import_xmlrpclib", ("CWE-20",), INFO),
    "B412": BanditRule("import_httpoxy", ("CWE-284",), INFO),
    "B413": BanditRule("import_pycrypto", ("CWE-327",), INFO),
    "B414": BanditRule("import_pycryptodome", ("CWE-327",), INFO),
    "B415": BanditRule("import_pyghmi", ("CWE-319",), INFO),
    "B501": BanditRule("request_with_no_cert_validation", ("CWE-295",), M),
    "B502": BanditRule("ssl_with_bad_version", ("CWE-327",), L),
    "B503": BanditRule("ssl_with_bad_defaults", ("CWE-327",), L),
    "B504": BanditRule("ssl_with_no_version", ("CWE-327",), L),
    "B505": BanditRule("weak_cryptographic_key", ("CWE-326",), L),
    "B506": BanditRule("yaml_load", ("CWE-502", "CWE-20")),
    "B507": BanditRule("ssh_no_host_key_verification", ("CWE-295",), L),
    "B508": BanditRule("snmp_insecure_version", ("CWE-319",), L),
    "B509": BanditRule("snmp_weak_cryptography", ("CWE-319",), L),
    "B601": BanditRule("paramiko_calls", ("CWE-78",)),
    "B602": BanditRule("subprocess_popen_with_shell_equals_true", ("CWE-78",)),
    "B603": BanditRule("subprocess_without_shell_equals_true", ("CWE-78",)),
    "B604": BanditRule("any_other_function_with_shell_equals_true", ("CWE-78",)),
    "B605": BanditRule("start_process_with_a_shell", ("CWE-78",)),
    "B606": BanditRule("start_process_with_no_shell", ("CWE-78",)),
    "B607": BanditRule("start_process_with_partial_path", ("CWE-78",), L),
    "B608": BanditRule("hardcoded_sql_expressions", ("CWE-89",), L),
    "B609": BanditRule("linux_commands_wildcard_injection", ("CWE-78",)),
    "B610": BanditRule("django_extra_used", ("CWE-89",), L),
    "B611": BanditRule("django_rawsql_used", ("CWE-89",), L),
    "B612": BanditRule("logging_config_insecure_listen", ("CWE-94",)),
    "B613": BanditRule("trojansource", ("CWE-838",)),
    "B614": BanditRule("pytorch_load", ("CWE-502",)),
    "B615": BanditRule("huggingface_unsafe_download", ("CWE-494",), L),
    "B701": BanditRule("jinja2_autoescape_false", ("CWE-94",), L),
    "B702": BanditRule("use_of_mako_templates", ("CWE-80",), L),
    "B703": BanditRule("django_mark_safe", ("CWE-80",), L),
    "B704": BanditRule("markupsafe_markup_xss", ("CWE-79",), L),
}

UNKNOWN = BanditRule("unknown", ())


def bandit_rule(test_id: str) -> BanditRule:
    """The table entry for a test id; tests added by newer Bandit versions map to no CWE."""
    return BANDIT_RULES.get(test_id, UNKNOWN)
