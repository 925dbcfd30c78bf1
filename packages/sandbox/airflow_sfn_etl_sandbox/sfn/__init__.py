"""Step Functions service integrations for moto's interpreter, and the patches that install them.

moto (5.2.x) runs executions with an ASL interpreter ported from LocalStack. This package gives
it what the sandbox's flows need and moto lacks: ``.sync`` for Glue job runs that does not crash,
Athena and DataBrew integrations, JSON-safe task results, AWS-style error names, and stopping
the AWS run of a ``.sync`` task when its execution is aborted. :func:`install` wires it in.
"""

from __future__ import annotations

from .patches import install

__all__ = ["install"]
