"""MkDocs hook: the reST of the docstrings as a reader expects it on the site.

The docstrings are written for Sphinx-style readers and ``help()``; mkdocstrings renders their double backticks
as code but leaves a role's prefix as text and a literal block's ``::`` as two colons. This hook renders
``:class:`~a.b.C``` as the code span ``C`` and a paragraph ending in ``::`` with one colon. Registered in
``mkdocs.yml`` (``hooks``).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):(<code>)(~)?([^<]*)(</code>)")


def _replace(match: re.Match[str]) -> str:
    opening, tilde, target, closing = match.groups()
    return f"{opening}{target.rsplit('.', 1)[-1] if tilde else target}{closing}"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_replace, html).replace("::</p>", ":</p>")
