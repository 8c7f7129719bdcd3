"""The docs tell the truth about the CLI: docs/cli.md is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import click

from keel.cli import main
from keel.docgen import render

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/cli.md is stale: run `uv run python -m keel.docgen > docs/cli.md`"
    )


def test_every_command_and_option_is_documented() -> None:
    text = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        assert cmd is not None
        assert f"## `keel {name}`" in text
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert any(f"`{o}`" in text for o in param.opts), (name, param.opts)


def test_readme_names_only_commands_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ctx = click.Context(main)
    known = set(main.list_commands(ctx))
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    used = {m for b in blocks for m in re.findall(r"^keel ([a-z]+)", b, flags=re.MULTILINE)}
    assert used and used <= known, used - known
