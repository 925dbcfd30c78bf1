"""The sandbox's patches to moto, one per module, applied by :func:`apply_all` when a sandbox starts.

Each module's docstring says what moto (the pinned version, 5.2.x) does wrong or lacks, what the
patch changes, and how the fix could be offered upstream; ``tests/sandbox/test_moto_patches.py``
checks for each that unpatched moto still behaves that way (so a moto upgrade that fixes it is
noticed) and that the patched behaviour is right. Importing this package changes nothing:
:meth:`airflow_sfn_etl_sandbox.Sandbox.start` calls :func:`apply_all`, which is idempotent.

All patches are on moto's Step Functions interpreter (``moto.stepfunctions.parser``):

- :mod:`.task_services`: Glue ``.sync`` that works, Athena and DataBrew integrations, nested executions,
  aws-sdk calls with AWS's casing and JSON results;
- :mod:`.aws_sdk_error_names`: aws-sdk errors named ``Glue.…``, ``Athena.…`` as on AWS;
- :mod:`.aborted_stays_aborted`: an aborted execution is not turned into a failed one;
- :mod:`.aborted_state_events`: ``<Type>StateAborted`` events, ``ExecutionTimedOut`` details;
- :mod:`.json_safe_output`: DescribeExecution does not fail on a timestamp in the output;
- :mod:`.intrinsic_escapes`: ``\\'``, ``\\{``, ``\\}``, ``\\\\`` in intrinsic literals, ``States.Format``;
- :mod:`.intrinsic_json_strings`: intrinsic functions read from the JSON string's value;
- :mod:`.reraised_states_errors`: ``States.*`` errors out of branches, iterations and callbacks;
- :mod:`.jsonata_evaluator`: JSONata expressions and workflow variables evaluate (jsonata-python);
- :mod:`.heartbeat_timeout`: a missed heartbeat fails with ``States.HeartbeatTimeout``;
- :mod:`.distributed_map_thresholds`: a Distributed Map fails past its tolerated failures.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    aborted_state_events,
    aborted_stays_aborted,
    aws_sdk_error_names,
    distributed_map_thresholds,
    heartbeat_timeout,
    intrinsic_escapes,
    intrinsic_json_strings,
    json_safe_output,
    jsonata_evaluator,
    reraised_states_errors,
    task_services,
)

#: Every patch, in the order :func:`apply_all` applies them.
PATCHES: tuple[ModuleType, ...] = (
    task_services,
    aws_sdk_error_names,
    aborted_stays_aborted,
    aborted_state_events,
    json_safe_output,
    intrinsic_escapes,
    intrinsic_json_strings,
    reraised_states_errors,
    jsonata_evaluator,
    heartbeat_timeout,
    distributed_map_thresholds,
)


def name_of(patch: ModuleType) -> str:
    return patch.__name__.rsplit(".", 1)[-1]


def apply_all() -> None:
    """Apply every patch (each one once; calling this again does nothing)."""
    for patch in PATCHES:
        patch.apply()


def applied() -> list[str]:
    """The names of the patches applied in this process."""
    return [name_of(patch) for patch in PATCHES if patch.apply.applied]
