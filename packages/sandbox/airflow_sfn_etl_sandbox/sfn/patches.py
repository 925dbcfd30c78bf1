"""The patches that put the sandbox's integrations into moto's Step Functions interpreter.

Each patch replaces one named moto internal and checks first that it exists, so a moto upgrade
that moves it fails loudly at sandbox start instead of silently running moto's own behaviour:

1. ``state_task_service_for`` (the Task-resource factory; patched in its module and in
   ``state_task_factory``, which imports it by name): ``glue``, ``athena``, ``databrew`` and
   ``aws-sdk`` resources get the classes of this package.
2. ``_SERVICE_ERROR_NAMES`` of the AWS SDK integration: error names as AWS spells them
   (``Glue.CrawlerRunningException``, not ``glue.CrawlerRunningException``), so that
   ``Retry``/``Catch`` written for AWS match.
3. ``Environment.set_error``: an aborted execution stays ABORTED when a task that was torn down
   by the abort reports an error afterwards (moto would turn it into FAILED).
4. ``BaseExecutionWorkerCommunication._reflect_execution_status``: the execution's output is made
   JSON-safe, so DescribeExecution never fails on a value the interpreter left as ``datetime``
   (e.g. ``$$.Execution.StartTime`` passed through).
5. Intrinsic string literals: the escapes AWS documents (``\\'``, ``\\{``, ``\\}``, ``\\\\``) are
   unescaped, and ``States.Format`` replaces only unescaped ``{}`` (moto kept the backslashes
   and ran Python's ``str.format``, so a literal quote or brace broke the state).
6. ``Preprocessor.visitString_intrinsic_function``: the intrinsic function is parsed from the JSON
   string's *value*, as AWS does; moto parsed the raw JSON text, so a JSON escape (``\\'`` for
   ``\'``, ``\\n``) reached the intrinsic parser doubled and cut the string literal short.
7. ``CustomErrorName`` where moto re-raises an error it received (a Parallel branch's failure, a
   Map iteration's, a callback's): a ``States.*`` name (``States.TaskFailed`` from a ``.sync``
   task in a branch) becomes a ``StatesErrorName`` instead of crashing the execution with
   "Custom Error Names MUST NOT begin with the prefix 'States.'".
"""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

from .athena import SandboxAthenaService
from .aws_sdk import SandboxAwsSdkService
from .databrew import SandboxDataBrewService
from .glue import SandboxGlueService
from .results import iso_timestamps

_PARSER = "moto.stepfunctions.parser"
_SERVICE = f"{_PARSER}.asl.component.state.exec.state_task.service"

#: Task resource service name -> the sandbox's class for it.
SANDBOX_SERVICES: dict[str, type] = {
    "aws-sdk": SandboxAwsSdkService,
    "glue": SandboxGlueService,
    "athena": SandboxAthenaService,
    "databrew": SandboxDataBrewService,
}

#: AWS SDK integration error prefixes as AWS spells them (lower-cased service name -> prefix).
AWS_SDK_ERROR_PREFIXES = {
    "glue": "Glue",
    "athena": "Athena",
    "databrew": "DataBrew",
    "sns": "Sns",
    "s3": "S3",
    "sqs": "Sqs",
    "iam": "Iam",
    "sfn": "Sfn",
    "dynamodb": "DynamoDb",
}

_installed = False


def _attr(module_name: str, name: str) -> tuple[Any, Any]:
    """(module, module.name); raises a clear error if moto no longer has it."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise RuntimeError(
            f"sandbox Step Functions patch: moto has no module {module_name} ({err}); "
            "this moto version is not supported by the sandbox"
        ) from err
    if not hasattr(module, name):
        raise RuntimeError(
            f"sandbox Step Functions patch: {module_name}.{name} is gone; "
            "this moto version is not supported by the sandbox"
        )
    return module, getattr(module, name)


def _patch_service_factory() -> None:
    factory_module, original = _attr(f"{_SERVICE}.state_task_service_factory", "state_task_service_for")
    user_module, user_original = _attr(
        f"{_PARSER}.asl.component.state.exec.state_task.state_task_factory", "state_task_service_for"
    )
    if user_original is not original:
        raise RuntimeError(
            "sandbox Step Functions patch: state_task_factory no longer uses "
            "state_task_service_factory.state_task_service_for"
        )

    @functools.wraps(original)
    def state_task_service_for(service_name: str) -> Any:
        cls = SANDBOX_SERVICES.get(service_name)
        return cls() if cls is not None else original(service_name)

    state_task_service_for.__sandbox_original__ = original  # type: ignore[attr-defined]
    factory_module.state_task_service_for = state_task_service_for
    user_module.state_task_service_for = state_task_service_for


def _patch_aws_sdk_error_names() -> None:
    _, names = _attr(f"{_SERVICE}.state_task_service_aws_sdk", "_SERVICE_ERROR_NAMES")
    if not isinstance(names, dict):
        raise RuntimeError("sandbox Step Functions patch: _SERVICE_ERROR_NAMES is no longer a dict")
    names.update(AWS_SDK_ERROR_PREFIXES)


def _patch_stopped_stays_stopped() -> None:
    _, environment = _attr(f"{_PARSER}.asl.eval.environment", "Environment")
    _, program_stopped = _attr(f"{_PARSER}.asl.eval.program_state", "ProgramStopped")
    original = environment.set_error

    @functools.wraps(original)
    def set_error(self: Any, error: Any) -> None:
        if isinstance(getattr(self, "_program_state", None), program_stopped):
            return
        original(self, error)

    environment.set_error = set_error


def _patch_json_safe_output() -> None:
    _, comm = _attr(f"{_PARSER}.backend.execution", "BaseExecutionWorkerCommunication")
    original = comm._reflect_execution_status

    @functools.wraps(original)
    def _reflect_execution_status(self: Any) -> None:
        original(self)
        execution = self.execution
        if execution.output is not None and not isinstance(execution.output, str):
            execution.output = iso_timestamps(execution.output)

    comm._reflect_execution_status = _reflect_execution_status


_ESCAPED = {"'": "\x00q", "{": "\x00l", "}": "\x00r", "\\": "\x00b"}
_RESTORE = {v: k for k, v in _ESCAPED.items()}


def _restore(text: str) -> str:
    for marker, char in _RESTORE.items():
        text = text.replace(marker, char)
    return text


def _patch_intrinsic_escapes() -> None:
    _, preprocessor = _attr(f"{_PARSER}.asl.parse.intrinsic.preprocessor", "Preprocessor")
    _, string_format = _attr(
        f"{_PARSER}.asl.component.intrinsic.function.statesfunction.generic.string_format",
        "StringFormat",
    )
    original_replace = preprocessor._replace_escaped_characters

    def _replace_escaped_characters(match: Any) -> str:
        char = match.group(1)
        if char in _ESCAPED:
            return _ESCAPED[char]
        return original_replace(match)

    def _eval_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        template: str = args[0]
        values = [self._to_str_repr(v) for v in args[1:]]
        pieces = template.split("{}")
        if len(pieces) - 1 > len(values):
            raise ValueError(f"States.Format has {len(pieces) - 1} placeholders but {len(values)} arguments")
        out = pieces[0] + "".join(str(v) + piece for v, piece in zip(values, pieces[1:], strict=False))
        env.stack.append(_restore(out))

    preprocessor._replace_escaped_characters = staticmethod(_replace_escaped_characters)
    string_format._eval_body = _eval_body


def _patch_intrinsic_json_decoding() -> None:
    module, preprocessor = _attr(f"{_PARSER}.asl.parse.preprocessor", "Preprocessor")
    intrinsic_parser = _attr(f"{_PARSER}.asl.parse.intrinsic.intrinsic_parser", "IntrinsicParser")[1]
    string_intrinsic = _attr(f"{_PARSER}.asl.component.common.string.string_expression",
                             "StringIntrinsicFunction")[1]

    def visitString_intrinsic_function(self: Any, ctx: Any) -> Any:  # noqa: N802 (moto's name)
        derivation = json.loads(ctx.STRINGINTRINSICFUNC().getText())
        function, _ = intrinsic_parser.parse(derivation)
        return string_intrinsic(intrinsic_function_derivation=derivation, function=function)

    if not hasattr(preprocessor, "visitString_intrinsic_function"):
        raise RuntimeError(f"sandbox Step Functions patch: {module.__name__}.Preprocessor has no "
                           "visitString_intrinsic_function; this moto version is not supported")
    preprocessor.visitString_intrinsic_function = visitString_intrinsic_function


def _patch_reraised_states_error_names() -> None:
    custom = _attr(f"{_PARSER}.asl.component.common.error_name.custom_error_name", "CustomErrorName")[1]
    states = _attr(f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName")[1]

    def error_name_of(error_name: str | None = None) -> Any:
        if error_name and error_name.startswith("States."):
            try:
                return states.from_name(error_name)
            except Exception:  # an unknown States.* name: keep moto's own refusal
                pass
        return custom(error_name=error_name)

    for module_name in (
        f"{_PARSER}.asl.component.state.exec.state_parallel.branches_decl",
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.iteration_worker",
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
    ):
        module, _ = _attr(module_name, "CustomErrorName")
        module.CustomErrorName = error_name_of


def install() -> None:
    """Apply every patch once (idempotent)."""
    global _installed
    if _installed:
        return
    _patch_service_factory()
    _patch_aws_sdk_error_names()
    _patch_stopped_stays_stopped()
    _patch_json_safe_output()
    _patch_intrinsic_escapes()
    _patch_intrinsic_json_decoding()
    _patch_reraised_states_error_names()
    _installed = True
