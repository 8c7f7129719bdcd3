"""``${VAR}`` and ``${VAR:-default}`` in keel.yml and contracts, read from the environment.

Kept apart from the YAML reader so that a compiled project can read a secret's
variable again (:class:`keel.project.models.Secret`) without importing yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class EnvText(str):
    """Text that had variables substituted; ``template`` is how it was written."""

    template: str


def substitute_text(
    text: str, env: Mapping[str, str], on_missing: Callable[[str], None] | None = None
) -> str:
    """``text`` with its variables replaced; an unset one without a default is ``""``
    (and reported to ``on_missing``)."""

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is None:
            if on_missing is not None:
                on_missing(name)
            return ""
        return default

    out = EnvText(VAR.sub(repl, text))
    out.template = text
    return out
