// Persistence: code that makes itself run again later, outside the model load
// (shell start-up files, Python .pth/sitecustomize hooks, cron, systemd user
// units, launch agents, the dynamic loader's preload list, SSH
// authorized_keys, Windows Run keys and scheduled tasks). Each rule needs the
// location and a write (or the tool that registers it).

rule LG_YARA_PERSIST_SHELL_RC
{
    meta:
        id = "LG-YARA-PERSIST-001"
        cwe = "CWE-912"
        severity = "high"
        description = "Write to a shell start-up file (.bashrc, .zshrc, .profile, /etc/profile.d, rc.local)"
        family = "persistence"
    strings:
        $rc = /["'][^"'\n]{0,80}\.(bashrc|zshrc|bash_profile|bash_login|zprofile|zshenv|profile)["']/ ascii
        $open = /open\s*\([^\n]{0,200}["'](a|w|a\+|w\+|at|wt)["']/ ascii
        $write = /\.write(_text)?\s*\(/ ascii
        // any shell append/tee into a user rc file: echo/printf/cat ... >> ~/.bashrc, tee -a "$HOME/.zshrc"
        $append = /(>>|\btee\s+(-[a-z]*a[a-z]*|--append)\s+)\s*["']?(~|\$HOME|\$\{HOME\}|\/root|\/home\/[\w.-]+)?\/?[^\s"'<>|;]{0,40}(\.(bashrc|zshrc|profile|bash_profile|bash_login|zprofile|zshenv|zlogin)|fish\/config\.fish)\b/ ascii
        $system_rc = /(>>?|\btee\s+(-[a-z]*\s+)*)\s*["']?\/etc\/(rc\.local|profile\.d\/[\w.-]+|profile\b|bash\.bashrc|zsh\/zshrc)/ ascii
    condition:
        filesize < 64MB and (($rc and ($open or $write)) or $append or $system_rc)
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
        // shell: echo 'import x' > .../x.pth, cp hook.py .../site-packages/sitecustomize.py
        $sh_pth = /\b(echo|printf)\s+["']?import\s[^\n]{0,200}>>?\s*[^\n]{0,200}\.pth\b/ ascii
        $sh_custom = /(>>?|\bcp\s[^\n]{0,100}|\bmv\s[^\n]{0,100}|\btee\s[^\n]{0,40})site-packages[^\s"']{0,60}\/(sitecustomize|usercustomize)\.py\b/ ascii
    condition:
        filesize < 64MB and (
            (($open or $write) and (($pth and ($site or $hook)) or ($custom and $site))) or
            $sh_pth or $sh_custom
        )
}

rule LG_YARA_PERSIST_SCHEDULER
{
    meta:
        id = "LG-YARA-PERSIST-003"
        cwe = "CWE-912"
        severity = "high"
        description = "Installs a cron job, systemd unit, launch agent, autostart entry, loader preload, SSH key or Windows Run key / scheduled task"
        family = "persistence"
    strings:
        $cron1 = /crontab\s+(-[a-z]\s+)*-?\s*["'\n;|]/ ascii
        // python-crontab: CronTab(user=True) ... .new(command=...)
        $cron_py = /CronTab\s*\(\s*(user|tabfile)\s*=[\s\S]{0,400}\.new\s*\(\s*command\s*=/ ascii
        $cron2 = /\/(etc\/cron\.(d|daily|hourly)|var\/spool\/cron)\// ascii
        $systemd = /(\.config\/systemd\/user|\/etc\/systemd\/system)\/[\w@.-]+\.(service|timer)/ ascii
        $systemd_dir = /(\bcp|\bmv|\binstall|>)\s[^\n]{0,100}(\.config\/systemd\/user|\/etc\/systemd\/system)\/?/ ascii
        $systemctl = /systemctl\s+--user\s+(enable|start|daemon-reload)\b/ ascii
        $keys = /["'][^"'\n]{0,60}\.ssh\/authorized_keys["']/ ascii
        $launch = /Library\/LaunchAgents\/|Library\/LaunchDaemons\// ascii
        $launchctl = /launchctl\s+(load|bootstrap|submit)\b/ ascii
        $autostart = /\.config\/autostart\/[\w.-]{0,60}\.desktop/ ascii
        $preload = /\/etc\/ld\.so\.preload/ ascii
        $preload_sh = /(>>?|\btee\s+(-a\s+)?)\s*["']?\/etc\/ld\.so\.preload/ ascii
        $open = /open\s*\([^\n]{0,200}["'](a|w|a\+|w\+|at|wt)["']/ ascii
        $write = /\.write(_text)?\s*\(/ ascii
        $echo = />>\s*~?\/?[^\s"']{0,40}authorized_keys/ ascii
        $winrun = /reg(\.exe)?\s+add\s+["']?HK(CU|LM|EY_CURRENT_USER|EY_LOCAL_MACHINE)\\+Software\\+Microsoft\\+Windows\\+CurrentVersion\\+Run/ ascii nocase
        $winrun_ps = /(New-ItemProperty|Set-ItemProperty)\s[^\n]{0,60}CurrentVersion\\+Run\b/ ascii nocase
        $schtasks = /schtasks(\.exe)?\s+\/create\b/ ascii nocase
    condition:
        filesize < 64MB and (
            $cron1 or $cron2 or $cron_py or $systemd_dir or $systemctl or $echo or $preload_sh or
            $launchctl or $winrun or $winrun_ps or $schtasks or
            (($systemd or $keys or $launch or $autostart or $preload) and ($open or $write))
        )
}
