"""The CLI shell: global flags anywhere, help, version, the one error format."""

import json

from sequence_core import __version__


def test_help_lists_commands_by_level(sequence):
    r = sequence("--help")
    assert r.returncode == 0
    assert "Level 0 — Connect" in r.stdout and "Meta" in r.stdout
    for cmd in ("login", "connect", "disconnect", "venues", "plugins", "update"):
        assert f"  {cmd}" in r.stdout


def test_every_listed_command_says_what_it_does(sequence):
    listing = sequence("--help").stdout.splitlines()
    blank = [line.split()[0] for line in listing if line.startswith("  ") and not line.startswith("   ")
             and len(line.split()) == 1]
    assert blank == []                                  # buy and sell once had no help line
    assert "Buy QTY of SYMBOL" in sequence("buy", "--help").stdout


def test_short_help_flag_on_subcommand(sequence):
    r = sequence("connect", "-h")
    assert r.returncode == 0
    assert "--sandbox" in r.stdout and "--output" in r.stdout and "--from-file" in r.stdout


def test_version_short_and_long_anywhere(sequence):
    for args in (["-V"], ["--version"], ["venues", "-V"]):
        r = sequence(*args)
        assert r.returncode == 0 and r.stdout.strip() == f"sequence {__version__}"


def test_sandbox_before_or_after_the_subcommand(sequence):
    before = sequence("--sandbox", "venues", "--output", "json")
    after = sequence("venues", "--sandbox", "--output", "json")
    assert before.returncode == after.returncode == 0
    for r in (before, after):
        rows = json.loads(r.stdout)
        assert [row["mode"] for row in rows] == ["paper"]


def test_without_sandbox_no_paper_venues(sequence):
    r = sequence("--output", "json", "venues")
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_usage_error_is_error_line_and_exit_1(sequence):
    r = sequence("connect")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: Missing argument 'VENUE'")
    assert "\x1b[" not in r.stderr  # no colour when stderr is not a terminal


def test_bad_choice_for_output(sequence):
    r = sequence("venues", "--output", "yaml")
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and "'text'" in r.stderr


def test_unknown_command_suggests(sequence):
    r = sequence("venue")
    assert r.returncode == 1
    assert "unknown command 'venue'" in r.stderr and "venues" in r.stderr


def test_unknown_option(sequence):
    r = sequence("venues", "--frobnicate")
    assert r.returncode == 1 and "No such option" in r.stderr and r.stderr.startswith("Error: ")


def test_no_subcommand_prints_help(sequence):
    r = sequence()
    assert r.returncode == 0 and "Usage: sequence" in r.stdout
