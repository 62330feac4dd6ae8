"""A griffe extension for the API reference: docstrings written for Sphinx, for mkdocs.

The docstrings are written for reading in an editor and with ``help()``, in the Google
style as Sphinx's napoleon reads it. mkdocstrings renders them as Markdown, with two
differences this extension smooths over:

* Sphinx's roles (:class:`~e2estream.Segment`, :meth:`push`) would show literally: each
  becomes inline code with the name as it would be shown (the last part after a ``~``);
* griffe knows the section "Examples:" but not napoleon's singular "Example:", whose
  ``>>>`` lines it would then read as Markdown (``['He']`` as a link).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|data|exc|mod|obj|const):`(~?)([^`]+)`")
_EXAMPLE_SECTION = re.compile(r"^([ \t]*)Example:[ \t]*$", re.MULTILINE)


def _as_code(match: re.Match[str]) -> str:
    shorten, target = match[1], match[2]
    return f"`{target.rsplit('.', 1)[-1] if shorten else target}`"


class RstRolesAsCode(griffe.Extension):
    """Rewrite reST roles as inline code and "Example:" sections as "Examples:"."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring when griffe has loaded it."""
        if obj.docstring is not None:
            text = _ROLE.sub(_as_code, obj.docstring.value)
            obj.docstring.value = _EXAMPLE_SECTION.sub(r"\1Examples:", text)
