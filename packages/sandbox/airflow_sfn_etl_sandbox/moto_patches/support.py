"""What every moto patch needs: find a moto internal or fail loudly, and apply only once.

A patch replaces a named moto internal. :func:`moto_attr` checks first that it exists, so a
moto upgrade that moves or renames it fails at sandbox start with a clear message instead of
silently running moto's own behaviour. :func:`once` makes a patch's ``apply()`` idempotent.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

#: moto's Step Functions interpreter (an ASL interpreter ported from LocalStack).
SFN_PARSER = "moto.stepfunctions.parser"

_lock = threading.Lock()


class MotoChanged(RuntimeError):
    """moto no longer has the internal a patch replaces: this moto version is not supported."""


def moto_attr(module_name: str, name: str) -> tuple[Any, Any]:
    """(module, module.name) for a moto internal; raises :class:`MotoChanged` if it is gone."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MotoChanged(f"sandbox moto patch: moto has no module {module_name} ({err}); "
                          "this moto version is not supported by the sandbox") from err
    if not hasattr(module, name):
        raise MotoChanged(f"sandbox moto patch: {module_name}.{name} is gone; "
                          "this moto version is not supported by the sandbox")
    return module, getattr(module, name)


class Once:
    """A patch's ``apply()`` that does its work the first time only; :attr:`applied` tells."""

    def __init__(self, fn: Callable[[], None]) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.applied = False

    def __call__(self) -> None:
        with _lock:
            if not self.applied:
                self._fn()
                self.applied = True


def once(fn: Callable[[], None]) -> Once:
    """Decorate a patch's ``apply()`` so that calling it again does nothing."""
    return Once(fn)
