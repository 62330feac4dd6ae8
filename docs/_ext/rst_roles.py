"""A griffe extension for the API reference: the docstrings' reST roles as code.

The docstrings are written for reading in an editor and with ``help()``, and use
Sphinx's roles (:class:`~e2estream.Segment`, :meth:`push`). mkdocstrings renders
Markdown, where such a role would show literally; this turns each into inline code
with the name as it would be shown (the last part after a ``~``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|data|exc|mod|obj|const):`(~?)([^`]+)`")


def _as_code(match: re.Match[str]) -> str:
    shorten, target = match[1], match[2]
    return f"`{target.rsplit('.', 1)[-1] if shorten else target}`"


class RstRolesAsCode(griffe.Extension):
    """Rewrite reST roles in every docstring as Markdown inline code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring when griffe has loaded it."""
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)
