// Reverse and bind shells: a socket wired to a shell's stdin/stdout.
// Each rule needs the shell and the network half together, so a lone
// "socket" or "/bin/sh" in ordinary code never matches.

rule LG_YARA_REVSHELL_PY_DUP2
{
    meta:
        id = "LG-YARA-REVSHELL-001"
        cwe = "CWE-78"
        severity = "critical"
        description = "Python reverse shell: socket file descriptors duplicated onto stdio and a shell spawned"
        family = "reverse-shell"
    strings:
        $sock = "socket" ascii
        $connect = ".connect(" ascii
        $dup2 = /dup2\s*\(\s*[\w.]+\.fileno\(\)\s*,\s*[012]\s*\)/ ascii
        $pty = /pty\s*\.\s*spawn\s*\(/ ascii
        $sh1 = /["'](\/bin\/)?(ba|z|da)?sh["']/ ascii
        $sh2 = /["']-i["']/ ascii
    condition:
        filesize < 64MB and $sock and $connect and $dup2 and ($pty or $sh1 or $sh2)
}

rule LG_YARA_REVSHELL_DEV_TCP
{
    meta:
        id = "LG-YARA-REVSHELL-002"
        cwe = "CWE-78"
        severity = "critical"
        description = "Shell reverse shell through /dev/tcp or /dev/udp redirection"
        family = "reverse-shell"
    strings:
        $a = /(ba|z)?sh\s+-i\s*[<>&0-9 ]*\/dev\/(tcp|udp)\// ascii
        $b = /[0-9]?>&\s*\/dev\/(tcp|udp)\/[\w.\-]+\/[0-9]+/ ascii
        $c = /exec\s+[0-9]+<>\s*\/dev\/(tcp|udp)\// ascii
    condition:
        any of them
}

rule LG_YARA_REVSHELL_NETCAT
{
    meta:
        id = "LG-YARA-REVSHELL-003"
        cwe = "CWE-78"
        severity = "critical"
        description = "Netcat/socat shell: a network tool told to execute a shell"
        family = "reverse-shell"
    strings:
        $nc_e = /\bn(c|cat|etcat)\s+(-[a-z]+\s+)*-(e|c)\s+["']?\/bin\/(ba|z|da)?sh/ ascii
        $fifo = /mkfifo\s+\/tmp\/\w+\s*;\s*(cat|nc)\b/ ascii
        $socat = /socat\s+[^\n]{0,80}exec:["']?(\/bin\/)?(ba|z)?sh/ ascii nocase
    condition:
        any of them
}
