"""Sequence.toml [risk]: limits no order could ever meet fail preflight's risk check with why
(docs/deployments.md); sensible ones still pass."""

import json

import pytest

from test_deployments import project   # the fixture: a `sequence init` project running QUOTER

__all__ = ["project"]


def risk_check(project) -> dict:
    r = project("preflight", "--output", "json")
    return next(c for c in json.loads(r.stdout) if c["name"] == "risk")


@pytest.mark.parametrize("old,new,why", [
    ("max_notional = 1000 ", "max_notional = -5 ", "max_notional = -5 must be above 0 (every order would be over it)"),
    ("max_order_rate = 20 ", "max_order_rate = 0 ", "max_order_rate = 0 must be above 0 (no order could be sent)"),
    ("max_notional = 1000 ", "max_notional = nan ", "max_notional = nan must be above 0"),
    ("capital = 1000 ", "capital = -1 ", "capital = -1 must be 0 or more"),
])
def test_a_limit_no_order_can_meet_fails_preflight(project, old, new, why):
    project.edit(lambda t: t.replace(old, new))
    check = risk_check(project)
    assert not check["ok"] and why in check["detail"] and "[risk] of Sequence.toml" in check["detail"]


def test_only_impossible_limits_fail_and_every_one_is_named(project):
    assert risk_check(project)["ok"]
    project.edit(lambda t: t.replace("max_position = 1 ", "max_position = -1 ").replace("max_notional = 1000 ", "max_notional = 0 "))
    check = risk_check(project)
    assert not check["ok"]
    assert "max_position = -1 must be above 0 (the strategy could hold nothing)" in check["detail"]
    assert "max_notional = 0 must be above 0" in check["detail"]
