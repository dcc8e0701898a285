"""Pickle import policy: allowlists per framework profile, a denylist with CWE and severity.

The policy judges the callables a pickle imports (``module.name``, the target
of ``find_class``). Allowlisted names are safe to call with any arguments;
denylisted ones reach code execution, files, the network or the interpreter;
everything else is an *unknown import* (medium): an allowlist is the safe
default. Classes of well-known model libraries (whole-model pickles) need the
class to import but do nothing else on their own: they are reported low.

Data only; the judging lives in ``loadguard.analyzers.pickle``.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from ..model import Severity

CWE_DESERIALIZATION = "CWE-502"
CWE_OS_COMMAND = "CWE-78"
CWE_CODE_INJECTION = "CWE-94"
CWE_FILE = "CWE-73"
CWE_NETWORK = "CWE-918"
CWE_DYNAMIC_CODE = "CWE-470"


class DenyRule(NamedTuple):
    """A denied module or callable: ``severity`` applies when the pickle invokes it."""

    severity: Severity
    cwe: tuple[str, ...]
    reason: str


def _rule(severity: Severity, cwe: str, reason: str) -> DenyRule:
    return DenyRule(severity, (CWE_DESERIALIZATION, cwe), reason)


_EXEC = _rule(Severity.CRITICAL, CWE_OS_COMMAND, "runs a shell command or a program")
_CODE = _rule(Severity.CRITICAL, CWE_CODE_INJECTION, "runs Python code from data")
_IMPORT = _rule(Severity.HIGH, CWE_DYNAMIC_CODE, "imports or resolves arbitrary names")
_ATTR = _rule(Severity.HIGH, CWE_DYNAMIC_CODE, "reaches arbitrary attributes or chains calls")
_FILE = _rule(Severity.HIGH, CWE_FILE, "reads, writes or deletes files")
_NET = _rule(Severity.HIGH, CWE_NETWORK, "opens network connections")
_NESTED = _rule(Severity.HIGH, CWE_DESERIALIZATION, "deserializes nested data (a second pickle)")
_INTERP = _rule(Severity.HIGH, CWE_CODE_INJECTION, "changes or inspects the interpreter")
_NATIVE = _rule(Severity.CRITICAL, CWE_CODE_INJECTION, "loads or calls native code")

# Keys are a module (matches it and its submodules) or "module.qualname".
DENY: dict[str, DenyRule] = {
    # commands and processes
    "os": _EXEC,
    "posix": _EXEC,
    "nt": _EXEC,
    "subprocess": _EXEC,
    "_posixsubprocess": _EXEC,
    "pty": _EXEC,
    "commands": _EXEC,
    "popen2": _EXEC,
    "pipes": _EXEC,
    "platform.popen": _EXEC,
    "asyncio.subprocess": _EXEC,
    "asyncio.create_subprocess_exec": _EXEC,
    "asyncio.create_subprocess_shell": _EXEC,
    "multiprocessing": _EXEC,
    "_winapi": _EXEC,
    "distutils.spawn": _EXEC,
    "setuptools": _EXEC,
    "distutils": _EXEC,
    "pip": _EXEC,
    "ensurepip": _EXEC,
    "venv": _EXEC,
    "mailcap": _EXEC,
    "webbrowser": _EXEC,
    "torch.utils.collect_env": _EXEC,
    "torch.utils.cpp_extension": _NATIVE,
    "mlflow.projects": _EXEC,
    "antigravity": _EXEC,  # importing it opens a web browser
    "imaplib.IMAP4_stream": _EXEC,  # runs its argument as a shell command
    "uuid._get_command_stdout": _EXEC,
    "uuid._popen": _EXEC,
    "platform._syscmd_file": _EXEC,
    "platform._syscmd_ver": _EXEC,
    "pydoc": _EXEC,  # pagers run shell commands; locate/importfile import anything
    "test.support": _EXEC,  # CPython's own test helpers spawn interpreters and shells
    "test.libregrtest": _EXEC,
    "torch.testing": _EXEC,
    "torch._inductor": _CODE,
    # python code from data
    "builtins.exec": _CODE,
    "builtins.eval": _CODE,
    "builtins.compile": _CODE,
    "builtins.execfile": _CODE,
    "builtins.breakpoint": _CODE,
    "builtins.input": _INTERP,
    "runpy": _CODE,
    "code": _CODE,
    "codeop": _CODE,
    "timeit": _CODE,
    "cProfile": _CODE,
    "profile": _CODE,
    "pdb": _CODE,
    "bdb": _CODE,
    "trace": _CODE,
    "doctest": _CODE,
    "marshal": _CODE,
    "types.FunctionType": _CODE,
    "types.CodeType": _CODE,
    "types.LambdaType": _CODE,
    "types.MethodType": _ATTR,
    "typing._eval_type": _CODE,
    "typing.get_type_hints": _CODE,
    "typing.ForwardRef": _CODE,
    "dataclasses._create_fn": _CODE,
    "builtins.__build_class__": _CODE,
    "idlelib": _CODE,  # the IDE's shell: runs and evaluates source
    "tkinter": _CODE,  # Tcl interpreter: Tcl().eval
    "_tkinter": _CODE,
    "numpy.f2py": _NATIVE,
    "numpy.distutils": _EXEC,
    "numpy.testing": _EXEC,
    "numpy.ctypeslib": _NATIVE,
    "ctypes": _NATIVE,
    "_ctypes": _NATIVE,
    "cffi": _NATIVE,
    "torch.ops": _NATIVE,
    "torch.classes": _NATIVE,
    "torch._C": _NATIVE,
    "torch.jit": _CODE,
    "torch._dynamo": _CODE,
    "torch.fx": _CODE,
    "torch.package": _CODE,
    "torch.hub": _IMPORT,
    "yaml.load": _CODE,
    "yaml.unsafe_load": _CODE,
    "yaml.full_load": _CODE,
    "jinja2": _CODE,
    # names, modules, attributes
    "builtins.getattr": _ATTR,
    "builtins.setattr": _ATTR,
    "builtins.delattr": _ATTR,
    "builtins.__import__": _IMPORT,
    "builtins.globals": _INTERP,
    "builtins.locals": _INTERP,
    "builtins.vars": _INTERP,
    "builtins.help": _INTERP,
    "builtins.exit": _INTERP,
    "builtins.quit": _INTERP,
    "builtins.type": _ATTR,
    "builtins.super": _ATTR,
    "builtins.classmethod": _ATTR,
    "builtins.staticmethod": _ATTR,
    "builtins.property": _ATTR,
    "builtins.memoryview": _INTERP,
    "importlib": _IMPORT,
    "imp": _IMPORT,
    "pkgutil": _IMPORT,
    "zipimport": _IMPORT,
    "_imp": _NATIVE,  # create_dynamic loads a shared object
    "_frozen_importlib": _IMPORT,
    "_frozen_importlib_external": _IMPORT,
    "pkg_resources": _IMPORT,
    "importlib_metadata": _IMPORT,
    "unittest.mock": _IMPORT,  # _importer, _dot_lookup, patch: import and walk names
    "inspect": _ATTR,
    "operator.attrgetter": _ATTR,
    "operator.methodcaller": _ATTR,
    "operator.itemgetter": _ATTR,
    "operator.call": _ATTR,
    "operator.getitem": _ATTR,
    "operator.setitem": _ATTR,
    "_operator": _ATTR,
    "functools.partial": _ATTR,
    "functools.reduce": _ATTR,
    "functools.partialmethod": _ATTR,
    "functools.singledispatch": _ATTR,
    "copyreg.add_extension": _IMPORT,
    "copyreg.constructor": _IMPORT,
    "sys": _INTERP,
    "gc": _INTERP,
    "signal": _INTERP,
    "resource": _INTERP,
    "atexit": _INTERP,
    "threading": _INTERP,
    "_thread": _INTERP,
    "asyncio": _INTERP,
    "concurrent": _INTERP,
    "site": _IMPORT,
    "sysconfig": _INTERP,
    "logging.config": _CODE,
    # files
    "builtins.open": _FILE,
    "io.open": _FILE,
    "io.FileIO": _FILE,
    "io.open_code": _FILE,
    "_io.open": _FILE,
    "_io.FileIO": _FILE,
    "_pyio": _FILE,
    "sqlite3": _FILE,
    "dbm": _FILE,
    "zipapp": _FILE,
    "codecs.open": _FILE,
    "shutil": _FILE,
    "tempfile": _FILE,
    "glob": _FILE,
    "fileinput": _FILE,
    "linecache": _FILE,
    "filecmp": _FILE,
    "tarfile": _FILE,
    "zipfile": _FILE,
    "pathlib.Path.write_text": _FILE,
    "pathlib.Path.write_bytes": _FILE,
    "pathlib.Path.touch": _FILE,
    "pathlib.Path.unlink": _FILE,
    "pathlib.Path.read_text": _FILE,
    "pathlib.Path.read_bytes": _FILE,
    "pathlib.Path.open": _FILE,
    "numpy.load": _NESTED,
    "numpy.save": _FILE,
    "numpy.savetxt": _FILE,
    "numpy.fromfile": _FILE,
    "numpy.memmap": _FILE,
    "numpy.loadtxt": _FILE,
    "numpy.genfromtxt": _FILE,
    "pandas.read_csv": _FILE,
    "pandas.read_pickle": _NESTED,
    "pandas.io": _FILE,
    # network
    "socket": _NET,
    "_socket": _NET,
    "ssl": _NET,
    "http": _NET,
    "urllib": _NET,
    "urllib2": _NET,
    "urllib3": _NET,
    "requests": _NET,
    "httpx": _NET,
    "aiohttp": _NET,
    "ftplib": _NET,
    "smtplib": _NET,
    "telnetlib": _NET,
    "xmlrpc": _NET,
    "socketserver": _NET,
    "paramiko": _NET,
    "imaplib": _NET,
    "poplib": _NET,
    "nntplib": _NET,
    "logging.handlers": _NET,  # socket, syslog, HTTP and SMTP handlers
    "huggingface_hub": _NET,  # downloads repositories (and their code)
    "torch.hub.download_url_to_file": _NET,
    # nested deserialization
    "pickle": _NESTED,
    "_pickle": _NESTED,
    "cPickle": _NESTED,
    "dill": _NESTED,
    "cloudpickle": _NESTED,
    # dill/cloudpickle rebuild functions from code objects: code execution by design
    "dill._dill": _CODE,
    "cloudpickle.cloudpickle": _CODE,
    "cloudpickle.cloudpickle_fast": _CODE,
    "cloudpickle.loads": _NESTED,
    "dill.loads": _NESTED,
    "dill._dill.loads": _NESTED,
    "shelve": _NESTED,
    "joblib.load": _NESTED,
    "joblib.numpy_pickle.load": _NESTED,
    "torch.load": _NESTED,
    "torch.serialization.load": _NESTED,
    "torch.serialization._legacy_load": _NESTED,
    "torch.serialization._load": _NESTED,
    "keras.models.load_model": _NESTED,
    "keras.saving.load_model": _NESTED,
    # Keras-internal gadgets reachable from a model config even under safe_mode
    "keras.utils.get_file": _NET,  # downloads (and overwrites) files
    "keras.src.utils.file_utils": _NET,
    "tf_keras.utils.get_file": _NET,
    "tensorflow.keras.utils.get_file": _NET,
    "keras.layers.TorchModuleWrapper": _CODE,  # torch.load of embedded bytes
    "keras.src.layers.TorchModuleWrapper": _CODE,
    "keras.src.utils.torch_utils": _CODE,
    "keras.config.enable_unsafe_deserialization": _CODE,
    "keras.src.saving.serialization_lib.enable_unsafe_deserialization": _CODE,
    "tensorflow.io": _FILE,
    "tensorflow.raw_ops": _FILE,  # ReadFile, WriteFile, ...
    "tensorflow.py_function": _CODE,
    "tensorflow.numpy_function": _CODE,
}

# Callables that deserialize their bytes argument: the bytes are analysed as a
# nested pickle (or torch container) when they are known statically.
NESTED_LOADERS = frozenset(
    {
        "pickle.loads",
        "pickle._loads",
        "_pickle.loads",
        "pickle.load",  # given a BytesIO of the bytes
        "pickle._load",
        "_pickle.load",
        "dill.loads",
        "dill._dill.loads",
        "dill.load",
        "cloudpickle.loads",
        "cloudpickle.load",
        "torch.load",
        "torch.serialization.load",
        "torch.storage._load_from_bytes",
        "numpy.load",
        "joblib.load",
        "pandas.read_pickle",
    }
)
# Callables that call the callables they are given (now, or when the result is
# used): a function passed to them counts as invoked.
FORWARDERS = frozenset(
    {
        "copyreg._reconstructor",  # base.__init__(obj, state)
        "copyreg.__newobj__",
        "copyreg.__newobj_ex__",
        "torch._tensor._rebuild_from_type",
        "torch._tensor._rebuild_from_type_v2",  # func(*args)
        "functools.partial",
        "functools.reduce",
        "operator.call",
        "_operator.call",
        "builtins.map",
        "builtins.filter",
        "builtins.sorted",
        "builtins.max",
        "builtins.min",
        "collections.defaultdict",
        "_frozen_importlib._call_with_frames_removed",
    }
)
# A string argument that names something to fetch or open: a URL, a hub repo
# id (``org/name``), an absolute or home path. A library class constructed with
# one (REDUCE, INST, OBJ run ``__init__``) loads or downloads at unpickling.
_REMOTE_OR_PATH = r"^(?:[a-z][a-z0-9+.-]*://|/|~|\\\\|[A-Za-z]:[\\/]|[\w.-]+/[\w.-]+$)"

# Wrappers whose first argument becomes the loader's input stream.
BYTES_WRAPPERS = frozenset({"io.BytesIO", "_io.BytesIO"})

# ---------------------------------------------------------------------- allowlists


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TORCH_DTYPES = _words(
    "float32 float float64 double float16 half bfloat16 complex32 complex64 cfloat complex128 "
    "cdouble uint8 uint16 uint32 uint64 int8 int16 short int32 int int64 long bool qint8 quint8 "
    "qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz "
    "float8_e8m0fnu float4_e2m1fn_x2 bits8 bits16 bits1x8 bits2x4 bits4x2"
)
_TORCH_LAYOUTS = _words(
    "strided sparse_coo sparse_csr sparse_csc sparse_bsr sparse_bsc _mkldnn jagged "
    "contiguous_format channels_last channels_last_3d preserve_format "
    "per_tensor_affine per_channel_affine per_tensor_symmetric per_channel_symmetric "
    "per_channel_affine_float_qparams"
)
_TORCH_STORAGES = _words(
    "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble "
    "QInt8 QUInt8 QInt32 QUInt4x2 QUInt2x4 Untyped Typed"
)
_NUMPY_SCALARS = _words(
    "bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 "
    "longdouble complex64 complex128 clongdouble str_ bytes_ void object_ datetime64 "
    "timedelta64 intc uintc int_ uint longlong ulonglong half single double"
)

PROFILES: dict[str, frozenset[str]] = {
    # plain Python containers and values
    "core": frozenset(
        {
            "collections.OrderedDict",
            "collections.defaultdict",
            "collections.Counter",
            "collections.deque",
            "copyreg._reconstructor",
            "copyreg.__newobj__",
            "copyreg.__newobj_ex__",
            "builtins.object",
            "builtins.set",
            "builtins.frozenset",
            "builtins.slice",
            "builtins.range",
            "builtins.complex",
            "builtins.bytearray",
            "builtins.bytes",
            "builtins.int",
            "builtins.float",
            "builtins.str",
            "builtins.dict",
            "builtins.list",
            "builtins.tuple",
            "builtins.bool",
            "builtins.NoneType",
            "builtins.Ellipsis",
            "builtins.NotImplemented",
            "datetime.datetime",
            "datetime.date",
            "datetime.time",
            "datetime.timedelta",
            "datetime.timezone",
            "decimal.Decimal",
            "fractions.Fraction",
            "uuid.UUID",
            "pathlib.PosixPath",
            "pathlib.WindowsPath",
            "pathlib.PurePosixPath",
            "pathlib.PureWindowsPath",
            "pathlib.Path",
            "io.BytesIO",
            "_io.BytesIO",
            "_codecs.encode",  # numpy arrays pickled at protocol 2 carry latin-1 bytes
        }
    ),
    "torch": frozenset(
        {
            "torch.Size",
            "torch.device",
            "torch.dtype",
            "torch.layout",
            "torch.memory_format",
            "torch.Tensor",
            "torch._tensor.Tensor",
            "torch.nn.parameter.Parameter",
            "torch.nn.parameter.Buffer",
            "torch.nn.parameter.UninitializedParameter",
            "torch._tensor._rebuild_from_type",
            "torch._tensor._rebuild_from_type_v2",
            "torch.serialization._get_layout",
            "torch.storage.UntypedStorage",
            "torch.storage.TypedStorage",
            "torch.storage._load_from_bytes",  # nested torch container: analysed recursively
            "torch.return_types.max",
            "torch.return_types.min",
            "torch.return_types.topk",
            "torch.return_types.sort",
            # TorchScript's list/tensor-id builders: identity functions (torch/jit/_pickle.py)
            "torch.jit._pickle.build_intlist",
            "torch.jit._pickle.build_tensorlist",
            "torch.jit._pickle.build_doublelist",
            "torch.jit._pickle.build_boollist",
            "torch.jit._pickle.build_tensor_from_id",
            "torch.jit._pickle.restore_type_tag",
        }
        | {f"torch.{name}" for name in _TORCH_DTYPES + _TORCH_LAYOUTS}
        | {f"torch.{name}Storage" for name in _TORCH_STORAGES}
        | {f"torch.cuda.{name}Storage" for name in _TORCH_STORAGES}
        | {f"torch.{name}Tensor" for name in _TORCH_STORAGES[:10]}  # legacy tensor types
    ),
    "numpy": frozenset(
        {
            "numpy.core.multiarray._reconstruct",
            "numpy._core.multiarray._reconstruct",
            "numpy.core.multiarray.scalar",
            "numpy._core.multiarray.scalar",
            "numpy.core.numeric._frombuffer",
            "numpy._core.numeric._frombuffer",
            "numpy.ndarray",
            "numpy.dtype",
            "numpy.ma.core._mareconstruct",
            "numpy.ma.core.MaskedArray",
            "numpy.ma.MaskedArray",
            "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
            "numpy.random._pickle.__randomstate_ctor",
            "numpy.random._pickle.__bit_generator_ctor",
            "numpy.random._pickle.__generator_ctor",
            "numpy.random.__RandomState_ctor",
            "numpy.random.mtrand.RandomState",
            "numpy.random._mt19937.MT19937",
            "numpy.random._pcg64.PCG64",
            "numpy.random._philox.Philox",
            "numpy.random._sfc64.SFC64",
            "numpy.random._generator.Generator",
            "numpy.random.bit_generator.SeedSequence",
        }
        | {f"numpy.{name}" for name in _NUMPY_SCALARS}
    ),
    # training checkpoints and configs saved next to the weights
    "training": frozenset(
        {
            "argparse.Namespace",
            "omegaconf.dictconfig.DictConfig",
            "omegaconf.listconfig.ListConfig",
            "omegaconf.base.ContainerMetadata",
            "omegaconf.base.Metadata",
            "omegaconf.nodes.AnyNode",
            "omegaconf.nodes.StringNode",
            "omegaconf.nodes.IntegerNode",
            "omegaconf.nodes.FloatNode",
            "omegaconf.nodes.BooleanNode",
            "typing.Any",
            "pytorch_lightning.utilities.parsing.AttributeDict",
            "lightning_fabric.utilities.data.AttributeDict",
            "lightning.fabric.utilities.data.AttributeDict",
        }
    ),
    "sklearn": frozenset(
        {
            "joblib.numpy_pickle.NumpyArrayWrapper",
            "joblib.numpy_pickle_compat.NDArrayWrapper",
            "sklearn.utils._bunch.Bunch",
            "scipy.sparse._csr.csr_matrix",
            "scipy.sparse._csc.csc_matrix",
            "scipy.sparse._coo.coo_matrix",
            "scipy.sparse.csr.csr_matrix",
        }
    ),
    "pandas": frozenset(
        {
            "pandas._libs.internals._unpickle_block",
            "pandas.core.internals.managers.BlockManager",
            "pandas.core.internals.managers.SingleBlockManager",
            "pandas.core.frame.DataFrame",
            "pandas.core.series.Series",
            "pandas.core.indexes.base._new_Index",
            "pandas.core.indexes.base.Index",
            "pandas.core.indexes.range.RangeIndex",
            "pandas._libs.tslibs.timestamps._unpickle_timestamp",
        }
    ),
}

# Prefix-allowed helpers: every ``torch._utils._rebuild_*`` rebuilds a tensor from data.
ALLOW_PREFIXES: tuple[str, ...] = ("torch._utils._rebuild_",)

# TorchScript archives name their classes ``__torch__.<module>.<Class>``: the JIT
# unpickler binds them to classes compiled from the archive's ``code/`` folder,
# and a Python unpickler cannot import them (there is no ``__torch__`` module).
TORCHSCRIPT_NAMESPACE = "__torch__"

# Whole-object pickles name classes of these libraries. Importing such a class
# runs nothing beyond the library's own import; the object then needs the
# class to exist. Reported low: "requires the class to import".
CLASS_NAMESPACES: tuple[str, ...] = (
    "torch.nn.",
    "torch.optim.",
    "torch.ao.nn.",
    "torch.distributions.",
    "torchvision.",
    "torchaudio.",
    "timm.",
    "transformers.",
    "sentence_transformers.",
    "diffusers.",
    "peft.",
    "sklearn.",
    "scipy.",
    "xgboost.",
    "lightgbm.",
    "catboost.",
    "tokenizers.",
    "fastai.",
    "__main__.",
)
# Modules inside those namespaces that are not plain data classes.
CLASS_NAMESPACE_EXCLUDES: tuple[str, ...] = (
    "sklearn.utils._testing",
    "sklearn.datasets",
    "sklearn.externals",
    "transformers.dynamic_module_utils",
    "transformers.utils.hub",
    "torchvision.datasets",
    "torchaudio.datasets",
    "diffusers.utils.dynamic_modules_utils",
    "fastai.callback",
)
_CLASS_NAME = re.compile(r"^_?[A-Z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$")


def looks_like_class(name: str) -> bool:
    return bool(_CLASS_NAME.match(name)) and not name.isupper()


# Leaf names that betray a gadget even when the module is unknown to us.
# Patterns compiled on first use: most checkpoints never ask (every import is
# allowlisted), and the leaf pattern alone takes ~1 ms to compile, a sizeable part
# of a one-file scan.
_DANGEROUS_LEAF = (
    r"^(?:system|popen\w*|spawn\w*|exec\w*|eval\w*|run|run_\w+|_run\w*|call|check_call|"
    r"check_output|getoutput|getstatusoutput|compile|load|loads|_load\w*|load_\w+|"
    r"open|urlopen|urlretrieve|request|import_module|__import__|resolve_name|getattr\w*|"
    r"setattr|delattr|write\w*|remove|unlink|rmtree|rmdir|rename|chmod|chown|touch|"
    r"makedirs|mkdir|kill|fork\w*|connect|send\w*|findmatch|read_csv|read_pickle|"
    r"download\w*|fetch\w*|install\w*|main|start_new_thread|create_connection|"
    r"get_type_hints|_eval_type|_create_fn|__subclasses__|__globals__|__builtins__|"
    r"__code__|__reduce__|__reduce_ex__|__getattribute__|__class__|__base__|__bases__|"
    r"__mro__|__dict__|__self__|__func__|__init_subclass__|__setattr__|__delattr__|__setitem__|"
    # classes whose constructor runs a program, loads native code or imports files
    r"Popen|CDLL|PyDLL|WinDLL|OleDLL|LibraryLoader|InteractiveInterpreter|InteractiveConsole|"
    r"SourceFileLoader|SourcelessFileLoader|ExtensionFileLoader|PackageImporter|"
    # hub loaders: fetch a model (and with trust_remote_code its code) at load time
    r"from_pretrained|from_single_file|snapshot_download|hf_hub_download|pipeline)$"
)


def is_dangerous_leaf(name: str) -> bool:
    """The last part of a name reads like a gadget: runs, loads, opens, walks attributes."""
    return _compiled(_DANGEROUS_LEAF).match(name) is not None


def is_remote_or_path(text: str) -> bool:
    """A URL, an absolute or home path, or a hub repository id."""
    return _compiled(_REMOTE_OR_PATH).match(text) is not None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Words of a snake_case name that betray a gadget: ``_get_command_stdout``,
# ``_syscmd_file``, ``_import_dotted_name``, ``_builtin_open`` (private helpers
# and re-exports that shell out, import or open, whatever their module).
DANGEROUS_WORDS = frozenset(
    _words(
        "cmd syscmd command commands shell pager pipepager popen spawn spawnv spawnve "
        "spawnvp exec execv execve execvp eval system subprocess import importer "
        "locate open urlopen fopen unpickle unpickler deserialize marshal"
    )
)


def has_dangerous_word(name: str) -> bool:
    """A piece of a snake_case (private) name is a verb of the threat classes."""
    return "_" in name and not DANGEROUS_WORDS.isdisjoint(name.lower().split("_"))


# Python-2 module names pickles still carry (``_compat_pickle`` in CPython).
MODULE_ALIASES: dict[str, str] = {
    "__builtin__": "builtins",
    "copy_reg": "copyreg",
    "cPickle": "pickle",
    "exceptions": "builtins",
    "UserDict": "collections",
    "UserList": "collections",
    "commands": "subprocess",
    "urllib2": "urllib.request",
    "httplib": "http.client",
    "cStringIO": "io",
    "StringIO": "io",
}
