// Pickle opcode byte patterns that import a code-execution callable.
// GLOBAL (protocol 0-1) is "c" module "\n" name "\n" (INST "i" reads the same
// two lines and calls the result); STACK_GLOBAL
// (protocol 2+) pushes two strings (SHORT_BINUNICODE 0x8c, BINUNICODE 0x58,
// BINUNICODE8 0x8d or SHORT_BINSTRING 0x55), optionally memoized (0x94) and fetched back (BINGET h / LONG_BINGET j),
// then 0x93. Torch zip checkpoints store
// data.pkl uncompressed, so the same bytes show inside .bin/.pt files.
// This is a byte-level second opinion; the pickle analyzer does the real
// opcode walk.

rule LG_YARA_PICKLE_GLOBAL_EXEC
{
    meta:
        id = "LG-YARA-PICKLE-001"
        cwe = "CWE-502"
        severity = "critical"
        description = "Pickle GLOBAL or INST opcode importing a command or code execution callable"
        family = "pickle"
    strings:
        // INST only after a non-word byte: "print\nopen\n" in a vocab file is not "i nt\n open\n"
        $g = /(c|[^A-Za-z0-9_]i)(os|posix|nt|subprocess|commands|pty|runpy|builtins|__builtin__|_?operator|importlib|socket|shutil|webbrowser|code|marshal|types|timeit|pip|pdb|c?[Pp]rofile|_?pickle|numpy\.testing\._private\.utils|_posixsubprocess|_?ctypes)\n(system|popen|popen2|popen3|exec[lv]?[ep]?|spawn[lv]?[ep]?|startfile|run|call|check_call|check_output|getoutput|getstatusoutput|Popen|run_path|run_module|_run_code|eval|exec|compile|__import__|getattr|open|import_module|create_connection|rmtree|interact|loads|FunctionType|CodeType|attrgetter|methodcaller|timeit|repeat|main|runstring|runctx|runcall|_run_module_as_main|fork_exec|CDLL|PyDLL|LoadLibrary|dlopen)\n/
    condition:
        $g
}

rule LG_YARA_PICKLE_STACK_GLOBAL_EXEC
{
    meta:
        id = "LG-YARA-PICKLE-002"
        cwe = "CWE-502"
        severity = "critical"
        description = "Pickle STACK_GLOBAL importing a command or code execution callable"
        family = "pickle"
    strings:
        $sg = /(\x8c[\x02-\x1c]|X[\x02-\x1c]\x00\x00\x00|\x8d[\x02-\x1c]\x00{7}|U[\x02-\x1c])(os|posix|nt|subprocess|commands|pty|runpy|builtins|__builtin__|_?operator|importlib|socket|shutil|webbrowser|code|marshal|types|timeit|pip|pdb|c?[Pp]rofile|_?pickle|numpy\.testing\._private\.utils|_posixsubprocess|_?ctypes)\x94?(h[\x00-\xff]|j[\x00-\xff]{4})?(\x8c[\x03-\x1a]|X[\x03-\x1a]\x00\x00\x00|\x8d[\x03-\x1a]\x00{7}|U[\x03-\x1a])(system|popen|exec[lv]?[ep]?|spawn[lv]?[ep]?|startfile|run|call|check_call|check_output|getoutput|getstatusoutput|Popen|run_path|run_module|_run_code|eval|exec|compile|__import__|getattr|import_module|create_connection|rmtree|interact|loads|FunctionType|CodeType|attrgetter|methodcaller|timeit|repeat|main|runstring|runctx|runcall|_run_module_as_main|fork_exec|CDLL|PyDLL|LoadLibrary|dlopen)\x94?\x93/
    condition:
        $sg
}

rule LG_YARA_PICKLE_REDUCE_SHELL_STRING
{
    meta:
        id = "LG-YARA-PICKLE-003"
        cwe = "CWE-502"
        severity = "high"
        description = "Pickle stream carrying a shell command or code string next to a REDUCE"
        family = "pickle"
    strings:
        $cmd = /(\x8c[\x04-\xff]|X[\x04-\xff][\x00-\xff]{3})(curl |wget |bash -|sh -c|\/bin\/sh|nc -e|import os|__import__\(|exec\(|eval\()/
    condition:
        uint8(0) == 0x80 and $cmd
}
