"""MkDocs hook: render the Sphinx roles of the docstrings (``:class:`~a.b.C``` -> ``C``) as plain code spans.

The docstrings are written for both Sphinx-style readers and ``help()``; mkdocstrings renders their double
backticks as code but leaves a role's ``:class:`` prefix as text. Registered in ``mkdocs.yml`` (``hooks``).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):(<code>)(~)?([^<]*)(</code>)")


def _replace(match: re.Match[str]) -> str:
    opening, tilde, target, closing = match.groups()
    return f"{opening}{target.rsplit('.', 1)[-1] if tilde else target}{closing}"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_replace, html)
