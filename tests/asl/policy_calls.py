"""The AWS calls a state machine made on the sandbox, as IAM requests, and whether a policy allows them.

Each recorded call (``/_sandbox/calls``) becomes the ``(action, resource ARN)`` pairs IAM authorizes it
by, as AWS's Service Authorization Reference lists them: e.g. S3 CopyObject is ``s3:PutObject`` on the
destination and ``s3:GetObject`` on the source (``s3:GetObjectVersion`` for a version,
``s3:PutObjectAcl`` when it sets an ACL), DeleteObjects is ``s3:DeleteObject`` on each key. A call this
module cannot map fails the test naming it, so no call goes unchecked.
"""

from __future__ import annotations

import fnmatch
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

#: Actions AWS documents for an integration that no sandbox run calls, and why.
NOT_CALLED_ON_THE_SANDBOX = {
    "glue:GetJobRuns": "AWS lists it for glue:startJobRun.sync; the sandbox's poller calls GetJobRun",
    "databrew:ListJobRuns": "AWS lists it for databrew:startJobRun.sync; the sandbox's poller calls DescribeJobRun",
    "athena:GetQueryResults": "AWS lists it for athena:startQueryExecution.sync; the sandbox polls GetQueryExecution",
    "athena:GetWorkGroup": "AWS lists it for athena:startQueryExecution; the sandbox reads the workgroup in-process",
    "athena:StopQueryExecution": "a sandbox query ends before an abort can reach it",
    "events:DescribeRule": "Step Functions manages an EventBridge rule for nested .sync on AWS; the sandbox polls",
    "events:PutRule": "as events:DescribeRule",
    "events:PutTargets": "as events:DescribeRule",
}
#: Statements for what Athena does with the role's credentials (forward access to the Glue catalog and
#: S3); the sandbox's Athena reads its catalog and S3 in-process, so no call is recorded for them.
ATHENA_FORWARD_ACCESS = ("AthenaGlueCatalog", "AthenaTablesRead", "AthenaTableData", "AthenaQueryResults",
                         "AthenaCtasOutput")
#: Stop actions, called only when an execution stops while a run goes on (the stopped run of
#: ``test_policy_calls`` makes them).
STOP_ACTIONS = {"glue:BatchStopJobRun", "states:StopExecution", "databrew:StopJobRun"}


def unneeded(policy: dict[str, Any], requests: set[Request], also_exempt: frozenset[str] = frozenset()) -> list[Any]:
    """The (Sid, action, resource) grants no request needed, leaving out what no sandbox run can call."""
    return sorted(
        (sid, action, resource)
        for sid, action, resource in granted_pairs(policy)
        if not sid.startswith(ATHENA_FORWARD_ACCESS)
        and action not in NOT_CALLED_ON_THE_SANDBOX
        and action not in also_exempt
        and not any(a == action and iam_matches(resource, r) for a, r in requests)
    )


#: The access key of moto's Step Functions interpreter: its calls are the state machine's.
MACHINE_ACCESS_KEY = "ak"

Request = tuple[str, str]


def iam_matches(pattern: str, value: str) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one character, case-sensitive (ARNs)."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an ``Allow`` statement of ``policy`` names ``action`` on ``resource`` (no Deny is generated)."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] == "Allow" and any(iam_matches(a.lower(), action.lower()) for a in actions) and any(
            iam_matches(r, resource) for r in resources
        ):
            return True
    return False


def machine_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answered calls the state machines made (not the test's own)."""
    return [c for c in calls if c["access_key"] == MACHINE_ACCESS_KEY and c["status"] < 400]


def requests_of(call: dict[str, Any], account: str, workgroup_of: Callable[[str], str]) -> list[Request]:
    """The (action, resource) pairs IAM authorizes ``call`` by.

    :param workgroup_of: the workgroup of an Athena query execution id (the calls that name an execution
        are authorized on its workgroup).
    """
    service, operation, params, region = call["service"], call["operation"], call["params"], call["region"]
    prefix = f"{region}:{account}"
    if service == "s3":
        return _s3(call)
    if service == "glue":
        if "JobName" in params:
            return [(f"glue:{operation}", f"arn:aws:glue:{prefix}:job/{params['JobName']}")]
        if operation in ("StartCrawler", "GetCrawler"):
            return [(f"glue:{operation}", f"arn:aws:glue:{prefix}:crawler/{params['Name']}")]
    if service == "athena":
        if operation in ("StartQueryExecution", "GetWorkGroup"):
            workgroup = params.get("WorkGroup") or "primary"
        else:
            workgroup = workgroup_of(params["QueryExecutionId"])
        return [(f"athena:{operation}", f"arn:aws:athena:{prefix}:workgroup/{workgroup}")]
    if service == "databrew":
        name = params.get("name") or params.get("Name")
        return [(f"databrew:{operation}", f"arn:aws:databrew:{prefix}:job/{name}")]
    if service == "sns" and operation == "Publish":
        return [("sns:Publish", params["TopicArn"])]
    if service == "sqs" and operation == "SendMessage":
        queue_account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
        return [("sqs:SendMessage", f"arn:aws:sqs:{region}:{queue_account}:{name}")]
    if service == "stepfunctions":
        arn = params.get("stateMachineArn") or params.get("executionArn")
        return [(f"states:{operation}", arn)]
    if service == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{prefix}:function:{name}"
        return [("lambda:InvokeFunction", arn)]
    raise AssertionError(f"no IAM mapping for the call {service} {operation} {params}: add it to {__name__}")


def _s3(call: dict[str, Any]) -> list[Request]:
    method, headers = call["method"], call["headers"]
    bucket, _, key = unquote(call["path"]).lstrip("/").partition("/")
    query = parse_qs(call["query"], keep_blank_values=True)
    acl = [("s3:PutObjectAcl", f"arn:aws:s3:::{bucket}/{key}")] if "x-amz-acl" in headers else []
    if method == "PUT" and key and "x-amz-copy-source" in headers:
        source, _, version = headers["x-amz-copy-source"].partition("?versionId=")
        source_arn = "arn:aws:s3:::" + unquote(source).lstrip("/")
        read = [("s3:GetObject", source_arn)] + ([("s3:GetObjectVersion", source_arn)] if version else [])
        return [("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"), *read, *acl]
    if method == "PUT" and key and not query:
        return [("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"), *acl]
    if method == "POST" and not key and "delete" in query:
        root = ET.fromstring(call["body"] or "")
        keys = [el.text or "" for el in root.iter() if re.sub(r"^\{.*\}", "", el.tag) == "Key"]
        return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys]
    if method in ("GET", "HEAD") and key and not query:
        return [("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")]
    raise AssertionError(f"no IAM mapping for the S3 call {method} {call['path']}?{call['query']}")


def granted_pairs(policy: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every (Sid, action, resource pattern) the policy grants."""
    return [(s["Sid"], a, r) for s in policy["Statement"] for a in s["Action"] for r in s["Resource"]]
