"""Least-privilege IAM policy for a compiled state machine's execution role.

Per Task state, the actions AWS documents for that service integration, on the ARNs the state
names: Glue jobs and crawlers, DataBrew jobs, Athena workgroups (plus the Glue catalog
databases and the S3 buckets the query and its results touch) and SNS topics. No ``*`` action.

Names that come from the execution input are resolved with the given param values (the DAG's
param defaults unless overridden); a name that cannot be resolved becomes a ``*`` name pattern
and its statement's Sid ends in ``FromInputPattern``. Glue, Athena and DataBrew ``.sync`` poll
their service, so AWS documents no EventBridge managed rule (``events:*Rule``) for them.

An Athena statement reads the S3 data of the tables it queries (parsed from the SQL with sqlglot):
the policy grants ``glue:GetTable``/``GetPartitions`` on those tables and, when a boto3 Glue client
is given (a deploy gives one), ``s3:GetObject`` on each table's location prefix and ``s3:ListBucket``
on its bucket, looked up in the catalog; tables it cannot resolve are named in a note.
A Map state's item processor is granted once per item, with the item's values.

Nested executions (``states:startExecution``) get ``states:StartExecution`` on the child machine; their
``.sync`` forms also ``states:DescribeExecution``/``StopExecution`` on the child's executions and
``events:PutTargets``/``PutRule``/``DescribeRule`` on the managed rule
``StepFunctionsGetEventsForStepFunctionsExecutionRule``, as AWS documents. SQS messages are granted
``sqs:SendMessage`` on the queue (its ARN from the queue URL); S3 aws-sdk calls the object actions on
the objects they name (``s3:PutObjectAcl`` too when the call sets an ACL, ``s3:GetObjectVersion`` for a
versioned copy source, ``s3:DeleteObject`` per deleted key). A machine with logging on gets the
CloudWatch Logs delivery actions AWS lists for Step Functions logging, on ``*`` resources (those
actions have no resource-level permissions). When an Athena client is given, the workgroups whose
results are encrypted with a KMS key (``SSE_KMS``/``CSE_KMS``) get ``kms:Decrypt``/``GenerateDataKey``
on that key, looked up in the workgroup's configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from airflow_sfn_etl.asl import mapping
from airflow_sfn_etl.asl.context import ACCOUNT_EXPR, REGION_EXPR
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.ir import Graph, Map, Parallel, StateMachine, Task
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
GLUE_TABLE_READ = ("glue:GetPartitions", "glue:GetTable")
S3_OBJECT_WRITE = ("s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject")
DATABREW_SYNC = (
    "databrew:DescribeJobRun",
    "databrew:ListJobRuns",
    "databrew:StartJobRun",
    "databrew:StopJobRun",
)

NESTED_SYNC = ("states:DescribeExecution", "states:StopExecution")
NESTED_EVENTS = ("events:DescribeRule", "events:PutRule", "events:PutTargets")
NESTED_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
#: What AWS lists for a state machine that logs to CloudWatch Logs (no resource-level permissions).
LOGS_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:CreateLogStream",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutLogEvents",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)
KMS_RESULTS = ("kms:Decrypt", "kms:GenerateDataKey")

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
    def __init__(
        self, region: str, account: str, params: Mapping[str, object], athena: Any = None
    ) -> None:
        self.region, self.account, self.params = region, account, params
        #: A boto3 Athena client, to look up workgroups' result encryption (None: not looked up).
        self.athena = athena
        #: Tables the machine's Athena statements create with a location: (database, table) -> location.
        self.created: dict[tuple[str, str], str] = {}

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
    machine: StateMachine,
    *,
    region: str,
    account: str,
    params: Mapping[str, object] | None = None,
    glue: Any = None,
    athena: Any = None,
    logging: bool = False,
) -> IamPolicy:
    """The execution role's least-privilege policy.

    :param machine: the compiled state machine.
    :param region: AWS region for the ARNs (literal, e.g. ``eu-west-1``).
    :param account: AWS account id for the ARNs.
    :param params: values for names read from the execution input (default: the DAG's param defaults).
    :param glue: a boto3 Glue client: the S3 locations of the tables Athena statements read are looked up
        in the catalog (without it, a note names the tables whose data the role is not granted).
    :param athena: a boto3 Athena client: the KMS key of a workgroup that encrypts its results is looked
        up (without it, a note names the workgroups).
    :param logging: the machine logs to CloudWatch Logs (its ``loggingConfiguration`` level is not OFF).
    """
    if not region or not account:
        raise AslCompileError(
            "The IAM policy needs a region and an account id for its ARNs (--region, --account)."
        )
    values = dict(machine.param_defaults)
    values.update(params or {})
    return _policy(
        _ir_tasks(machine.graph), region=region, account=account, values=values, glue=glue, athena=athena,
        logging=logging,
    )


def _policy(
    tasks: list[Task],
    *,
    region: str,
    account: str,
    values: Mapping[str, object],
    glue: Any = None,
    athena: Any = None,
    logging: bool = False,
) -> IamPolicy:
    resolver = _Resolver(region, account, values, athena)
    for task in tasks:
        if task.resource.removesuffix(".sync") == "arn:aws:states:::athena:startQueryExecution":
            query = resolver.value(task.parameters, "QueryString")
            database = resolver.value(task.parameters.get("QueryExecutionContext") or {}, "Database", "default")
            if query is not None and database is not None and not database.pattern:
                resolver.created.update(tables_created(query.text, database.text))
    out = _Statements()
    notes: list[str] = []
    for task in tasks:
        _task_statements(task, resolver, out, notes, region, account, glue)
    if logging:
        out.add("CloudWatchLogsDelivery", LOGS_DELIVERY, ["*"])
    return IamPolicy(document=out.document(), notes=list(dict.fromkeys(notes)))  # a Map's items: once each


def _ir_tasks(graph: Graph) -> list[Task]:
    """Every Task state, depth first; a Map's item processor once per item (its Parameters bound to it)."""
    tasks: list[Task] = []
    for state in graph.states:
        if isinstance(state, Map):
            tasks.extend(mapping.item_tasks(state))
        elif isinstance(state, Parallel):
            for branch in state.branches:
                tasks.extend(_ir_tasks(branch))
        elif isinstance(state, Task):
            tasks.append(state)
    return tasks


def _definition_tasks(graph: dict[str, Any]) -> list[Task]:
    tasks: list[Task] = []
    states = graph.get("States", {})
    for name in sorted(states):
        state = states[name]
        if state.get("Type") == "Task":
            tasks.append(
                Task(name=name, resource=state.get("Resource", ""), parameters=state.get("Parameters") or {})
            )
        for branch in state.get("Branches", []) or []:
            tasks.extend(_definition_tasks(branch))
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if state.get("Type") == "Map" and isinstance(processor, dict):
            # The items a Pass state of the same graph writes where the Map reads them (as compiled).
            items = next(
                (
                    s["Result"]
                    for s in states.values()
                    if s.get("Type") == "Pass"
                    and s.get("ResultPath") == state.get("ItemsPath", "$")
                    and isinstance(s.get("Result"), list)
                ),
                None,
            )
            inner = _definition_tasks(processor)
            for item in items or [None]:
                for task in inner:
                    bound = mapping.bind_item(task.parameters, item) if item is not None else task.parameters
                    tasks.append(Task(name=task.name, resource=task.resource, parameters=bound))
    return tasks


def build_iam_policy_from_definition(
    definition: dict[str, Any],
    *,
    region: str,
    account: str,
    params: Mapping[str, object] | None = None,
    glue: Any = None,
    athena: Any = None,
    logging: bool = False,
) -> IamPolicy:
    """The execution role's least-privilege policy for an ASL definition (e.g. a committed file).

    Same rules as :func:`build_iam_policy`; names read from the execution input are resolved with
    ``params`` (the values the executions will get), else they become ``*`` patterns.

    :param definition: the ASL definition as a dict.
    :param region: AWS region for the ARNs.
    :param account: AWS account id for the ARNs.
    :param params: values of the execution input fields the definition reads.
    :param glue: a boto3 Glue client, as for :func:`build_iam_policy`.
    :param athena: a boto3 Athena client, as for :func:`build_iam_policy`.
    :param logging: the machine logs to CloudWatch Logs.
    """
    if not region or not account:
        raise AslCompileError(
            "The IAM policy needs a region and an account id for its ARNs (--region, --account)."
        )
    return _policy(
        _definition_tasks(definition), region=region, account=account, values=dict(params or {}), glue=glue,
        athena=athena, logging=logging,
    )


def _task_statements(
    task: Task, r: _Resolver, out: _Statements, notes: list[str], region: str, account: str, glue: Any = None
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
        _athena(task, r, out, notes, prefix, sync, glue)
    elif resource == "arn:aws:states:::lambda:invoke":
        function = r.value(params, "FunctionName")
        assert function is not None
        arn = function if function.text.startswith("arn:") else _derived(
            function, f"arn:aws:lambda:{prefix}:function:{function.text}"
        )
        out.add("LambdaInvoke", ("lambda:InvokeFunction",), [arn, _derived(arn, f"{arn.text}:*")])
    elif resource.startswith("arn:aws:states:::states:startExecution"):
        _nested(task, r, out, prefix)
    elif base == "arn:aws:states:::sqs:sendMessage":
        queue = r.value(params, "QueueUrl")
        assert queue is not None
        out.add("SqsSendMessage", ("sqs:SendMessage",), [_queue_arn(queue, region, account)])
    elif resource.startswith("arn:aws:states:::aws-sdk:s3:"):
        _s3_sdk(task, r, out, notes, prefix)
    else:
        raise AslCompileError(
            f"State '{task.name}': no IAM mapping for resource {resource!r}; the policy cannot be derived."
        )


def _nested(task: Task, r: _Resolver, out: _Statements, prefix: str) -> None:
    """``states:startExecution[.sync[:2]]``: start the child; for .sync watch its executions through the
    EventBridge managed rule."""
    machine = r.value(task.parameters, "StateMachineArn")
    assert machine is not None
    out.add("StatesStartExecution", ("states:StartExecution",), [machine])
    if ".sync" not in task.resource:
        return
    match = re.match(r"^arn:aws:states:([^:]*):([^:]*):stateMachine:([^:]+)", machine.text)
    executions = (
        _derived(machine, f"arn:aws:states:{match.group(1)}:{match.group(2)}:execution:{match.group(3)}:*")
        if match
        else _Resolved(f"arn:aws:states:{prefix}:execution:*", pattern=True)
    )
    out.add("StatesNestedExecutionSync", NESTED_SYNC, [executions])
    out.add("StatesNestedExecutionEvents", NESTED_EVENTS, [f"arn:aws:events:{prefix}:rule/{NESTED_RULE}"])


def _queue_arn(queue: _Resolved, region: str, account: str) -> _Resolved:
    """The ARN of an SQS queue from its URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``)."""
    match = re.match(r"^[a-z]+://([^/]*)/([^/]+)/([^/?]+)/?$", queue.text)
    if not match:
        return _Resolved(f"arn:aws:sqs:{region}:{account}:*", pattern=True)
    host, queue_account, name = match.groups()
    host_region = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.", host)
    queue_region = host_region.group(1) if host_region else region
    return _derived(queue, f"arn:aws:sqs:{queue_region}:{queue_account}:{name}")


def _s3_object(bucket: _Resolved, key: _Resolved) -> _Resolved:
    text = f"arn:aws:s3:::{bucket.text}/{key.text}"
    return _Resolved(text, bucket.pattern or key.pattern, bucket.from_params or key.from_params)


def _s3_sdk(task: Task, r: _Resolver, out: _Statements, notes: list[str], prefix: str) -> None:
    """``aws-sdk:s3:putObject/copyObject/deleteObjects``: the object actions on the objects named."""
    action = task.resource.rsplit(":", 1)[-1]
    params = task.parameters
    bucket = r.value(params, "Bucket")
    assert bucket is not None
    acl = ("s3:PutObjectAcl",) if ("ACL" in params or "ACL.$" in params) else ()
    if action == "putObject":
        key = r.value(params, "Key")
        assert key is not None
        out.add("S3PutObject", ("s3:PutObject", *acl), [_s3_object(bucket, key)])
    elif action == "copyObject":
        key = r.value(params, "Key")
        source = r.value(params, "CopySource")
        assert key is not None and source is not None
        from urllib.parse import unquote

        text, _, query = source.text.partition("?")
        src_bucket, _, src_key = unquote(text).lstrip("/").partition("/")
        read = ("s3:GetObject", "s3:GetObjectVersion") if "versionId=" in query else ("s3:GetObject",)
        out.add("S3CopySource", read, [_derived(source, f"arn:aws:s3:::{src_bucket}/{src_key}")])
        out.add("S3CopyDestination", ("s3:PutObject", *acl), [_s3_object(bucket, key)])
        kms = r.value(params, "SSEKMSKeyId")
        if kms is not None:
            out.add("S3CopyDestinationKms", KMS_RESULTS, [_kms_key_arn(kms, prefix)])
    elif action == "deleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        keys = [r.value(o, "Key") for o in objects if isinstance(o, dict)]
        out.add("S3DeleteObjects", ("s3:DeleteObject",), [_s3_object(bucket, k) for k in keys if k is not None])
    else:
        raise AslCompileError(
            f"State '{task.name}': no IAM mapping for resource {task.resource!r}; the policy cannot be derived."
        )


def _kms_key_arn(key: _Resolved, prefix: str) -> _Resolved:
    """A KMS key ARN from a key ARN, key id or alias name."""
    if key.text.startswith("arn:"):
        return key
    if key.text.startswith("alias/"):
        return _derived(key, f"arn:aws:kms:{prefix}:{key.text}")
    return _derived(key, f"arn:aws:kms:{prefix}:key/{key.text}")


def _athena(
    task: Task, r: _Resolver, out: _Statements, notes: list[str], prefix: str, sync: bool, glue: Any = None
) -> None:
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
    _workgroup_kms(task, workgroup, r, out, notes, prefix)
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
        if database is not None:
            _table_data(task, query, database, r, out, notes, prefix, glue)


def _workgroup_kms(
    task: Task, workgroup: _Resolved, r: _Resolver, out: _Statements, notes: list[str], prefix: str
) -> None:
    """KMS use on the key that encrypts the workgroup's query results (SSE_KMS / CSE_KMS), looked up in
    the workgroup's configuration; without an Athena client, a note."""
    if r.athena is None:
        notes.append(
            f"State '{task.name}': no Athena client was given to look up whether workgroup {workgroup.text} "
            "encrypts its results with a KMS key; if it does, grant the role kms:Decrypt/GenerateDataKey on it."
        )
        return
    if workgroup.pattern:
        notes.append(
            f"State '{task.name}': the workgroup comes from the execution input without a value; if it encrypts "
            "its results with a KMS key, grant the role kms:Decrypt/GenerateDataKey on it."
        )
        return
    from botocore.exceptions import ClientError

    try:
        found = r.athena.get_work_group(WorkGroup=workgroup.text)["WorkGroup"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        notes.append(
            f"State '{task.name}': looking up workgroup {workgroup.text} failed with {code}; if it encrypts its "
            "results with a KMS key, grant the role kms:Decrypt/GenerateDataKey on it."
        )
        return
    encryption = (
        ((found.get("Configuration") or {}).get("ResultConfiguration") or {}).get("EncryptionConfiguration") or {}
    )
    if encryption.get("EncryptionOption") in ("SSE_KMS", "CSE_KMS") and encryption.get("KmsKey"):
        key = _derived(workgroup, str(encryption["KmsKey"]))
        out.add("AthenaResultsKms", KMS_RESULTS, [_kms_key_arn(key, prefix)])


def _parse(sql: str) -> list[Any] | None:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return [st for st in sqlglot.parse(sql, read="athena") if st is not None]
    except SqlglotError:
        return None


def tables_read(sql: str, default_database: str) -> list[tuple[str, str]] | None:
    """The ``(database, table)`` pairs a statement reads (CTE names and the created/inserted table left
    out), parsed with sqlglot's Athena dialect; None when the text does not parse."""
    from sqlglot import exp

    statements = _parse(sql)
    if statements is None:
        return None
    found: set[tuple[str, str]] = set()
    for statement in statements:
        if isinstance(statement, (exp.Drop, exp.Alter)):
            continue  # they change the catalog, not read the data
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        targets = {id(t) for t in [_target(statement)] if t is not None}
        for table in statement.find_all(exp.Table):
            if id(table) in targets or not table.name:
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            found.add(((table.db or default_database).lower(), table.name.lower()))
    return sorted(found)


def _target(statement: Any) -> Any:
    """The table a CREATE or INSERT statement writes, if any."""
    from sqlglot import exp

    if not isinstance(statement, (exp.Create, exp.Insert)):
        return None
    target = statement.this
    target = target.this if isinstance(target, exp.Schema) else target
    return target if isinstance(target, exp.Table) else None


def tables_created(sql: str, default_database: str) -> dict[tuple[str, str], str]:
    """``(database, table) -> S3 location`` of the tables a statement creates with a ``LOCATION`` or a
    CTAS ``external_location``."""
    from sqlglot import exp

    out: dict[tuple[str, str], str] = {}
    for statement in _parse(sql) or []:
        table = _target(statement)
        if table is None or not isinstance(statement, exp.Create):
            continue
        location = None
        for prop in statement.find_all(exp.Property):
            if isinstance(prop, exp.LocationProperty):
                location = prop.this.name
            elif prop.name.lower() == "external_location" and prop.args.get("value") is not None:
                location = prop.args["value"].name
        if location:
            out[((table.db or default_database).lower(), table.name.lower())] = location
    return out


def _table_data(
    task: Task,
    query: _Resolved,
    database: _Resolved,
    r: _Resolver,
    out: _Statements,
    notes: list[str],
    prefix: str,
    glue: Any,
) -> None:
    """S3 read on the data of the tables the statement reads (from the Glue catalog), and GetTable/
    GetPartitions on those tables; without a Glue client, a note names them."""
    if database.pattern:
        notes.append(
            f"State '{task.name}': the database comes from the execution input without a value, so the "
            "tables the query reads are unknown; grant the role s3:GetObject/ListBucket on their data."
        )
        return
    tables = tables_read(query.text, database.text)
    tables = [t for t in tables or () if "*" not in "".join(t)] if tables is not None else None
    if tables is None:
        notes.append(
            f"State '{task.name}': the query does not parse, so the tables it reads are unknown; grant the "
            "role s3:GetObject/ListBucket on their data."
        )
        return
    if not tables:
        return
    out.add(
        "AthenaTablesRead",
        GLUE_TABLE_READ,
        [f"arn:aws:glue:{prefix}:catalog"]
        + [_derived(database, f"arn:aws:glue:{prefix}:database/{db}") for db, _ in tables]
        + [_derived(database, f"arn:aws:glue:{prefix}:table/{db}/{name}") for db, name in tables],
    )
    unresolved: dict[str, list[str]] = {}
    for db, name in tables:
        if (db, name) in r.created:
            continue  # created by the machine: its LOCATION / external_location is granted where it is created
        if glue is None:
            location, why = None, "no Glue client was given to look up their locations"
        else:
            location, why = _table_location(glue, db, name)
        if location:
            uri = _derived(database, location.rstrip("/") + "/")
            _bucket(out, "AthenaTableData", uri, S3_BUCKET_READ, S3_OBJECT_READ)
        else:
            unresolved.setdefault(why, []).append(f"{db}.{name}")
    for why, names in unresolved.items():
        notes.append(
            f"State '{task.name}': reads {', '.join(names)}, whose S3 data is not granted ({why}); grant "
            "the role s3:GetObject on their location prefix and s3:ListBucket on its bucket."
        )


def _table_location(glue: Any, database: str, table: str) -> tuple[str | None, str]:
    """The table's S3 location in the Glue catalog, else None and why."""
    from botocore.exceptions import ClientError

    try:
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "EntityNotFoundException":  # e.g. a table another statement creates first
            return None, "the Glue catalog has no such table"
        return None, f"the Glue catalog lookup failed with {code}"
    location = (found.get("StorageDescriptor") or {}).get("Location")
    if location and str(location).startswith("s3://"):
        return str(location), ""
    return None, "the Glue catalog has no S3 location for them"


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
