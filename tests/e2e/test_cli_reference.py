"""docs/cli.md is generated from the CLI; it must be current and every option must have help."""

from conftest import REPO
from pluralign.clidocs import missing_help, render


def test_every_command_and_option_has_help():
    assert missing_help() == []


def test_cli_reference_is_current():
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: python -m pluralign.clidocs > docs/cli.md"
