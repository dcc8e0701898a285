// Download-and-run: fetch code from the network and hand it straight to a
// shell or an interpreter, with no integrity check. The invariant is the
// fetcher's output becoming a program: a pipe into a shell or interpreter
// (also through `tee`, `sudo -E`, `env`, make's `$(SHELL)`), a process substitution or `$(...)`
// handed to one, or a file fetched into a temp dir and run on the same line.

rule LG_YARA_DOWNLOAD_PIPE_SHELL
{
    meta:
        id = "LG-YARA-DLEXEC-001"
        cwe = "CWE-494"
        severity = "critical"
        description = "Download piped into a shell (curl|sh, wget -O- | bash, bash <(curl ...))"
        family = "download-exec"
    strings:
        // fetcher | [tee ... |] [sudo -E | env] shell
        $pipe_sh = /\b(curl|wget|aria2c|fetch\s+-[a-zA-Z]*o\s*-)\s([^\n|;\\]|\\\r?\n|\\[^\n]){0,200}\|\s*(tee\s[^\n|;]{0,80}\|\s*)?((sudo|doas|env|nohup|command|exec|busybox)(\s+(-u\s+\w+|-{1,2}[\w-]+(=[^\s|;]*)?|\w+=[^\s|;]*))*\s+)?["']?((\/usr)?(\/bin\/)?(ba|z|da|k|fi|a)?sh\b|\$\(SHELL\)|\$\{?SHELL\b)/ ascii
        // fetcher | interpreter reading its program from stdin (not `python -m json.tool`)
        $pipe_py = /\b(curl|wget|aria2c|fetch\s+-[a-zA-Z]*o\s*-)\s[^\n|;]{0,200}\|\s*((sudo|doas|env|nohup|command|exec|busybox)(\s+(-u\s+\w+|-{1,2}[\w-]+(=[^\s|;]*)?|\w+=[^\s|;]*))*\s+)?["']?(\/usr)?(\/bin\/)?(python[0-9.]*|perl|ruby|node|php)\s*(-\s*)?(\\?["'\n;)&|]|$)/ ascii
        // sh -c "$(curl ...)", eval "$(curl ...)", python -c "$(curl ...)", `curl ...`
        $subst = /(\b(ba|z|da)?sh\s+-c|\beval|\bpython[0-9.]*\s+-c|\bperl\s+-e|\bruby\s+-e|\bnode\s+-e)\s+(\\?["'])?(\$\(|`)\s*(curl|wget|fetch)\s/ ascii
        // bash <(curl ...), . <(curl ...), source <(wget ...), python3 <(curl ...)
        $procsub = /(\b(ba|z|da|k)?sh|\bsource|(^|[\s;&|])\.|\bpython[0-9.]*|\bperl|\bruby)\s+(<\s*)?<\(\s*(curl|wget|fetch)\s/ ascii
        // fetch into a temp dir, then run it on the same line
        $dlrun = /\b(curl|wget|aria2c)\s[^\n;]{0,200}(-o|-O|--output|--output-document|-d)[\s=]*(\/tmp|\/var\/tmp|\/dev\/shm)\b[^\n]{0,200}(;|&&)\s*(chmod\s+[^\n;&]{0,60}(;|&&)\s*)?(\.\/|\/tmp\/|\/var\/tmp\/|\/dev\/shm\/|(ba|z|da)?sh\s|python[0-9.]*\s)/ ascii
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
        // exec(urlopen(...)), exec(compile(u.urlopen(...)...)), exec(__import__('urllib.request').request.urlopen(...))
        $a = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(__import__\s*\(\s*["'][\w.]{1,30}["']\s*\)\s*\.)?([\w]{1,20}\.){0,3}urlopen\s*\(/ ascii
        $b = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(requests|httpx|urllib3|\w{1,20})\.(get|post|request)\s*\([^)]{0,300}\)\s*\.(text|content|read\(\)|data|json\(\))/ ascii
        $d = /pickle\.loads\s*\(\s*(requests|httpx)\.get\s*\(/ ascii
        $e = /pickle\.loads\s*\(\s*(urllib\.request\.)?urlopen\s*\(/ ascii
        // two steps: r = requests.get(url); exec(r.text)
        $fetch = /\b(requests|httpx)\.get\s*\(/ ascii
        $run_body = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?\w{1,30}\.(text|content)(\.decode\([^)\n]{0,20}\))?\s*[,)]/ ascii
        // body = urlopen(url).read(); ...; exec(body) / pickle.load(BytesIO(body)) /
        // torch.load(BytesIO(body), weights_only=False), a few lines apart
        $via_var = /\b(urlopen|requests\.get|httpx\.get|urllib3\.request)\s*\([\s\S]{0,600}([^.\w](exec|eval)|pickle\.loads?|marshal\.loads)\s*\(\s*(compile\s*\(\s*|(io\.)?BytesIO\s*\(\s*)?[\w.]{1,40}\s*[,)]/ ascii
        $via_var_torch = /\b(urlopen|requests\.get|httpx\.get|urllib3\.request)\s*\([\s\S]{0,600}torch\.load\s*\(\s*(io\.)?BytesIO\s*\([^\n]{0,200}weights_only\s*=\s*False/ ascii
    condition:
        any of ($a, $b, $d, $e, $via_var*) or (filesize < 64MB and $fetch and $run_body)
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
        $e = /(os\.system|subprocess\.\w+|popen)\s*\(\s*[^\n]{0,80}["'][^"'\n]{0,20}-m\s+pip\s+install\b/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_PACKAGE_INDEX_UNTRUSTED
{
    meta:
        id = "LG-YARA-DLEXEC-004"
        cwe = "CWE-829, CWE-319"
        severity = "medium"
        description = "Package index over plain HTTP, at a bare IP address, or marked trusted (pip --index-url/--extra-index-url/--trusted-host)"
        family = "download-exec"
    strings:
        $http = /--(extra-)?index-url[\s=]+["']?http:\/\// ascii
        $ip = /--(extra-)?index-url[\s=]+["']?https?:\/\/([^\/\s"'@]{1,60}@)?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[:\/]/ ascii
        $trusted = /--trusted-host[\s=]+["']?[\w.\-]+/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_DOWNLOAD_WINDOWS
{
    meta:
        id = "LG-YARA-DLEXEC-005"
        cwe = "CWE-494"
        severity = "critical"
        description = "Windows download cradle (PowerShell IEX of a download, certutil/bitsadmin/mshta fetch)"
        family = "download-exec"
    strings:
        $iex1 = /\b(iex|Invoke-Expression)\s*\(?\s*\(?\s*(New-Object\s+(System\.)?Net\.WebClient\s*\)?\s*\.\s*Download(String|Data)|iwr\b|irm\b|Invoke-WebRequest|Invoke-RestMethod|wget\s|curl\s|\[System\.Text\.Encoding\])/ ascii nocase
        $iex2 = /\.\s*Download(String|Data)\s*\([^)\n]{0,200}\)\s*\|\s*(iex|Invoke-Expression)\b/ ascii nocase
        $iex3 = /\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\s[^\n|]{0,200}\|\s*(iex|Invoke-Expression)\b/ ascii nocase
        $certutil = /certutil(\.exe)?\s+[^\n]{0,40}-urlcache\s[^\n]{0,40}https?:\/\// ascii nocase
        $bits = /bitsadmin(\.exe)?\s+\/transfer\s[^\n]{0,80}https?:\/\// ascii nocase
        $mshta = /mshta(\.exe)?\s+["']?(https?:|vbscript:|javascript:)/ ascii nocase
        $regsvr = /regsvr32(\.exe)?\s[^\n]{0,40}\/i:https?:\/\// ascii nocase
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_RUNTIME_PIP_UNTRUSTED_INDEX
{
    meta:
        id = "LG-YARA-DLEXEC-006"
        cwe = "CWE-829, CWE-494"
        severity = "high"
        description = "Package installed at run time from an index over plain HTTP or at an IP address"
        family = "download-exec"
    strings:
        $cmd = /pip3?["',\s]+install\b[^\n]{0,200}--(extra-)?index-url[\s=]*["',\s]*(http:\/\/|https?:\/\/([^\/\s"'@]{1,60}@)?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[:\/])/ ascii
        $run = /(os\.system|subprocess\.\w+|popen|check_call|check_output)\s*\(/ ascii
    condition:
        filesize < 64MB and $cmd and $run
}
