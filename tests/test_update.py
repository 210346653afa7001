"""`sequence update`: plans and applies pip upgrades of sequence-* distributions."""

import json
import shutil
import subprocess
import sys
import sysconfig

import pytest

from conftest import TEST_PLUGINS, clean_env, pip_install_target


def _acme_wheel(tmp_path, version: str):
    src, out = tmp_path / f"acme-src-{version}", tmp_path / f"wheels-{version}"
    if out.exists():
        return out
    shutil.copytree(TEST_PLUGINS / "sequence-venue-acme", src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    toml = src / "pyproject.toml"
    toml.write_text(toml.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(src)], check=True, capture_output=True)
    return out


def _pip_env(**kw):
    # Ignore the machine's pip.conf so only the test's index settings apply.
    return {"PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": "", **kw}


@pytest.fixture
def acme_010(tmp_path, sequence):
    """acme 0.1.0 installed by name (not from a checkout) into a PYTHONPATH folder."""
    target = tmp_path / "site"
    pip_install_target(target, "sequence-venue-acme", extra=["--find-links", str(_acme_wheel(tmp_path, "0.1.0"))])
    sequence.pythonpath.append(str(target))
    return sequence


def test_dry_run_shows_upgrade_and_skips_checkouts(acme_010, tmp_path):
    newer = _acme_wheel(tmp_path, "0.2.0")
    r = acme_010("update", "--dry-run", "--output", "json", env=_pip_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(newer)))
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["upgrades"] == [{"name": "sequence-venue-acme", "installed": "0.1.0", "available": "0.2.0"}]
    assert plan["applied"] is False
    skipped = {s["name"]: s["reason"] for s in plan["skipped"]}
    assert "local checkout" in skipped["sequence-markets"]


def test_up_to_date(acme_010, tmp_path):
    same = _acme_wheel(tmp_path, "0.1.0")
    r = acme_010("update", "--dry-run", env=_pip_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(same)))
    assert r.returncode == 0 and "Everything is up to date." in r.stdout


def test_no_index_reachable_is_a_clear_error(acme_010):
    r = acme_010("update", "--dry-run", env=_pip_env(PIP_INDEX_URL="http://127.0.0.1:9/simple"), timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: no package index reachable")


@pytest.mark.slow
def test_update_applies_and_preserves_config(tmp_path):
    """In a throwaway venv layered over this one: acme 0.1.0 -> 0.2.0, config untouched."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    child_site = next((venv / "lib").glob("python3*/site-packages"))
    (child_site / "parent.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    py = venv / "bin" / "python"
    old, new = _acme_wheel(tmp_path, "0.1.0"), _acme_wheel(tmp_path, "0.2.0")
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(old), "sequence-venue-acme"], check=True)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[auth]\napi_key = "seq_test_keepme1234"\n')
    env = clean_env(home, _pip_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(new)))
    r = subprocess.run([str(py), "-m", "sequence_cli.main", "update"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "Upgraded 1 distribution(s)" in r.stdout
    shown = subprocess.run([str(py), "-m", "pip", "show", "sequence-venue-acme"], capture_output=True, text=True).stdout
    assert "Version: 0.2.0" in shown
    assert (home / "config.toml").read_text() == '[auth]\napi_key = "seq_test_keepme1234"\n'


def test_dry_run_with_every_distribution_skipped_says_nothing_was_checked(sequence):
    """The checkout's distributions are all editable installs: no index is consulted."""
    r = sequence("update", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "Nothing was checked" in r.stdout and "up to date" not in r.stdout
    assert "local checkout" in r.stdout
    plan = json.loads(sequence("update", "--dry-run", "--output", "json").stdout)
    assert plan["checked"] == [] and plan["upgrades"] == []
