"""An intrinsic function in a ``.$`` field is parsed from the JSON string's value, as AWS does.

What moto (5.2.5) does wrong: ``Preprocessor.visitString_intrinsic_function``
(``asl/parse/preprocessor.py``) hands the intrinsic parser the raw JSON text of the string
(``ctx.STRINGINTRINSICFUNC().getText()[1:-1]``), JSON escapes included. ``\\'`` written in the
definition as ``\\\\'`` (the JSON form) reaches the intrinsic parser doubled, so the literal ends
at the quote and the rest is lost (``States.Format('it\\'s {}', $.x)`` gives ``it\\\\``), and a
``\\n`` stays a backslash and an ``n``.

What the patch changes: the token is decoded with ``json.loads`` before the intrinsic parser reads
it.

Upstream: ``json.loads(ctx.STRINGINTRINSICFUNC().getText())`` in place of the slice, in moto's
``stepfunctions/parser`` (and in LocalStack, where the parser comes from).
"""

from __future__ import annotations

import json
from typing import Any

from .support import SFN_PARSER, MotoChanged, moto_attr, once


@once
def apply() -> None:
    module, preprocessor = moto_attr(f"{SFN_PARSER}.asl.parse.preprocessor", "Preprocessor")
    intrinsic_parser = moto_attr(f"{SFN_PARSER}.asl.parse.intrinsic.intrinsic_parser", "IntrinsicParser")[1]
    string_intrinsic = moto_attr(f"{SFN_PARSER}.asl.component.common.string.string_expression",
                                 "StringIntrinsicFunction")[1]
    if not hasattr(preprocessor, "visitString_intrinsic_function"):
        raise MotoChanged(f"sandbox moto patch: {module.__name__}.Preprocessor has no "
                          "visitString_intrinsic_function; this moto version is not supported")

    def visitString_intrinsic_function(self: Any, ctx: Any) -> Any:  # noqa: N802 (moto's name)
        derivation = json.loads(ctx.STRINGINTRINSICFUNC().getText())
        function, _ = intrinsic_parser.parse(derivation)
        return string_intrinsic(intrinsic_function_derivation=derivation, function=function)

    preprocessor.visitString_intrinsic_function = visitString_intrinsic_function
