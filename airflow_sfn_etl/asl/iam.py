"""Least-privilege IAM policy for a compiled state machine's execution role.

Per Task state, the actions AWS documents for that service integration, on the ARNs the state
names: Glue jobs and crawlers, DataBrew jobs, Athena workgroups (plus the Glue catalog
databases and the S3 buckets the query and its results touch) and SNS topics. No ``*`` action.

Names that come from the execution input are resolved with the given param values (the DAG's
param defaults unless overridden); a name that cannot be resolved becomes a ``*`` name pattern
and its statement's Sid ends in ``FromInputPattern``. Glue, Athena and DataBrew ``.sync`` poll
their service, so AWS documents no EventBridge managed rule (``events:*Rule``) for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from airflow_sfn_etl.asl.context import ACCOUNT_EXPR, REGION_EXPR
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.ir import StateMachine, Task
from airflow_sfn_etl.asl.jsonpath import _split_args

GLUE_JOB_SYNC = ("glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun")
ATHENA_SYNC = (
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetWorkGroup",
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
)
ATHENA_START = ("athena:GetWorkGroup", "athena:StartQueryExecution")
ATHENA_CATALOG = (
    "glue:BatchCreatePartition",
    "glue:BatchDeletePartition",
    "glue:BatchDeleteTable",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:CreateTable",
    "glue:DeletePartition",
    "glue:DeleteTable",
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
    "glue:UpdatePartition",
    "glue:UpdateTable",
)
S3_BUCKET_READ = ("s3:GetBucketLocation", "s3:ListBucket")
S3_BUCKET_RESULTS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
S3_OBJECT_READ = ("s3:GetObject",)
S3_OBJECT_WRITE = ("s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject")
DATABREW_SYNC = (
    "databrew:DescribeJobRun",
    "databrew:ListJobRuns",
    "databrew:StartJobRun",
    "databrew:StopJobRun",
)

_S3_URI = re.compile(r"s3://([^/'\"\s]+)(/[^'\"\s]*)?")
_LOCATION = re.compile(r"\bLOCATION\s+'(s3://[^']+)'", re.I)
_EXTERNAL = re.compile(r"\bexternal_location\s*=\s*'(s3://[^']+)'", re.I)
_QUALIFIED = re.compile(
    r"\b(?:FROM|JOIN|TABLE|EXISTS|INTO)\s+[`\"]?([A-Za-z_][A-Za-z0-9_]*)[`\"]?\s*\.\s*[`\"]?[A-Za-z_][A-Za-z0-9_]*",
    re.I,
)


@dataclass
class _Resolved:
    """A name resolved from a state's parameter: ``text`` may hold ``*`` where input was unknown."""

    text: str
    pattern: bool = False
    from_params: bool = False


class PolicyStatement(TypedDict):
    """One ``Allow`` statement of the generated policy."""

    Sid: str
    Effect: str
    Action: list[str]
    Resource: list[str]


class PolicyDocument(TypedDict):
    """An IAM policy document (``Version`` 2012-10-17)."""

    Version: str
    Statement: list[PolicyStatement]


@dataclass
class IamPolicy:
    """The policy document plus notes for the user."""

    document: PolicyDocument
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """Deterministic JSON text with a trailing newline."""
        return json.dumps(self.document, indent=2, sort_keys=True) + "\n"


class _Resolver:
    def __init__(self, region: str, account: str, params: Mapping[str, object]) -> None:
        self.region, self.account, self.params = region, account, params

    def _arg(self, arg: str, state: _Resolved) -> str:
        if arg == REGION_EXPR:
            return self.region
        if arg == ACCOUNT_EXPR:
            return self.account
        if arg.startswith("$."):
            value = self.params.get(arg[2:])
            if value is not None and value != "":
                state.from_params = True
                return str(value)
        state.pattern = True
        return "*"

    def value(self, parameters: dict[str, Any], key: str, default: str | None = None) -> _Resolved | None:
        """Resolve ``key`` (or ``key.$``) of a Parameters dict."""
        if key in parameters:
            return _Resolved(str(parameters[key]))
        expression = parameters.get(key + ".$")
        if expression is None:
            return _Resolved(default) if default is not None else None
        out = _Resolved("")
        if expression.startswith("States.Format("):
            args = _split_args(expression[len("States.Format(") : -1])
            if isinstance(args, str) or not args:
                out.pattern, out.text = True, "*"
                return out
            template = args[0][1:-1]
            pieces = re.split(r"(?<!\\)\{\}", template)
            text = pieces[0]
            for piece, arg in zip(pieces[1:], args[1:], strict=False):
                text += self._arg(arg, out) + piece
            out.text = re.sub(r"\\(.)", lambda m: m.group(1), text)
            return out
        out.text = self._arg(expression, out)
        return out


class _Statements:
    def __init__(self) -> None:
        self.by_sid: dict[str, tuple[set[str], set[str]]] = {}

    def add(self, sid: str, actions: tuple[str, ...], resources: list[_Resolved | str]) -> None:
        texts = [r.text if isinstance(r, _Resolved) else r for r in resources]
        if any(isinstance(r, _Resolved) and r.pattern for r in resources):
            sid += "FromInputPattern"
        elif any(isinstance(r, _Resolved) and r.from_params for r in resources):
            sid += "FromParamValues"
        acts, res = self.by_sid.setdefault(sid, (set(), set()))
        acts.update(actions)
        res.update(texts)

    def document(self) -> PolicyDocument:
        statements: list[PolicyStatement] = []
        for sid in sorted(self.by_sid):
            actions, resources = self.by_sid[sid]
            statements.append(
                {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)}
            )
        return {"Version": "2012-10-17", "Statement": statements}


def _derived(base: _Resolved, text: str) -> _Resolved:
    return _Resolved(text, pattern=base.pattern, from_params=base.from_params)


def build_iam_policy(
    machine: StateMachine, *, region: str, account: str, params: Mapping[str, object] | None = None
) -> IamPolicy:
    """The execution role's least-privilege policy.

    :param machine: the compiled state machine.
    :param region: AWS region for the ARNs (literal, e.g. ``eu-west-1``).
    :param account: AWS account id for the ARNs.
    :param params: values for names read from the execution input (default: the DAG's param defaults).
    """
    if not region or not account:
        raise AslCompileError(
            "The IAM policy needs a region and an account id for its ARNs (--region, --account)."
        )
    values = dict(machine.param_defaults)
    values.update(params or {})
    return _policy(machine.tasks(), region=region, account=account, values=values)


def _policy(tasks: list[Task], *, region: str, account: str, values: Mapping[str, object]) -> IamPolicy:
    resolver = _Resolver(region, account, values)
    out = _Statements()
    notes: list[str] = []
    for task in tasks:
        _task_statements(task, resolver, out, notes, region, account)
    return IamPolicy(document=out.document(), notes=notes)


def _definition_tasks(graph: dict[str, Any]) -> list[Task]:
    tasks: list[Task] = []
    for name in sorted(graph.get("States", {})):
        state = graph["States"][name]
        if state.get("Type") == "Task":
            tasks.append(
                Task(name=name, resource=state.get("Resource", ""), parameters=state.get("Parameters") or {})
            )
        for branch in state.get("Branches", []) or []:
            tasks.extend(_definition_tasks(branch))
    return tasks


def build_iam_policy_from_definition(
    definition: dict[str, Any], *, region: str, account: str, params: Mapping[str, object] | None = None
) -> IamPolicy:
    """The execution role's least-privilege policy for an ASL definition (e.g. a committed file).

    Same rules as :func:`build_iam_policy`; names read from the execution input are resolved with
    ``params`` (the values the executions will get), else they become ``*`` patterns.

    :param definition: the ASL definition as a dict.
    :param region: AWS region for the ARNs.
    :param account: AWS account id for the ARNs.
    :param params: values of the execution input fields the definition reads.
    """
    if not region or not account:
        raise AslCompileError(
            "The IAM policy needs a region and an account id for its ARNs (--region, --account)."
        )
    return _policy(_definition_tasks(definition), region=region, account=account, values=dict(params or {}))


def _task_statements(
    task: Task, r: _Resolver, out: _Statements, notes: list[str], region: str, account: str
) -> None:
    resource, params = task.resource, task.parameters
    sync = resource.endswith(".sync")
    base = resource.removesuffix(".sync")
    prefix = f"{region}:{account}"
    if base == "arn:aws:states:::glue:startJobRun":
        job = r.value(params, "JobName")
        assert job is not None
        arn = _derived(job, f"arn:aws:glue:{prefix}:job/{job.text}")
        out.add(
            "GlueJobRunSync" if sync else "GlueJobRunStart",
            GLUE_JOB_SYNC if sync else ("glue:StartJobRun",),
            [arn],
        )
    elif base == "arn:aws:states:::databrew:startJobRun":
        job = r.value(params, "Name")
        assert job is not None
        arn = _derived(job, f"arn:aws:databrew:{prefix}:job/{job.text}")
        actions = DATABREW_SYNC if sync else ("databrew:StartJobRun",)
        out.add("DataBrewJobRunSync" if sync else "DataBrewJobRunStart", actions, [arn])
    elif base == "arn:aws:states:::sns:publish":
        topic = r.value(params, "TopicArn")
        assert topic is not None
        out.add("SnsPublish", ("sns:Publish",), [topic])
    elif resource in (
        "arn:aws:states:::aws-sdk:glue:startCrawler",
        "arn:aws:states:::aws-sdk:glue:getCrawler",
    ):
        name = r.value(params, "Name")
        assert name is not None
        action = "glue:StartCrawler" if resource.endswith("startCrawler") else "glue:GetCrawler"
        out.add("GlueCrawler", (action,), [_derived(name, f"arn:aws:glue:{prefix}:crawler/{name.text}")])
    elif base == "arn:aws:states:::athena:startQueryExecution":
        _athena(task, r, out, notes, prefix, sync)
    elif resource == "arn:aws:states:::lambda:invoke":
        function = r.value(params, "FunctionName")
        assert function is not None
        arn = function if function.text.startswith("arn:") else _derived(
            function, f"arn:aws:lambda:{prefix}:function:{function.text}"
        )
        out.add("LambdaInvoke", ("lambda:InvokeFunction",), [arn, _derived(arn, f"{arn.text}:*")])
    else:
        raise AslCompileError(
            f"State '{task.name}': no IAM mapping for resource {resource!r}; the policy cannot be derived."
        )


def _athena(task: Task, r: _Resolver, out: _Statements, notes: list[str], prefix: str, sync: bool) -> None:
    params = task.parameters
    workgroup = r.value(params, "WorkGroup", "primary")
    assert workgroup is not None
    out.add(
        "AthenaQuerySync" if sync else "AthenaQueryStart",
        ATHENA_SYNC if sync else ATHENA_START,
        [_derived(workgroup, f"arn:aws:athena:{prefix}:workgroup/{workgroup.text}")],
    )
    context = params.get("QueryExecutionContext") or {}
    database = r.value(context, "Database", "default")
    query = r.value(params, "QueryString")
    sql = query.text if query else ""
    databases: list[_Resolved] = [database] if database else []
    databases += [_Resolved(db) for db in sorted(set(_QUALIFIED.findall(sql)))]
    catalog_resources: list[_Resolved | str] = [f"arn:aws:glue:{prefix}:catalog"]
    for db in databases:
        catalog_resources.append(_derived(db, f"arn:aws:glue:{prefix}:database/{db.text}"))
        catalog_resources.append(_derived(db, f"arn:aws:glue:{prefix}:table/{db.text}/*"))
    out.add("AthenaGlueCatalog", ATHENA_CATALOG, catalog_resources)
    result = r.value(params.get("ResultConfiguration") or {}, "OutputLocation")
    if result is not None:
        _bucket(out, "AthenaQueryResults", result, S3_BUCKET_RESULTS, S3_OBJECT_WRITE)
    else:
        notes.append(
            f"State '{task.name}': no OutputLocation, so Athena writes to the workgroup's result location; "
            "grant the role s3:GetBucketLocation/ListBucket/GetObject/PutObject on that bucket."
        )
    if query is not None:
        for uri in sorted(set(_LOCATION.findall(sql))):
            _bucket(out, "AthenaTableData", _derived(query, uri), S3_BUCKET_READ, S3_OBJECT_READ)
        for uri in sorted(set(_EXTERNAL.findall(sql))):
            _bucket(out, "AthenaCtasOutput", _derived(query, uri), S3_BUCKET_RESULTS, S3_OBJECT_WRITE)


def _bucket(
    out: _Statements,
    sid: str,
    uri: _Resolved,
    bucket_actions: tuple[str, ...],
    object_actions: tuple[str, ...],
) -> None:
    match = _S3_URI.match(uri.text)
    if not match:
        return
    bucket, key = match.group(1), (match.group(2) or "/").lstrip("/")
    out.add(
        sid + "Bucket", bucket_actions, [_Resolved(f"arn:aws:s3:::{bucket}", "*" in bucket, uri.from_params)]
    )
    objects = _Resolved(f"arn:aws:s3:::{bucket}/{key}*", "*" in bucket + key, uri.from_params)
    out.add(sid + "Objects", object_actions, [objects])


def render_iam_policy(
    machine: StateMachine, *, region: str, account: str, params: Mapping[str, object] | None = None
) -> str:
    """The policy document as deterministic JSON text."""
    return build_iam_policy(machine, region=region, account=account, params=params).to_json()
