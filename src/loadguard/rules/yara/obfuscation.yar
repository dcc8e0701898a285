// Obfuscated execution: code decoded from an encoded literal and executed, or
// a dangerous callable assembled from pieces so that no plain name shows.
// The native analyzer decodes these properly; this is the byte-level net that
// also covers non-Python files and files the AST cannot parse.

rule LG_YARA_OBF_DECODE_EXEC
{
    meta:
        id = "LG-YARA-OBF-001"
        cwe = "CWE-506, CWE-94"
        severity = "critical"
        description = "Encoded or compressed payload decoded and executed in one expression"
        family = "obfuscation"
    strings:
        $a = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(zlib\.decompress|lzma\.decompress|bz2\.decompress|gzip\.decompress|base64\.(b64|b32|b16|b85|a85|urlsafe_b64)decode|bytes\.fromhex|binascii\.(unhexlify|a2b_base64)|codecs\.decode|marshal\.loads)\s*\(/ ascii
        $b = /\b(exec|eval)\s*\(\s*["'][^"'\n]{0,40}["']\s*\.join\s*\(\s*(map\s*\(\s*)?chr\b/ ascii
        $c = /\b(exec|eval)\s*\(\s*codecs\.decode\s*\([^)]{0,4000}["']rot[_-]?13["']/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_OBF_DYNAMIC_IMPORT
{
    meta:
        id = "LG-YARA-OBF-002"
        cwe = "CWE-506"
        severity = "high"
        description = "Module or callable name assembled at run time to hide it (getattr(__import__(...)), __builtins__ lookup)"
        family = "obfuscation"
    strings:
        $imp_concat = /__import__\s*\(\s*["'][\w.]{0,12}["']\s*\+\s*["']/ ascii
        $imp_decode = /__import__\s*\(\s*(bytes\.fromhex|codecs\.decode|base64\.\w+decode|["'][^"'\n]{0,4}["']\s*\.join|["'][\w.]*["']\s*\[\s*::\s*-1\s*\])/ ascii
        $attr_concat = /getattr\s*\(\s*(__import__|importlib\.import_module)\s*\([^)]{1,80}\)\s*,\s*["']\w{1,12}["']\s*\+/ ascii
        $attr_decode = /getattr\s*\(\s*(__import__|importlib\.import_module)\s*\([^)]{1,80}\)\s*,\s*(bytes\.fromhex|codecs\.decode|["'][^"'\n]{0,4}["']\s*\.join|base64\.\w+decode)/ ascii
        $builtins = /__builtins__\s*\)?\s*\)?\s*(\.__dict__)?\s*\[\s*["'](exec|eval|__import__|compile)["']\s*\]/ ascii
        $builtins2 = /getattr\s*\(\s*(__builtins__|builtins)\s*,\s*["'](exec|eval|__import__)["']\s*\)/ ascii
        $globals = /globals\s*\(\s*\)\s*\[\s*["'](exec|eval|__import__)["']\s*\]/ ascii
    condition:
        filesize < 64MB and any of them
}
