"""Abstract values a name or expression can stand for during resolution."""

from __future__ import annotations

from dataclasses import dataclass

from .index import ClassInfo, FunctionInfo


@dataclass(frozen=True, eq=False)
class ModuleV:
    key: str  # module key inside the repo ("pkg/mod"; "" is the repo root package)


@dataclass(frozen=True, eq=False)
class ClassV:
    cls: ClassInfo


@dataclass(frozen=True, eq=False)
class InstanceV:
    cls: ClassInfo


@dataclass(frozen=True, eq=False)
class FuncV:
    fn: FunctionInfo


@dataclass(frozen=True, eq=False)
class SuperV:
    cls: ClassInfo  # the class whose bases ``super()`` looks in


@dataclass(frozen=True)
class ExternalV:
    name: str  # dotted name outside the repo: "os.system", "torch.nn.Module", "eval"


Value = ModuleV | ClassV | InstanceV | FuncV | SuperV | ExternalV
