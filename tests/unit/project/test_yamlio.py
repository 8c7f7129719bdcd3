"""YAML loading: anchors and merge keys work; bombs, deep nesting, huge and non-UTF-8
files are refused with one clear problem naming the file (and line where there is one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.errors import ProjectError
from keel.project import yamlio
from keel.project.loader import load_project
from keel.project.yamlio import LDict, load_yaml


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "f.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_anchors_and_merge_keys_follow_yaml_merge_semantics(tmp_path: Path) -> None:
    # YAML 1.1 merge key type: explicit keys win over merged ones; with a list of
    # mappings, the first mapping listed wins.
    path = _write(
        tmp_path,
        "x-common: &common\n"
        "  data_type: varchar\n"
        "  description: shared\n"
        "x-other: &other\n"
        "  description: other\n"
        "  quote: true\n"
        "cols:\n"
        "  - <<: *common\n"
        "    name: a\n"
        "    description: own\n"
        "  - <<: [*common, *other]\n"
        "    name: b\n"
        "  - *common\n",
    )
    data, problems = load_yaml(path, "contracts/f.yml")
    assert problems == []
    a, b, c = data["cols"]
    assert a == {"data_type": "varchar", "description": "own", "name": "a"}
    assert b == {"data_type": "varchar", "description": "shared", "quote": True, "name": "b"}
    assert c == {"data_type": "varchar", "description": "shared"}
    assert isinstance(a, LDict) and a.line_of("name") == 9


def test_an_explicit_duplicate_key_is_still_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: &x {k: 1}\nb:\n  <<: *x\n  n: 1\n  n: 2\n")
    _, problems = load_yaml(path, "f.yml")
    assert [p.render() for p in problems] == ["f.yml:5: invalid YAML: duplicate key 'n'"]


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    # nine levels of ten aliases: 10**9 values once expanded, under 1 KB of text
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 3 * 1024
    data, problems = load_yaml(path, "keel.yml")
    assert data is None
    (problem,) = problems
    assert problem.file == "keel.yml"
    assert "alias bomb" in problem.message and "500,000" in problem.message


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: &a\n  - *a\n")
    _, problems = load_yaml(path, "f.yml")
    assert len(problems) == 1 and "refers to itself" in problems[0].message


def test_deep_nesting_is_a_clear_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    _, problems = load_yaml(path, "contracts/deep.yml")
    (problem,) = problems
    assert problem.file == "contracts/deep.yml"
    assert "nested" in problem.message


def test_moderate_nesting_within_the_limit_loads(tmp_path: Path) -> None:
    depth = yamlio.MAX_DEPTH - 1
    path = _write(tmp_path, "a: " + "[" * depth + "]" * depth + "\n")
    data, problems = load_yaml(path, "f.yml")
    assert problems == [] and isinstance(data["a"], list)


def test_non_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b"version: 2\nsources:\n  - name: caf\xe9\n")
    _, problems = load_yaml(path, "contracts/latin1.yml")
    assert [p.render().split(" (")[0] for p in problems] == [
        "contracts/latin1.yml:3: the file is not UTF-8 text"
    ]
    assert "0xe9" in problems[0].message


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f"])
def test_a_control_character_is_named_with_its_line(tmp_path: Path, char: str) -> None:
    """PyYAML refuses non-printable characters when its reader is built (ReaderError),
    before any parsing: a stray NUL in a contract was an "internal error" (issue 11)."""
    path = _write(tmp_path, f"version: 2\nsources:\n  - name: a{char}b\n".encode())
    _, problems = load_yaml(path, "contracts/nul.yml")
    assert [p.render().split(" (")[0] for p in problems] == [
        f"contracts/nul.yml:3: the file holds the control character U+{ord(char):04X}, "
        "which YAML does not allow"
    ]


def test_a_file_over_the_size_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlio, "MAX_FILE_BYTES", 1000)
    path = _write(tmp_path, "a: " + "x" * 2000 + "\n")
    _, problems = load_yaml(path, "f.yml")
    assert len(problems) == 1
    assert "2,004 bytes, over keel's limit of 1,000" in problems[0].message


def test_the_bomb_in_keel_yml_fails_the_project_naming_the_file(project: Path) -> None:
    text = (project / "keel.yml").read_text()
    bomb = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        bomb.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (project / "keel.yml").write_text("\n".join(bomb) + "\n" + text)
    with pytest.raises(ProjectError) as info:
        load_project(project)
    (problem,) = info.value.problems
    assert problem.file == "keel.yml" and "alias bomb" in problem.message
