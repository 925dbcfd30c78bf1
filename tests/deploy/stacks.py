"""The scripts that start local deployments (``scripts/ui_stack.py``, ``scripts/deploy_stack.py``) as modules."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load(name: str) -> Any:
    """``scripts/<name>.py`` as a module (scripts/ is not a package; its folder goes on sys.path)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def read_env_file(path: Path) -> dict[str, str]:
    """An env file as Compose reads it (the deployment harness's reader)."""
    result: dict[str, str] = load("deploy_stack").read_env_file(path)
    return result
