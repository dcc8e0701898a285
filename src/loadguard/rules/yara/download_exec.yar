// Download-and-run: fetch code from the network and hand it straight to a
// shell or an interpreter, with no integrity check.

rule LG_YARA_DOWNLOAD_PIPE_SHELL
{
    meta:
        id = "LG-YARA-DLEXEC-001"
        cwe = "CWE-494"
        severity = "critical"
        description = "Download piped into a shell (curl|sh, wget -O- | bash)"
        family = "download-exec"
    strings:
        $curl = /\b(curl|wget)\s[^\n|;]{0,200}\|\s*(sudo\s+)?(\/bin\/|\/usr\/bin\/)?(ba|z|da|k)?sh\b/ ascii
        $py = /\b(curl|wget)\s[^\n|;]{0,200}\|\s*(sudo\s+)?python[0-9.]*\s*(-\s*)?(["'\n;)]|$)/ ascii
        $sub = /(ba|z)?sh\s+-c\s+["']?\$\(\s*(curl|wget)\s/ ascii
        $dlrun = /\b(curl|wget)\s[^\n;]{0,200}(-o|-O)\s*\/tmp\/[^\s;&]+\s*(;|&&)\s*(chmod\s+\+?[0-7x]+\s+\/tmp\/[^\s;&]+\s*(;|&&)\s*)?(\.\/|\/tmp\/|sh\s|bash\s)/ ascii
    condition:
        any of them
}

rule LG_YARA_DOWNLOAD_PY_EXEC
{
    meta:
        id = "LG-YARA-DLEXEC-002"
        cwe = "CWE-494"
        severity = "critical"
        description = "Python fetches a URL and executes the response (exec/eval of urlopen/requests output)"
        family = "download-exec"
    strings:
        $a = /\b(exec|eval)\s*\(\s*(urllib\.request\.|urllib2\.|request\.)?urlopen\s*\(/ ascii
        $b = /\b(exec|eval)\s*\(\s*(requests|httpx)\.get\s*\([^)]{0,300}\)\s*\.(text|content)/ ascii
        $c = /\b(exec|eval)\s*\(\s*(urllib\.request\.)?urlopen\s*\([^)]{0,300}\)\.read\(\)/ ascii
        $d = /pickle\.loads\s*\(\s*(requests|httpx)\.get\s*\(/ ascii
        $e = /pickle\.loads\s*\(\s*(urllib\.request\.)?urlopen\s*\(/ ascii
    condition:
        any of them
}

rule LG_YARA_RUNTIME_PIP_INSTALL
{
    meta:
        id = "LG-YARA-DLEXEC-003"
        cwe = "CWE-829"
        severity = "medium"
        description = "Package installation launched from code (pip install at runtime)"
        family = "download-exec"
    strings:
        $a = /["'\[]\s*-m\s*["']?\s*,?\s*["']pip["']\s*,\s*["']install["']/ ascii
        $b = /(os\.system|subprocess\.\w+|popen)\s*\(\s*f?["'][^"'\n]{0,40}pip3?\s+install\b/ ascii
        $c = /pip\._internal\.(main|cli)/ ascii
        $d = /\bpipmain\s*\(\s*\[\s*["']install["']/ ascii
    condition:
        filesize < 64MB and any of them
}
