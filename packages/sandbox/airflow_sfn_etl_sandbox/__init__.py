"""A local AWS for the demo and the tests: moto's control plane plus real effects.

Reached only through its endpoint URL; provider code never imports this package.
"""

from __future__ import annotations

from .server import Sandbox

__all__ = ["Sandbox"]
