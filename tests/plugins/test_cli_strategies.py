"""``maskme strategies`` lists built-in and plugin strategies, as a table and as JSON."""

import json
import os
import subprocess
import sys
import textwrap

PLUGIN = '''
from typing import Literal
from pydantic import Field
from maskme import Strategy, StrategyParams

class InitialsParams(StrategyParams):
    """Params of initials."""
    letters: int = Field(default=1, ge=1, le=3)
    case: Literal["upper", "lower"] = "upper"

class Initials(Strategy):
    """Keep the first letters of a name.

    Notes
    -----
    A test double.
    """
    name = "initials"
    Params = InitialsParams
    deterministic = True

    def apply(self, values, batch):
        return values.str.slice(0, self.params.letters)
'''


def run_maskme(*arguments: str, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    if pythonpath:
        environment["PYTHONPATH"] = pythonpath
    environment["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "maskme", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def fake_plugin(folder):
    dist_info = folder / "initials_plugin-2.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: initials-plugin\nVersion: 2.3\n")
    (dist_info / "entry_points.txt").write_text(
        "[maskme.strategies]\ninitials = initials_plugin:Initials\n"
    )
    (folder / "initials_plugin.py").write_text(textwrap.dedent(PLUGIN))
    return str(folder)


def test_strategies_json_lists_builtin_drop():
    completed = run_maskme("strategies", "--json")
    assert completed.returncode == 0, completed.stderr
    entries = {entry["name"]: entry for entry in json.loads(completed.stdout)}
    assert entries["drop"]["source"] == "maskme"
    assert entries["drop"]["builtin"] is True
    assert entries["drop"]["properties"]["removes_field"] is True
    assert entries["drop"]["parameters"] == []


def test_strategies_json_includes_plugin(tmp_path):
    completed = run_maskme("strategies", "--json", pythonpath=fake_plugin(tmp_path))
    assert completed.returncode == 0, completed.stderr
    entries = {entry["name"]: entry for entry in json.loads(completed.stdout)}
    initials = entries["initials"]
    assert initials["source"] == "initials-plugin 2.3"
    assert initials["builtin"] is False
    assert initials["summary"] == "Keep the first letters of a name."
    assert initials["parameters"] == [
        {
            "name": "letters",
            "type": "integer >= 1, <= 3",
            "required": False,
            "default": 1,
            "description": None,
        },
        {
            "name": "case",
            "type": '"upper" | "lower"',
            "required": False,
            "default": "upper",
            "description": None,
        },
    ]
    assert initials["properties"]["deterministic"] is True
    assert initials["properties"]["two_pass"] is False


def test_strategies_table(tmp_path):
    completed = run_maskme("strategies", pythonpath=fake_plugin(tmp_path))
    assert completed.returncode == 0, completed.stderr
    rows = [line for line in completed.stdout.splitlines() if "initials" in line]
    assert "initials-plugin 2.3" in rows[0]
    assert 'letters: integer >= 1, <= 3 = 1' in completed.stdout
    assert 'case: "upper" | "lower" = "upper"' in completed.stdout
    assert "drop" in completed.stdout
    assert "removes field" in completed.stdout


def broken_plugin(folder):
    dist_info = folder / "broken_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[maskme.strategies]\nbroken = broken_plugin_missing:Broken\n"
    )
    return str(folder)


def test_strategies_warns_about_broken_plugin(tmp_path):
    completed = run_maskme("strategies", "--json", pythonpath=broken_plugin(tmp_path))
    assert completed.returncode == 0, completed.stderr
    names = [entry["name"] for entry in json.loads(completed.stdout)]
    assert "broken" not in names
    assert "drop" in names
    assert "strategy 'broken' from broken-plugin 0.1 failed to load" in completed.stderr


def test_mask_names_broken_plugin(tmp_path):
    pythonpath = broken_plugin(tmp_path)
    (tmp_path / "in.csv").write_text("id,name\n1,Ana\n")
    (tmp_path / "policy.yaml").write_text(
        "version: 1\ndefault: keep\nfields:\n  name: {strategy: broken}\n"
    )
    completed = run_maskme(
        "mask", str(tmp_path / "in.csv"), "-p", str(tmp_path / "policy.yaml"), "-q",
        pythonpath=pythonpath,
    )
    # A strategy that cannot load is a policy problem: exit 2, with the policy line.
    assert completed.returncode == 2
    assert "policy.yaml:4 (fields.name.strategy)" in completed.stderr
    assert "broken-plugin 0.1 failed to load" in completed.stderr
    assert "reinstall or fix that package" in completed.stderr
    assert completed.stdout == ""
