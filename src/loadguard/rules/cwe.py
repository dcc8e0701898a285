"""CWE identifiers loadguard reports, with their official short names.

Every analyzer (native, YARA, Bandit, Semgrep, CodeQL adapters) maps its rules
onto these ids so reports can group and merge findings across tools.
"""

from __future__ import annotations

CWE_NAMES: dict[str, str] = {
    "CWE-20": "Improper Input Validation",
    "CWE-78": "Improper Neutralization of Special Elements used in an OS Command",
    "CWE-94": "Improper Control of Generation of Code ('Code Injection')",
    "CWE-95": "Improper Neutralization of Directives in Dynamically Evaluated Code",
    "CWE-200": "Exposure of Sensitive Information to an Unauthorized Actor",
    "CWE-312": "Cleartext Storage of Sensitive Information",
    "CWE-327": "Use of a Broken or Risky Cryptographic Algorithm",
    "CWE-328": "Use of Weak Hash",
    "CWE-330": "Use of Insufficiently Random Values",
    "CWE-338": "Use of Cryptographically Weak Pseudo-Random Number Generator (PRNG)",
    "CWE-377": "Insecure Temporary File",
    "CWE-470": "Use of Externally-Controlled Input to Select Classes or Code",
    "CWE-494": "Download of Code Without Integrity Check",
    "CWE-502": "Deserialization of Untrusted Data",
    "CWE-506": "Embedded Malicious Code",
    "CWE-522": "Insufficiently Protected Credentials",
    "CWE-532": "Insertion of Sensitive Information into Log File",
    "CWE-552": "Files or Directories Accessible to External Parties",
    "CWE-703": "Improper Check or Handling of Exceptional Conditions",
    "CWE-732": "Incorrect Permission Assignment for Critical Resource",
    "CWE-798": "Use of Hard-coded Credentials",
    "CWE-829": "Inclusion of Functionality from Untrusted Control Sphere",
    "CWE-912": "Hidden Functionality",
    "CWE-918": "Server-Side Request Forgery (SSRF)",
    "CWE-1104": "Use of Unmaintained Third Party Components",
}


def cwe_name(cwe: str) -> str:
    """The CWE's short name, or the id itself when loadguard does not know it."""
    return CWE_NAMES.get(normalize(cwe), cwe)


def normalize(cwe: str | int) -> str:
    """``78``, ``"78"``, ``"cwe-78"`` -> ``"CWE-78"``."""
    text = str(cwe).strip().upper()
    if text.startswith("CWE-"):
        text = text[4:]
    return f"CWE-{int(text)}" if text.isdigit() else str(cwe)
