"""The TOML parser: the standard library's ``tomllib`` (Python 3.11+), else its backport
``tomli`` (a dependency on 3.10 only), under the one name the toolkit uses."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["tomllib"]
