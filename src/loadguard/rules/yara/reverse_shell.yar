// Reverse and bind shells: a socket wired to a shell's stdin/stdout.
// Each rule needs the shell and the network half together, so a lone
// "socket" or "/bin/sh" in ordinary code never matches.

rule LG_YARA_REVSHELL_PY_DUP2
{
    meta:
        id = "LG-YARA-REVSHELL-001"
        cwe = "CWE-78"
        severity = "critical"
        description = "Python reverse shell: a connected socket wired to a shell (dup2 onto stdio, socket as a child's stdio, or received commands run)"
        family = "reverse-shell"
    strings:
        $sock = "socket" ascii
        $connect = /\.connect\(|create_connection\s*\(/ ascii
        // os.dup2(s.fileno(), 0), os.dup2(fd, 1), [os.dup2(s.fileno(), f) for f in (0, 1, 2)]
        $dup2 = /dup2\s*\(\s*[\w.]{1,40}(\.fileno\(\))?\s*,\s*\w{1,10}\s*\)/ ascii
        $pty = /pty\s*\.\s*spawn\s*\(/ ascii
        $sh1 = /["'](\/bin\/|\/usr\/bin\/)?(ba|z|da)?sh["']/ ascii
        $sh2 = /["']-i["']/ ascii
        // subprocess.Popen([...], stdin=s.fileno(), stdout=s.fileno())
        $stdio = /\bstd(in|out)\s*=\s*\w{1,30}\.(fileno\(\)|makefile\s*\()/ ascii
        // c = s.recv(1024) ... subprocess.run(c, shell=True) ... s.send(output)
        $recv_run = /\.recv\s*\([^)\n]{0,30}\)[\s\S]{0,300}(subprocess\.\w+|os\.popen|os\.system|getoutput|check_output)\s*\(/ ascii
    condition:
        filesize < 64MB and $sock and $connect and (
            ($dup2 and ($pty or $sh1 or $sh2)) or $stdio or $recv_run
        )
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
        description = "Netcat/socat/telnet shell: a network tool told to execute a shell, or a shell piped through one"
        family = "reverse-shell"
    strings:
        // nc/ncat/netcat with -e/-c/--exec/--sh-exec anywhere among its arguments
        $nc_e = /\bn(c|cat|etcat)(\.exe|\.traditional|\.openbsd)?(\s[^\n|;&]{0,100})?\s(-[a-z]*[ec]|--exec|--sh-exec|--lua-exec)\s+["']?(\/usr)?(\/bin\/)?((ba|z|da|k)?sh|cmd(\.exe)?|powershell(\.exe)?)\b/ ascii
        // mkfifo/mknod pipe closing a shell through a network tool
        $fifo = /(mkfifo|mknod)\s[^\n]{0,200}\b(n(c|cat|etcat)|telnet|openssl\s+s_client)\s/ ascii
        $socat = /socat\s+[^\n]{0,80}(exec|system):\\?["']?(\/usr)?(\/bin\/)?(ba|z|da)?sh\b/ ascii nocase
        // nc HOST PORT | sh: the remote end's commands run
        $nc_pipe = /\bn(c|cat|etcat)(\.traditional|\.openbsd)?\s+[\w.\-:]+\s+[0-9]{1,5}\s*\|\s*(\/usr)?(\/bin\/)?(ba|z|da)?sh\b/ ascii
        $telnet = /telnet\s+[\w.\-]+\s+[0-9]+\s*\|\s*(\/usr)?(\/bin\/)?(ba|z|da)?sh\b/ ascii
    condition:
        any of them
}

rule LG_YARA_REVSHELL_ONE_LINER
{
    meta:
        id = "LG-YARA-REVSHELL-004"
        cwe = "CWE-78"
        severity = "critical"
        description = "Scripting-language reverse shell one-liner (perl/ruby/php/lua socket + shell, gawk /inet/tcp, zsh ztcp)"
        family = "reverse-shell"
    strings:
        // a socket opened and a shell exec'd on the same line
        $sock_sh = /\b(socket\s*\(\s*\w+\s*,\s*(PF|AF)_INET|fsockopen\s*\(|TCPSocket\.(open|new)|IO::Socket::INET|socket\.tcp\s*\(|Socket\.new|net\.connect|new\s+net\.Socket)[^\n]{0,400}\b(exec|system|popen|proc_open|shell_exec|spawn|os\.execute|IO\.popen)\b[^\n]{0,40}\b(ba|z|da)?sh\b/ ascii
        $gawk = /\/inet[46]?\/(tcp|udp)\/[0-9]+\/[\w.\-]+\/[0-9]+/ ascii
        $ztcp = /\bztcp\s+[^\n]{0,80}>&\s*\$REPLY/ ascii
    condition:
        any of them
}
