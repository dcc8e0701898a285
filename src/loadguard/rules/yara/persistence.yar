// Persistence: code that makes itself run again later, outside the model load
// (shell start-up files, Python .pth/sitecustomize hooks, cron, systemd user
// units, SSH authorized_keys). Each rule needs the location and a write.

rule LG_YARA_PERSIST_SHELL_RC
{
    meta:
        id = "LG-YARA-PERSIST-001"
        cwe = "CWE-912"
        severity = "high"
        description = "Write to a shell start-up file (.bashrc, .zshrc, .profile)"
        family = "persistence"
    strings:
        $rc = /["'][^"'\n]{0,80}\.(bashrc|zshrc|bash_profile|bash_login|zprofile|zshenv|profile)["']/ ascii
        $open = /open\s*\([^\n]{0,200}["'](a|w|a\+|w\+|at|wt)["']/ ascii
        $write = /\.write(_text)?\s*\(/ ascii
        $echo = /echo\s[^\n]{0,200}>>\s*~?\/?[^\s"']{0,40}\.(bashrc|zshrc|profile|bash_profile)/ ascii
    condition:
        filesize < 64MB and (($rc and ($open or $write)) or $echo)
}

rule LG_YARA_PERSIST_PTH
{
    meta:
        id = "LG-YARA-PERSIST-002"
        cwe = "CWE-912"
        severity = "high"
        description = "Writes a .pth or sitecustomize hook that Python runs at every start"
        family = "persistence"
    strings:
        $pth = /["'][^"'\n]{0,80}\.pth["']/ ascii
        $custom = /["'][^"'\n]{0,80}(sitecustomize|usercustomize)\.py["']/ ascii
        $site = /site-packages|getsitepackages|getusersitepackages|USER_SITE|purelib/ ascii
        $hook = /["']import [\w.]+\s*[;,]/ ascii
        $open = /open\s*\([^\n]{0,200}["'](a|w|a\+|w\+|at|wt)["']/ ascii
        $write = /\.write(_text)?\s*\(/ ascii
    condition:
        filesize < 64MB and ($open or $write) and
        (($pth and ($site or $hook)) or ($custom and $site))
}

rule LG_YARA_PERSIST_SCHEDULER
{
    meta:
        id = "LG-YARA-PERSIST-003"
        cwe = "CWE-912"
        severity = "high"
        description = "Installs a cron job, systemd unit or SSH key"
        family = "persistence"
    strings:
        $cron1 = /crontab\s+(-[a-z]\s+)*-?\s*["'\n;|]/ ascii
        $cron2 = /\/(etc\/cron\.(d|daily|hourly)|var\/spool\/cron)\// ascii
        $systemd = /(\.config\/systemd\/user|\/etc\/systemd\/system)\/[\w@.-]+\.(service|timer)/ ascii
        $keys = /["'][^"'\n]{0,60}\.ssh\/authorized_keys["']/ ascii
        $open = /open\s*\([^\n]{0,200}["'](a|w|a\+|w\+|at|wt)["']/ ascii
        $write = /\.write(_text)?\s*\(/ ascii
        $echo = />>\s*~?\/?[^\s"']{0,40}authorized_keys/ ascii
    condition:
        filesize < 64MB and ($cron1 or $cron2 or (($systemd or $keys) and ($open or $write)) or $echo)
}
