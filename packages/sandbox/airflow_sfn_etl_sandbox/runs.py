"""The lifecycle shared by the runs the sandbox performs in the background.

A crawl, a Glue job run and a DataBrew job run go through the same steps; a service module
keeps only what its run *does* (its *effect*: crawl the targets, run the job's script, apply the
recipe) and how its API describes a run. This module keeps the rest:

- :class:`RunRegistry`: a service's runs per (region, name) in start order, the admission rule
  for a new run (one at a time, ``MaxConcurrentRuns``), listing newest first, forgetting;
- :class:`Run`: the state transitions (``[STARTING ->] RUNNING [-> STOPPING] -> final``, with the
  service's names for the states, :class:`States`), start/modification/end times and the time
  spent running, the stop request, the timeout deadline;
- :func:`execute`: the life of one run on a background thread (:func:`.runtime.submit`), in order:
  the run's fault rules (:func:`.faults.run_faults`: a ``delay`` makes it take longer, a ``fail``
  fails it), the STARTING pause, RUNNING, the effect, the final state; then a retry if the run
  asks for one (:meth:`Run.next_attempt`).

An effect ends its run by returning (succeeded), raising :class:`RunFailed` (failed, with its
message) or letting :meth:`Run.checkpoint` raise :class:`RunEnded` (stopped, timed out); it calls
:meth:`Run.checkpoint` between its steps and :meth:`Run.pause` to wait. Any other exception is a
sandbox defect: the run fails with the service's :attr:`Run.INTERNAL_ERROR` prefix.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from . import faults, runtime

#: The error message of a run that was still going when the sandbox saved its state and stopped.
STOPPED_MESSAGE = "The sandbox stopped while the run was in progress"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class States:
    """A service's names for the states of its runs.

    :param initial: the state of a new run: ``STARTING`` (a short pause, then RUNNING) or ``RUNNING``.
    :param final: the states a run ends in.
    """

    initial: str
    final: frozenset[str]
    running: str = "RUNNING"
    stopping: str = "STOPPING"
    succeeded: str = "SUCCEEDED"
    failed: str = "FAILED"
    stopped: str = "STOPPED"
    timed_out: str = "TIMEOUT"

    @property
    def stoppable(self) -> frozenset[str]:
        """States in which a stop request is accepted."""
        return frozenset({self.initial, self.running})


class RunFailed(Exception):
    """Ends a run in its failed state; the message becomes the run's error message."""


class RunEnded(Exception):
    """Ends a run early in ``state`` (its stopped or timed-out state), raised by :meth:`Run.checkpoint`."""

    def __init__(self, state: str, message: str | None = None) -> None:
        super().__init__(message or state)
        self.state = state
        self.message = message


@dataclass(kw_only=True, eq=False)
class Run:
    """One run of a job (or crawler) ``name`` in ``region``.

    Subclasses set the class attributes, add their own fields and describe the run for their API.

    :param timeout: the run's timeout as the API gives it (minutes), or None for none.
    :param timeout_seconds: the same in seconds (the deadline is that long after RUNNING).
    """

    STATES: ClassVar[States]
    #: The fault rules' ``target`` for these runs (``glue_job``, ``databrew_job``, ``crawler``).
    FAULT_TARGET: ClassVar[str]
    #: Error message prefix of a run ended by a sandbox defect.
    INTERNAL_ERROR: ClassVar[str] = "Sandbox internal error: "
    #: Seconds a run stays in its initial state when that is not RUNNING.
    STARTING_SECONDS: ClassVar[float] = 0.1

    id: str
    name: str
    region: str
    timeout: int | None = None
    timeout_seconds: float | None = None
    state: str = ""
    error_message: str | None = None
    started_on: dt.datetime = field(default_factory=utc_now)
    last_modified_on: dt.datetime = field(default_factory=utc_now)
    completed_on: dt.datetime | None = None
    running_since: float | None = None  #: time.monotonic() when the run went RUNNING
    run_seconds: float = 0.0  #: seconds from RUNNING to the end, once ended
    stop_requested: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: Any = field(default_factory=threading.RLock, repr=False)  #: the registry's lock once added
    _cancel_hooks: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """What a snapshot keeps: the run's record, without its stop event, lock and cancel hooks."""
        saved = dict(self.__dict__)
        for transient in ("stop_requested", "lock", "_cancel_hooks"):
            saved.pop(transient, None)
        return saved

    def __setstate__(self, saved: dict[str, Any]) -> None:
        self.__dict__.update(saved)
        self.stop_requested = threading.Event()
        self.lock = threading.RLock()
        self._cancel_hooks = []

    def __post_init__(self) -> None:
        if not self.state:
            self.state = self.STATES.initial
        if self.state == self.STATES.running and self.running_since is None:
            self.running_since = time.monotonic()

    # -- state -----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.state not in self.STATES.final

    def set_state(self, new_state: str, message: str | None = None) -> None:
        """Move to ``new_state`` (a run that has ended stays as it is)."""
        with self.lock:
            if self.state in self.STATES.final:
                return
            now = utc_now()
            if new_state == self.STATES.running and self.running_since is None:
                self.running_since = time.monotonic()
            self.state = new_state
            self.last_modified_on = now
            if message is not None:
                self.error_message = message
            if new_state in self.STATES.final:
                self.completed_on = now
                if self.running_since is not None:
                    self.run_seconds = time.monotonic() - self.running_since

    def elapsed_seconds(self) -> float:
        """Seconds spent running: so far, or in all once ended."""
        if not self.active:
            return self.run_seconds
        return time.monotonic() - self.running_since if self.running_since is not None else 0.0

    # -- stop and timeout ------------------------------------------------------------------
    def request_stop(self) -> bool:
        """Ask the run to stop: it goes STOPPING and ends stopped at its next checkpoint.

        :returns: False (and nothing changes) when the run is not in a stoppable state.
        """
        with self.lock:
            if self.state not in self.STATES.stoppable:
                return False
            self.set_state(self.STATES.stopping)
            self.stop_requested.set()
            return True

    @property
    def deadline(self) -> float | None:
        """time.monotonic() past which the run times out, or None."""
        if self.timeout_seconds is None or self.running_since is None:
            return None
        return self.running_since + self.timeout_seconds

    def timeout_message(self) -> str:
        return f"Job run timed out after {self.timeout} minutes"

    def checkpoint(self) -> None:
        """Raise :class:`RunEnded` if the run was asked to stop or is past its deadline."""
        if self.stop_requested.is_set():
            raise RunEnded(self.STATES.stopped)
        deadline = self.deadline
        if deadline is not None and time.monotonic() >= deadline:
            raise RunEnded(self.STATES.timed_out, self.timeout_message())

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (at most until the deadline, less if a stop is asked), then :meth:`checkpoint`."""
        deadline = self.deadline
        if deadline is not None:
            seconds = min(seconds, deadline - time.monotonic())
        self.stop_requested.wait(max(0.0, seconds))
        self.checkpoint()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` if the run is cancelled (sandbox reset), e.g. to kill its process."""
        self._cancel_hooks.append(hook)

    def cancel(self) -> None:
        """Stop the run at once, whatever its state (used when the sandbox forgets its runs)."""
        self.stop_requested.set()
        for hook in list(self._cancel_hooks):
            hook()

    # -- hooks for subclasses --------------------------------------------------------------
    def begin(self) -> None:
        """Called first on the background thread; may raise :class:`RunFailed`."""

    def finished(self) -> None:
        """Called once the run has ended (e.g. to log its end)."""

    def next_attempt(self) -> Run | None:
        """A new run to start after this one has ended (a retry), or None."""
        return None


R = TypeVar("R", bound=Run)


def execute(run: R, effect: Callable[[R], None]) -> None:
    """The life of ``run`` on the current thread, from its fault rules to its final state."""
    states = run.STATES
    try:
        run.begin()
        fail_message, delay = faults.run_faults(run.FAULT_TARGET, run.name)
        if states.initial != states.running:
            if run.stop_requested.wait(run.STARTING_SECONDS):
                raise RunEnded(states.stopped)
            run.set_state(states.running)
        if delay:
            run.pause(delay)
        if fail_message:
            raise RunFailed(fail_message)
        effect(run)
    except RunEnded as end:
        run.set_state(end.state, end.message)
    except RunFailed as exc:
        run.set_state(states.failed, str(exc))
    except Exception as exc:  # a sandbox defect must still end the run
        run.set_state(states.failed, f"{run.INTERNAL_ERROR}{type(exc).__name__}: {exc}")
    else:
        run.set_state(states.succeeded)
    run.finished()


class RunRegistry(Generic[R]):
    """A service's runs per (region, name), in start order; one lock guards them and their states."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._runs: dict[tuple[str, str], list[R]] = {}

    def add(self, run: R, admit: Callable[[list[R]], None] | None = None) -> R:
        """Record a new run; ``admit`` gets the active runs of the same name and may refuse it (raise)."""
        with self.lock:
            runs = self._runs.setdefault((run.region, run.name), [])
            if admit is not None:
                admit([r for r in runs if r.active])
            run.lock = self.lock
            runs.append(run)
        return run

    def launch(self, run: R, effect: Callable[[R], None], admit: Callable[[list[R]], None] | None = None) -> R:
        """:meth:`add` ``run`` and :func:`execute` it (and its retries) in the background."""
        self.add(run, admit)
        runtime.submit(self._execute_all, run, effect)
        return run

    def _execute_all(self, run: R, effect: Callable[[R], None]) -> None:
        current: R | None = run
        while current is not None:
            execute(current, effect)
            following = current.next_attempt()
            current = self.add(following) if following is not None else None  # type: ignore[arg-type]

    def runs(self, region: str, name: str) -> list[R]:
        """The runs of ``name``, oldest first."""
        with self.lock:
            return list(self._runs.get((region, name), []))

    def newest_first(self, region: str, name: str) -> list[R]:
        return self.runs(region, name)[::-1]

    def latest(self, region: str, name: str) -> R | None:
        runs = self.runs(region, name)
        return runs[-1] if runs else None

    def last_ended(self, region: str, name: str) -> R | None:
        for run in self.newest_first(region, name):
            if not run.active:
                return run
        return None

    def find(self, region: str, name: str, run_id: str) -> R | None:
        for run in self.runs(region, name):
            if run.id == run_id:
                return run
        return None

    def forget(self, region: str, name: str) -> None:
        """Forget the runs of ``name`` (its job or crawler was deleted)."""
        with self.lock:
            self._runs.pop((region, name), None)

    def export(self) -> dict[tuple[str, str], list[R]]:
        """Copies of every run, for a snapshot (:mod:`.persist`).

        A run still going is recorded as failed with :data:`STOPPED_MESSAGE`: a restored sandbox
        cannot carry on with it.
        """
        with self.lock:
            out: dict[tuple[str, str], list[R]] = {}
            for key, runs in self._runs.items():
                copies = []
                for run in runs:
                    saved = copy.copy(run)
                    if saved.active:
                        saved.run_seconds = run.elapsed_seconds()
                        saved.state = saved.STATES.failed
                        saved.error_message = STOPPED_MESSAGE
                        saved.completed_on = saved.last_modified_on = utc_now()
                    copies.append(saved)
                out[key] = copies
            return out

    def restore(self, saved: dict[tuple[str, str], list[R]]) -> None:
        """Take back runs from :meth:`export` (a sandbox restarted with its data dir)."""
        with self.lock:
            for key, runs in saved.items():
                for run in runs:
                    run.lock = self.lock
                self._runs[key] = list(runs)

    def clear(self) -> None:
        """Forget every run; runs still going are cancelled."""
        with self.lock:
            runs = [run for runs in self._runs.values() for run in runs]
            self._runs.clear()
        for run in runs:
            run.cancel()
