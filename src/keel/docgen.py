"""Generate docs/cli.md from the CLI itself: ``python -m keel.docgen > docs/cli.md``.

A test compares the file with this output, so a command or option added
without regenerating the reference fails the build.
"""

from __future__ import annotations

import sys

import click


def _params(command: click.Command) -> list[str]:
    lines = []
    for p in command.params:
        if isinstance(p, click.Argument):
            lines.append(
                f"| `{p.human_readable_name}` | argument{'' if p.required else ', optional'} | |"
            )
        elif isinstance(p, click.Option) and not p.hidden:
            names = ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
            default = ""
            if p.show_default and p.default not in (None, False, ()):
                default = f" (default: `{p.default}`)"
            help_text = (p.help or "").replace("|", "\\|")
            kind = "flag" if p.is_flag else (p.metavar or p.type.name.upper())
            lines.append(f"| {names} | {kind} | {help_text}{default} |")
    return lines


def _walk(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        full = f"{prefix} {name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_walk(cmd, full))
    return out


def render() -> str:
    from keel.cli import main

    lines = [
        "# CLI reference",
        "",
        "Generated from the CLI itself (`python -m keel.docgen > docs/cli.md`); a test fails",
        "when this file and the CLI disagree. Every command takes `--project DIR` and `--json`,",
        "exits 0 on success and 1 on error or violation; `keel --debug COMMAND` shows tracebacks.",
        "",
    ]
    for full, cmd in _walk(main, "keel"):
        lines += [f"## `{full}`", "", (cmd.help or "").strip(), ""]
        usage = " ".join(cmd.collect_usage_pieces(click.Context(cmd)))
        lines += ["```", f"{full} {usage}".rstrip(), "```", ""]
        params = _params(cmd)
        if params:
            lines += ["| option | kind | meaning |", "|---|---|---|", *params, ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
