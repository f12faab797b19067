"""`python -m core` itself: usage, help, the commands it lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import cli
from tests.cli.conftest import run
from tests.conftest import ROOT


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    result = run({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}, "--help", cwd=tmp_path)

    assert result.returncode == 0
    assert "exit codes:" in result.stdout
    for command in ("check", "validate"):
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}, cwd=tmp_path)

    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_every_command_has_a_parser_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert list(commands) == ["check", "validate", "import", "jobs", "runs", "worker"]
    with pytest.raises(SystemExit) as done:
        cli.main(["import", "--help"])
    assert done.value.code == 0
    assert "--dry-run" in capsys.readouterr().out


def test_dry_run_cannot_be_combined_with_sync_or_wait(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["import", "--csv", "x.csv", "--dry-run", "--sync"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
