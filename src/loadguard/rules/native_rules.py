"""Rule data for the native analyzer: ids, CWE, severity, and the call tables.

Rules of the form "calling X is dangerous" live here as data; rules that need
the arguments (``shell=True``, ``weights_only``, a loader class) are decided in
``loadguard.analyzers.native`` but still name a rule from ``RULES``. Callees
are canonical dotted names after alias and de-obfuscation resolution
(``from os import system as s; s()`` -> ``os.system``; builtins are
``builtins.exec``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Confidence, Severity

C = Confidence
S = Severity


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    cwe: tuple[str, ...]
    severity: Severity
    confidence: Confidence
    rationale: str

    @property
    def family(self) -> str:
        return self.rule_id.split("-")[1]


_RULES = (
    # --- OS command execution
    Rule("LG-CMD-001", "Shell command through os.system/os.popen", ("CWE-78",), S.HIGH, C.HIGH,
         "Runs a string through /bin/sh: any code at all, with the loader's privileges."),
    Rule("LG-CMD-002", "subprocess with shell=True or a command string", ("CWE-78",), S.HIGH,
         C.HIGH, "A shell parses the command; model loading never needs one."),
    Rule("LG-CMD-003", "subprocess with an argument list", ("CWE-78",), S.MEDIUM, C.HIGH,
         "Starts another program at load time; less injectable than a shell, still arbitrary."),
    Rule("LG-CMD-004", "Process replacement or spawn (os.exec*/os.spawn*/pty.spawn)",
         ("CWE-78",), S.HIGH, C.HIGH,
         "Replaces or forks the interpreter into another program."),
    Rule("LG-CMD-005", "Command text downloads, pipes to a shell, or opens a shell",
         ("CWE-78", "CWE-494"), S.CRITICAL, C.HIGH,
         "curl|sh, wget, /dev/tcp, nc -e, bash -i in a command are payload delivery."),
    # --- code injection
    Rule("LG-EXEC-001", "exec of dynamic code", ("CWE-95", "CWE-94"), S.HIGH, C.HIGH,
         "Executes a string whose content is not visible in the source."),
    Rule("LG-EXEC-002", "eval of a dynamic expression", ("CWE-95",), S.MEDIUM, C.HIGH,
         "eval of text from configs or arguments can run any expression."),
    Rule("LG-EXEC-003", "exec/eval of a constant string", ("CWE-95",), S.LOW, C.HIGH,
         "The code is literal (analysed as code below), but hides calls from simple scanners."),
    Rule("LG-EXEC-004", "compile() of dynamic source", ("CWE-94",), S.MEDIUM, C.MEDIUM,
         "Builds a code object from text; usually followed by exec."),
    Rule("LG-EXEC-005", "Code object construction (marshal.loads, types.CodeType/FunctionType)",
         ("CWE-94", "CWE-502"), S.HIGH, C.HIGH,
         "Turns bytes into executable bytecode: the classic way to hide a payload."),
    Rule("LG-EXEC-006", "Runs a file or module as code (runpy, exec_module, execfile)",
         ("CWE-94",), S.MEDIUM, C.MEDIUM,
         "Executes another file's code; safe only if that file is trusted and pinned."),
    Rule("LG-EXEC-007", "Import of a module named at run time", ("CWE-470", "CWE-94"), S.MEDIUM,
         C.LOW, "__import__/importlib with a computed name defeats static reachability."),
    Rule("LG-EXEC-008", "Native library loaded (ctypes)", ("CWE-94", "CWE-829"), S.MEDIUM,
         C.MEDIUM, "A shared library runs native code on load, invisible to Python analysis."),
    # --- insecure deserialization
    Rule("LG-DESER-001", "pickle deserialization", ("CWE-502",), S.MEDIUM, C.HIGH,
         "Unpickling calls any callable the data names."),
    Rule("LG-DESER-002", "torch.load without weights_only=True", ("CWE-502",), S.MEDIUM,
         C.MEDIUM, "torch < 2.6 defaults to full unpickling; weights_only=False always does."),
    Rule("LG-DESER-003", "torch safe loading disabled process-wide", ("CWE-502",), S.HIGH, C.HIGH,
         "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD turns every later torch.load into full unpickling."),
    Rule("LG-DESER-004", "numpy.load with allow_pickle=True", ("CWE-502",), S.MEDIUM, C.HIGH,
         "Object arrays are pickles."),
    Rule("LG-DESER-005", "yaml.load without a safe loader", ("CWE-502", "CWE-20"), S.MEDIUM,
         C.HIGH, "PyYAML's unsafe loaders construct arbitrary Python objects (!!python/object)."),
    Rule("LG-DESER-006", "Pickle-based loader (joblib, dill, cloudpickle, shelve, jsonpickle, "
         "pandas.read_pickle)", ("CWE-502",), S.MEDIUM, C.HIGH,
         "These formats are pickles underneath."),
    # --- download and run
    Rule("LG-DL-001", "Downloaded data reaches exec/eval/compile", ("CWE-494", "CWE-829"),
         S.CRITICAL, C.HIGH, "Runs code fetched at load time, unseen by any scan."),
    Rule("LG-DL-002", "Downloaded data is deserialized", ("CWE-494", "CWE-502"), S.HIGH, C.HIGH,
         "Unpickles bytes from the network: remote code execution by design."),
    Rule("LG-DL-003", "Downloaded data written to a code file", ("CWE-494",), S.HIGH, C.MEDIUM,
         "A fetched .py/.so/.pth/.sh becomes code the next import runs."),
    Rule("LG-DL-004", "Package installation at run time (pip install)", ("CWE-829", "CWE-494"),
         S.HIGH, C.HIGH, "Installs unpinned third-party code, whose setup runs immediately."),
    Rule("LG-DL-005", "Loads another repository with remote code trusted",
         ("CWE-829", "CWE-494"), S.MEDIUM, C.HIGH,
         "trust_remote_code=True / trust_repo=True inside repo code chains to code nobody "
         "reviewed, usually unpinned."),
    # --- network and credentials
    Rule("LG-NET-001", "Network access", ("CWE-200",), S.MEDIUM, C.MEDIUM,
         "Loading a model needs no network beyond the hub client; egress can leak data."),
    Rule("LG-NET-002", "Reverse shell (socket wired to a process's stdio)", ("CWE-78", "CWE-506"),
         S.CRITICAL, C.HIGH, "os.dup2 of a socket or a shell with socket stdio."),
    Rule("LG-NET-003", "Cloud metadata endpoint", ("CWE-918", "CWE-522"), S.HIGH, C.HIGH,
         "169.254.169.254 / metadata.google.internal hand out instance credentials."),
    Rule("LG-CRED-001", "Credential file accessed", ("CWE-522", "CWE-200"), S.HIGH, C.HIGH,
         "~/.aws, ~/.ssh, ~/.netrc, the Hugging Face token ... have no place in model code."),
    Rule("LG-CRED-002", "Secret environment variable read", ("CWE-200", "CWE-522"), S.MEDIUM,
         C.MEDIUM, "Tokens and cloud keys from the environment."),
    Rule("LG-CRED-003", "Whole environment serialised or enumerated", ("CWE-200", "CWE-312"),
         S.MEDIUM, C.MEDIUM, "Dumping os.environ collects every secret in it."),
    Rule("LG-CRED-004", "Secrets and network egress in one function", ("CWE-200", "CWE-522"),
         S.HIGH, C.MEDIUM, "Reading credentials next to a network call is the exfiltration shape."),
    # --- persistence and tampering
    Rule("LG-PERS-001", "Persistence location (shell rc, .pth, sitecustomize, cron, systemd, "
         "authorized_keys)", ("CWE-912",), S.HIGH, C.HIGH,
         "Writing here makes code survive the load and run again later."),
    Rule("LG-PERS-002", "File written outside the model directory", ("CWE-912",), S.MEDIUM,
         C.MEDIUM, "Model code writes to its cache; absolute paths elsewhere tamper with the host."),
    Rule("LG-PERS-003", "Writes into installed packages (site-packages)", ("CWE-912",), S.HIGH,
         C.MEDIUM, "Modifying installed packages backdoors every later program."),
    Rule("LG-PERS-004", "Import system or builtins hooked at run time", ("CWE-912",), S.MEDIUM,
         C.MEDIUM, "sys.meta_path/path_hooks entries and replaced builtins intercept every later "
         "import or call."),
    Rule("LG-DESER-007", "Deserialization of an embedded blob", ("CWE-502", "CWE-506"), S.HIGH,
         C.HIGH, "A pickle/marshal literal in source is a payload; data does not ship that way."),
    # --- evasion and obfuscation
    Rule("LG-EVADE-001", "Sandbox, VM, debugger or CI detection", ("CWE-912",), S.LOW, C.MEDIUM,
         "Malware checks where it runs before acting; model code has no reason to."),
    Rule("LG-OBF-001", "Decoded payload executed", ("CWE-506", "CWE-94"), S.CRITICAL, C.HIGH,
         "Encoding code and executing the decoded text exists only to hide it."),
    Rule("LG-OBF-002", "Encoded string decodes to Python code", ("CWE-506",), S.MEDIUM, C.MEDIUM,
         "Code stored encoded; analysed as code with the decoding chain."),
    Rule("LG-OBF-003", "Dangerous callable reached through dynamic lookup", ("CWE-506",),
         S.HIGH, C.HIGH,
         "getattr(__import__('o'+'s'), 'sys'+'tem') and friends only serve to evade scanners."),
    Rule("LG-OBF-004", "Attribute of os/subprocess/builtins chosen at run time", ("CWE-470",),
         S.MEDIUM, C.LOW, "getattr(os, name) hides which function runs."),
    Rule("LG-OBF-005", "Dangerous method called by name (methodcaller, attrgetter)",
         ("CWE-506", "CWE-78"), S.HIGH, C.MEDIUM,
         "operator.methodcaller('system', cmd)(os) names the call as data to evade scanners."),
    Rule("LG-EXEC-009", "libc process or code function called through ctypes",
         ("CWE-78", "CWE-94"), S.CRITICAL, C.HIGH,
         "ctypes.CDLL(...).system(...) runs a command below the Python level (and its hooks)."),
    # --- hygiene (never the signal)
    Rule("LG-HYG-001", "assert used for checks", ("CWE-703",), S.INFO, C.HIGH,
         "Asserts vanish under python -O; counted, never ranked."),
    Rule("LG-HYG-002", "Broad exception silently ignored", ("CWE-703",), S.LOW, C.HIGH,
         "except: pass hides failures (and payload errors)."),
    Rule("LG-HYG-003", "Weak hash used for a security purpose", ("CWE-327", "CWE-328"), S.LOW,
         C.MEDIUM, "md5/sha1 on passwords, tokens or signatures."),
    Rule("LG-HYG-004", "random used for a secret", ("CWE-330", "CWE-338"), S.LOW, C.MEDIUM,
         "The random module is predictable; use secrets."),
)  # fmt: skip

RULES: dict[str, Rule] = {r.rule_id: r for r in _RULES}

# ------------------------------------------------------------------ call tables

_OS_SPAWN = (
    "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
    "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
    "posix_spawn", "posix_spawnp", "startfile",
)  # fmt: skip

# Unconditional "calling X is dangerous" rules; argument-sensitive ones are below.
CALL_RULES: dict[str, str] = {
    **dict.fromkeys(
        (
            "os.system",
            "os.popen",
            "posix.system",
            "nt.system",
            "commands.getoutput",
            "commands.getstatusoutput",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
            "platform.popen",
        ),
        "LG-CMD-001",
    ),
    **{f"os.{name}": "LG-CMD-004" for name in _OS_SPAWN},
    "pty.spawn": "LG-CMD-004",
    "marshal.loads": "LG-EXEC-005",
    "marshal.load": "LG-EXEC-005",
    "types.CodeType": "LG-EXEC-005",
    "types.FunctionType": "LG-EXEC-005",
    "types.LambdaType": "LG-EXEC-005",
    "runpy.run_path": "LG-EXEC-006",
    "runpy.run_module": "LG-EXEC-006",
    "builtins.execfile": "LG-EXEC-006",
    "pickle.load": "LG-DESER-001",
    "pickle.loads": "LG-DESER-001",
    "pickle.Unpickler": "LG-DESER-001",
    "_pickle.load": "LG-DESER-001",
    "_pickle.loads": "LG-DESER-001",
    "_pickle.Unpickler": "LG-DESER-001",
    "cPickle.load": "LG-DESER-001",
    "cPickle.loads": "LG-DESER-001",
    "pickle._loads": "LG-DESER-001",
    "pickle._load": "LG-DESER-001",
    "yaml.unsafe_load": "LG-DESER-005",
    "yaml.unsafe_load_all": "LG-DESER-005",
    **dict.fromkeys(
        (
            "joblib.load",
            "sklearn.externals.joblib.load",
            "dill.load",
            "dill.loads",
            "cloudpickle.load",
            "cloudpickle.loads",
            "shelve.open",
            "jsonpickle.decode",
            "jsonpickle.loads",
            "pandas.read_pickle",
            "pd.read_pickle",
        ),
        "LG-DESER-006",
    ),
    "pip.main": "LG-DL-004",
    "ctypes.CDLL": "LG-EXEC-008",
    "ctypes.cdll.LoadLibrary": "LG-EXEC-008",
    "ctypes.PyDLL": "LG-EXEC-008",
    "ctypes.WinDLL": "LG-EXEC-008",
    "ctypes.windll.LoadLibrary": "LG-EXEC-008",
    "_ctypes.dlopen": "LG-EXEC-008",
    "sys.meta_path.append": "LG-PERS-004",
    "sys.meta_path.insert": "LG-PERS-004",
    "sys.path_hooks.append": "LG-PERS-004",
    "sys.path_hooks.insert": "LG-PERS-004",
    "pip._internal.main": "LG-DL-004",
    "pip._internal.cli.main.main": "LG-DL-004",
    "sys.gettrace": "LG-EVADE-001",
}

# Argument-sensitive callees.
SUBPROCESS_CALLS = frozenset(
    f"subprocess.{n}" for n in ("Popen", "run", "call", "check_call", "check_output")
) | frozenset({"asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec"})
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "cmd", "cmd.exe", "powershell",
                    "pwsh", "python", "python3", "perl", "ruby", "node"})  # fmt: skip
SHELL_ALWAYS = frozenset({"asyncio.create_subprocess_shell"})
EXEC_CALLS = frozenset({"builtins.exec"})
EVAL_CALLS = frozenset({"builtins.eval"})
COMPILE_CALLS = frozenset({"builtins.compile"})
DYNAMIC_IMPORT_CALLS = frozenset(
    {"builtins.__import__", "importlib.import_module", "importlib.__import__"}
)
EXEC_MODULE_ATTRS = frozenset({"exec_module", "load_module", "run_code"})
# Functions that return the object a dotted string names: __import__ plus getattr.
NAME_RESOLVERS = frozenset(
    {"pydoc.locate", "pkgutil.resolve_name", "hydra.utils.get_method", "hydra.utils.get_class",
     "hydra.utils.get_object", "hydra._internal.utils._locate", "werkzeug.utils.import_string",
     "django.utils.module_loading.import_string", "mmengine.utils.get_object_from_string"}
)  # fmt: skip
# Classes whose instances run code they are given; ``Cls().method`` resolves to
# ``"Cls().method"`` so CODE_RUNNERS can name their methods.
INSTANCE_FACTORIES = frozenset(
    {"code.InteractiveInterpreter", "code.InteractiveConsole", "trace.Trace", "pdb.Pdb",
     "bdb.Bdb", "cProfile.Profile", "profile.Profile", "timeit.Timer"}
)  # fmt: skip
# Stdlib functions that compile and run a string of statements, like exec:
# callee -> (position, keyword) of the source argument.
CODE_RUNNERS: dict[str, tuple[int, str]] = {
    "timeit.timeit": (0, "stmt"),
    "timeit.repeat": (0, "stmt"),
    "timeit.Timer": (0, "stmt"),
    "cProfile.run": (0, "statement"),
    "cProfile.runctx": (0, "statement"),
    "profile.run": (0, "statement"),
    "profile.runctx": (0, "statement"),
    "pdb.run": (0, "statement"),
    "pdb.runctx": (0, "statement"),
    "pdb.runeval": (0, "expression"),
    "code.InteractiveInterpreter().runsource": (0, "source"),
    "code.InteractiveInterpreter().runcode": (0, "code"),
    "code.InteractiveConsole().runsource": (0, "source"),
    "code.InteractiveConsole().runcode": (0, "code"),
    "code.InteractiveConsole().push": (0, "line"),
    "trace.Trace().run": (0, "cmd"),
    "trace.Trace().runctx": (0, "cmd"),
    "pdb.Pdb().run": (0, "cmd"),
    "pdb.Pdb().runeval": (0, "expr"),
    "bdb.Bdb().run": (0, "cmd"),
    "cProfile.Profile().run": (0, "cmd"),
    "cProfile.Profile().runctx": (0, "cmd"),
    "profile.Profile().run": (0, "cmd"),
    "profile.Profile().runctx": (0, "cmd"),
    "IPython.get_ipython().run_cell": (0, "raw_cell"),
}
# Runners of the examples in a module's docstrings (code the walk skips as prose).
DOCTEST_RUNNERS = frozenset(
    {"doctest.testmod", "doctest.run_docstring_examples", "doctest.DocTestSuite",
     "doctest.DocTestRunner", "doctest.DocTestFinder"}
)  # fmt: skip
TORCH_LOAD = frozenset({"torch.load", "torch.serialization.load"})
NUMPY_LOAD = frozenset({"numpy.load", "np.load"})
YAML_LOAD = frozenset({"yaml.load", "yaml.load_all"})
YAML_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
TRUST_KWARGS = frozenset({"trust_remote_code", "trust_repo"})

# Calls that reach the network (egress) and those whose result is fetched data.
NETWORK_CALLS = frozenset(
    {
        *(f"requests.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "request")),
        "requests.Session",
        *(f"httpx.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "request")),
        "httpx.Client",
        "httpx.AsyncClient",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib.request.Request",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2.urlopen",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "httplib.HTTPConnection",
        "httplib.HTTPSConnection",
        "socket.create_connection",
        "ftplib.FTP",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "telnetlib.Telnet",
        "aiohttp.ClientSession",
        "paramiko.SSHClient",
        "wget.download",
        "pycurl.Curl",
        "dns.resolver.resolve",
        "socket.gethostbyname",
        "socket.getaddrinfo",
        "webbrowser.open",
        "webbrowser.open_new",
        "webbrowser.open_new_tab",
    }
)
# Calls that return a stored access token (the token file read by its owner's API).
TOKEN_READS = frozenset(
    {"huggingface_hub.HfFolder.get_token", "huggingface_hub.get_token",
     "huggingface_hub.utils.get_token", "huggingface_hub.hf_api.HfFolder.get_token",
     "huggingface_hub.utils._token.get_token", "huggingface_hub.HfApi().token",
     "keyring.get_password", "keyring.get_credential"}
)  # fmt: skip
SOCKET_METHODS = frozenset({"connect", "connect_ex", "sendto"})
FETCH_SOURCES = NETWORK_CALLS | frozenset(
    {
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "modelscope.hub.file_download.model_file_download",
        "torch.hub.download_url_to_file",
        "torch.hub.load_state_dict_from_url",
    }
)
FETCH_METHODS = frozenset({"recv", "recv_into", "recvfrom", "makefile"})
DESERIALIZE_SINKS = frozenset(
    {"marshal.loads", "marshal.load", "pickle.load", "pickle.loads", "_pickle.loads", "dill.loads",
     "dill.load", "cloudpickle.loads", "cloudpickle.load", "joblib.load", "torch.load",
     "numpy.load", "yaml.load", "yaml.unsafe_load", "pandas.read_pickle", "jsonpickle.decode"}
)  # fmt: skip
WRITE_METHODS = frozenset({"write", "write_text", "write_bytes", "writelines"})
FILE_COPY_CALLS = frozenset(
    {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.move", "os.rename", "os.replace",
     "os.symlink", "os.link"}
)  # fmt: skip

HASH_WEAK = frozenset({"hashlib.md5", "hashlib.sha1", "hashlib.new"})
RANDOM_CALLS = frozenset(
    f"random.{n}"
    for n in ("random", "randint", "choice", "choices", "getrandbits", "randrange", "sample")
)
# Names that hold secrets. Plain "token" is not one: NLP code is full of tokens.
SECRETISH_NAME = re.compile(
    r"(passw|passwd|secret|api_?key|salt|nonce|otp\b|session_?key|auth_?token|access_?token"
    r"|csrf|private_?key|signing_?key)",
    re.IGNORECASE,
)

# Modules a bare name most likely means even without a visible import (payloads
# executed by exec often rely on the outer module's imports).
WELL_KNOWN_MODULES = frozenset(
    {"os", "subprocess", "pickle", "marshal", "socket", "builtins", "importlib", "base64",
     "zlib", "codecs", "pty", "runpy", "requests", "urllib", "shutil", "sys", "types",
     "ctypes", "yaml", "dill", "cloudpickle", "joblib", "shelve", "httpx", "binascii"}
)  # fmt: skip

# ------------------------------------------------------------------ string patterns

# Paths of credentials; matched on folded strings (``~`` and home expansions folded to "~").
CREDENTIAL_PATH = re.compile(
    r"(\.aws/(credentials|config)|\.ssh/(id_[a-z0-9_]+|known_hosts|config)\b|\.netrc\b"
    r"|\.cache/huggingface/(token|stored_tokens)|huggingface/token\b|\.git-credentials"
    r"|\.docker/config\.json|\.kube/config|\.pypirc|\.config/gcloud|gcloud/credentials"
    r"|application_default_credentials\.json|\.azure/|\.npmrc|\.gnupg|/etc/shadow"
    r"|Login Data|\.mozilla/firefox|wallet\.dat|\.bash_history|\.zsh_history"
    r"|(?:^|/)\.(?:ssh|aws|kube|docker)/?(?:\*[^/]*)?$)",
)
SECRET_ENV = re.compile(
    r"^(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|HUGGINGFACE_TOKEN|HF_API_TOKEN|AWS_[A-Z_]*"
    r"|AZURE_[A-Z_]*(KEY|SECRET|TOKEN|PASSWORD)[A-Z_]*|GOOGLE_APPLICATION_CREDENTIALS"
    r"|GCP_[A-Z_]*|GITHUB_TOKEN|GH_TOKEN|GITLAB_TOKEN|OPENAI_API_KEY|ANTHROPIC_API_KEY"
    r"|WANDB_API_KEY|MODELSCOPE_API_TOKEN|[A-Z0-9_]*(SECRET|PASSWORD|PASSWD|API_KEY|APIKEY"
    r"|ACCESS_KEY|PRIVATE_KEY|_TOKEN)[A-Z0-9_]*)$"
)
METADATA_HOST = re.compile(
    r"(169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200|fd00:ec2::254"
    r"|169\.254\.170\.2|metadata\.azure\.com)"
)
PERSISTENCE_PATH = re.compile(
    r"(\.bashrc|\.bash_profile|\.bash_login|\.zshrc|\.zprofile|\.zshenv|\.profile\b|\.cshrc"
    r"|config/fish/config\.fish|sitecustomize\.py|usercustomize\.py"
    r"|/etc/cron|/var/spool/cron|\bcrontab\b|\.config/systemd/user|/etc/systemd/system"
    r"|authorized_keys|\.config/autostart|/etc/ld\.so\.preload|/etc/rc\.local"
    r"|/etc/profile|Library/LaunchAgents|/etc/init\.d|CurrentVersion\\\\?Run"
    r"|\.ipython/profile_[^/]*/startup|\.jupyter/[^/]*config\.py|\.gitconfig\b|\.git/hooks/"
    r"|pip/pip\.conf|\.pip/pip\.conf|pip\.ini\b|\.pydistutils\.cfg|\.condarc|/etc/sudoers"
    r"|\.ssh/rc\b|/etc/environment)"
)
# Written (not merely named): directories on PATH (a program there shadows the real one).
HIJACK_PATH = re.compile(r"^(~/\.local/bin/|/usr/local/s?bin/|/usr/s?bin/|/s?bin/)")
# Caches other loaders import code from: a .py written here runs at their next load.
LOADER_CACHE = re.compile(r"(huggingface/modules|transformers_modules|torch/hub/|huggingface/hub/)")
SITE_PACKAGES = re.compile(r"(site-packages|dist-packages)")
SHELL_PAYLOAD = re.compile(
    r"(\b(curl|wget)\b[^|;&]*\|\s*(ba|z|da)?sh\b|/dev/tcp/|\bnc\b[^|;&]*\s-[a-z]*e\b"
    r"|\bncat\b.*-e\b|\bbash\s+-i\b|\bsh\s+-i\b|base64\s+(-d|--decode)[^|]*\|\s*(ba)?sh"
    r"|\bmkfifo\b|\bchmod\s+(\+x|[0-7]*7[0-7]*)\s+/tmp|\b(curl|wget)\s"
    r"|xmrig|stratum\+tcp)"
)
PIP_INSTALL = re.compile(r"\b(pip3?|pip\.main|-m\s+pip|uv\s+pip|conda|easy_install)\b.*\binstall\b")
EVASION_STRINGS = re.compile(
    r"(/\.dockerenv|/proc/1/cgroup|TracerPid|/proc/self/status|VBOX|VirtualBox|VMware|vmware"
    r"|QEMU|qemu|KVMKVMKVM|Xen|hypervisor|/sys/class/dmi/id|product_name|sandboxie|wireshark"
    r"|x64dbg|ollydbg|GITHUB_ACTIONS|GITLAB_CI|JENKINS_URL|TRAVIS|BUILDKITE|CIRCLECI)"
)
