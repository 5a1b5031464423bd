"""Errors raised by the sandbox; nothing of wasmtime's crosses this boundary.

The tree::

    SandboxError                      root: catch this to catch everything below
    ├── SandboxInputError (ValueError) a bad argument: missing folder, bad size, ...
    ├── RuntimeIntegrityError          the interpreter's .wasm is missing or has the wrong hash
    ├── CompileError                   wasmtime refused to compile the interpreter
    ├── CacheError                     the compiled-module cache directory is unusable
    ├── RunnerError                    a pinned test runner is missing or not the pinned version
    └── HostError                      wasmtime failed outside the guest's control

A guest that misbehaves (loops, allocates, prints too much, exits non-zero) is
not an error: ``run`` returns a ``RunResult`` whose ``status`` says what happened.
"""

from __future__ import annotations

from pathlib import Path


class SandboxError(Exception):
    """Root of every error the sandbox raises."""


class SandboxInputError(SandboxError, ValueError):
    """A caller passed something the sandbox cannot use; ``setting`` names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class RuntimeIntegrityError(SandboxError):
    """The interpreter module is missing, unreadable, or not the pinned build."""

    def __init__(self, path: Path, problem: str, *, expected: str = "", actual: str = "") -> None:
        super().__init__(f"interpreter {path}: {problem}")
        self.path = path
        self.problem = problem
        self.expected = expected
        self.actual = actual


class CompileError(SandboxError):
    """Wasmtime could not compile (or validate) the interpreter module."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot compile {path}: {reason}")
        self.path = path
        self.reason = reason


class CacheError(SandboxError):
    """The compiled-module cache directory cannot be created or written."""

    def __init__(self, directory: Path, reason: str) -> None:
        super().__init__(f"compiled-module cache {directory}: {reason}")
        self.directory = directory
        self.reason = reason


class RunnerError(SandboxError):
    """A pinned test runner (pytest, a dependency) cannot be provided; ``package`` names it."""

    def __init__(self, package: str, problem: str) -> None:
        super().__init__(f"pinned test runner {package}: {problem}")
        self.package = package
        self.problem = problem


class HostError(SandboxError):
    """Wasmtime failed while setting up or tearing down a run (not the guest's doing)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"sandbox host failure while {stage}: {reason}")
        self.stage = stage
        self.reason = reason
