"""aws-sdk task errors named as AWS names them: ``Glue.EntityNotFoundException``, not ``glue.…``.

What moto (5.2.5) does wrong: an ``arn:aws:states:::aws-sdk:<service>:<action>`` task that gets
an API error fails with ``<prefix>.<ErrorCode>``, the prefix coming from
``_SERVICE_ERROR_NAMES`` in ``state_task_service_aws_sdk``. That dict has only ``dynamodb``
(``DynamoDb``) and ``sfn`` (``Sfn``); any other service falls back to the name as written in the
resource, so a Glue error is ``glue.EntityNotFoundException`` where AWS says
``Glue.EntityNotFoundException``, and a ``Retry``/``Catch`` written for AWS does not match.

What the patch changes: it adds the services the sandbox's flows call (:data:`AWS_SDK_ERROR_PREFIXES`).

Upstream: add the entries to ``_SERVICE_ERROR_NAMES`` (the prefix is the service's name as the
Step Functions documentation spells it in aws-sdk error names).
"""

from __future__ import annotations

from .support import SFN_PARSER, MotoChanged, moto_attr, once

#: Lower-cased service name -> the error prefix AWS uses.
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


@once
def apply() -> None:
    _, names = moto_attr(f"{SFN_PARSER}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
                         "_SERVICE_ERROR_NAMES")
    if not isinstance(names, dict):
        raise MotoChanged("sandbox moto patch: _SERVICE_ERROR_NAMES is no longer a dict")
    names.update(AWS_SDK_ERROR_PREFIXES)
