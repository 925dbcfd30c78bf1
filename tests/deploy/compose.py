"""Reading ``docker-compose.yaml`` the way Docker Compose does, without a Docker engine.

Only what the deploy tests need: YAML with merge keys (``<<``), ``${VAR}`` interpolation
(``${VAR:-default}``, ``${VAR-default}``, ``$$``), and small helpers over services.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"

_VAR = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
                  r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution over one string, with ``env`` as the shell environment."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, default = match.group("op"), match.group("default") or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env[name] if name in env else default
        return env.get(name, "")

    return _VAR.sub(sub, value)


def resolve(node: Any, env: dict[str, str]) -> Any:
    """Interpolate every string in a parsed compose document."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it with the shell environment ``env`` (empty by default)."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return resolve(raw, env or {})


def env_files(service: dict[str, Any]) -> list[Path]:
    """A service's ``env_file`` entries (string, list, or ``{path: ...}`` items), relative to the compose file."""
    entries = service.get("env_file") or []
    if isinstance(entries, str):
        entries = [entries]
    return [COMPOSE_FILE.parent / (e["path"] if isinstance(e, dict) else e) for e in entries]


def inline_environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's own ``environment`` as a dict (both the mapping and the list forms)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """What a service's containers get: its ``env_file`` files, then its ``environment`` over them."""
    from .stacks import read_env_file

    env: dict[str, str] = {}
    for path in env_files(service):
        env.update(read_env_file(path))
    env.update(inline_environment(service))
    return env


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``{dependency: condition}``; the short list form means ``service_started``."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def command_args(service: dict[str, Any]) -> list[str]:
    """A service's ``command`` as an argument list."""
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(source, target, mode)`` of each short-syntax volume whose source is a host path."""
    mounts = []
    for volume in service.get("volumes") or []:
        parts = volume.split(":")
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        if source.startswith((".", "/", "~")):
            mounts.append((source, target, mode))
    return mounts


def named_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """``(volume name, target)`` of each named-volume mount."""
    mounts = []
    for volume in service.get("volumes") or []:
        source, target = volume.split(":")[:2]
        if not source.startswith((".", "/", "~")):
            mounts.append((source, target))
    return mounts


def host_ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """``(host port, container port)`` of each published port."""
    published = []
    for spec in service.get("ports") or []:
        parts = str(spec).split(":")
        host, container = (parts[-2], parts[-1]) if len(parts) >= 2 else (parts[0], parts[0])
        published.append((int(host), int(container.split("/")[0])))
    return published
