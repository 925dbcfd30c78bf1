"""Keep moto's state across sandbox restarts: pickle its backends into ``<data-dir>/state/``.

Each (service, account, region) backend is pickled on its own, so one that cannot be pickled
(e.g. while it holds a lock or a running thread) is skipped and reported instead of losing the
rest. S3 objects pickle with their bytes (moto's ``FakeKey`` supports it).

The sandbox's own records are saved beside them, under ``sandbox/<module>`` labels: Athena query
executions (their results are S3 objects), crawls, Glue and DataBrew job runs. Each service module
that keeps such records has ``export_state()`` / ``import_state(saved)``; what is still running
when a snapshot is taken is saved as failed, since a restarted sandbox cannot carry on with it.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The services the flows use; their moto backends are saved and restored.
SERVICES = ("s3", "glue", "athena", "sns", "sqs", "iam", "stepfunctions", "databrew", "logs", "events", "sts")
STATE_FILE = "moto-state.pickle"
#: The sandbox modules whose own records (query executions, runs) are saved with moto's state.
SANDBOX_MODULES = ("athena", "crawler", "glue_jobs", "databrew")
_SANDBOX_LABEL = "sandbox/"


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class _Pickler(pickle.Pickler):
    """Pickles locks as fresh locks (moto models hold some; their state need not survive)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        return NotImplemented


def _dumps(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _backend_dict(service: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def snapshot(data_dir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Write moto's state to ``data_dir``; returns {"saved": [...], "skipped": [...]} labels."""
    saved: dict[str, bytes] = {}
    report: dict[str, list[str]] = {"saved": [], "skipped": []}
    for service in SERVICES:
        try:
            backends = _backend_dict(service)
        except Exception as exc:  # a service moto does not ship
            report["skipped"].append(f"{service}: {exc}")
            continue
        for account_id in list(backends.keys()):
            account = backends[account_id]
            for region in list(account.keys()):
                label = f"{service}/{account_id}/{region}"
                try:
                    saved[label] = _dumps(account[region])
                    report["saved"].append(label)
                except Exception as exc:
                    report["skipped"].append(f"{label}: {type(exc).__name__}: {exc}")
    for name in SANDBOX_MODULES:
        label = _SANDBOX_LABEL + name
        module = sys.modules.get(f"{__package__}.{name}")
        if module is None:  # not loaded: this process has no records of it
            continue
        try:
            saved[label] = _dumps(module.export_state())
            report["saved"].append(label)
        except Exception as exc:
            report["skipped"].append(f"{label}: {type(exc).__name__}: {exc}")
    target = Path(data_dir) / "state"
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / (STATE_FILE + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(saved, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, target / STATE_FILE)
    return report


def restore(data_dir: str | os.PathLike[str]) -> list[str]:
    """Load a snapshot written by :func:`snapshot` into moto's backends; returns the labels restored."""
    path = Path(data_dir) / "state" / STATE_FILE
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        saved: dict[str, bytes] = pickle.load(fh)
    restored = []
    for label, blob in saved.items():
        if label.startswith(_SANDBOX_LABEL):
            continue
        service, account_id, region = label.split("/", 2)
        try:
            backend = pickle.loads(blob)
            _backend_dict(service)[account_id][region] = backend
            restored.append(label)
        except Exception as exc:
            log.warning("could not restore %s: %s", label, exc)
    for label, blob in saved.items():
        if not label.startswith(_SANDBOX_LABEL):
            continue
        try:
            module = importlib.import_module(f"{__package__}.{label[len(_SANDBOX_LABEL):]}")
            module.import_state(pickle.loads(blob))
            restored.append(label)
        except Exception as exc:
            log.warning("could not restore %s: %s", label, exc)
    return restored


class Autosave:
    """Snapshot every ``interval`` seconds in a daemon thread, and once more on :meth:`stop`."""

    def __init__(self, data_dir: str | os.PathLike[str], interval: float = 30.0) -> None:
        self.data_dir = data_dir
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-autosave", daemon=True)

    def start(self) -> Autosave:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                snapshot(self.data_dir)
            except Exception as exc:  # keep serving; the next tick tries again
                log.warning("sandbox autosave failed: %s", exc)

    def stop(self) -> dict[str, list[str]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return snapshot(self.data_dir)
