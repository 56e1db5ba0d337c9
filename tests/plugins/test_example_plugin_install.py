"""The example plugin package, pip-installed into a fresh virtualenv and used through the CLI.

The virtualenv is created without pip, and a ``.pth`` file adds the
project's own site-packages to its path. MaskMe, pip, setuptools and wheel
therefore come from the environment running the tests, and nothing is
downloaded. The
plugin is copied to the temporary folder first, because building it writes
``build/`` and ``*.egg-info`` next to its sources.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "plugins" / "maskme-example-strategies"

INPUT_CSV = """\
id,nhs_no,ethnicity
1,943 476 5919,White
2,401-023-2137,Asian
3,,White
4,9434765919,Mixed
5,485 777 3457,Asian
6,943 476 5919,White
"""

POLICY = """\
version: 1
default: keep
fields:
  nhs_no: {strategy: nhs_number, keep_last: 4}
  ethnicity: {strategy: rare_category, min_count: 2, other: Other}
"""

EXPECTED_CSV = """\
id,nhs_no,ethnicity
1,*** *** 5919,White
2,*** *** 2137,Asian
3,,White
4,*** *** 5919,Other
5,*** *** 3457,Asian
6,*** *** 5919,White
"""


def run(
    command: list[str], cwd: Path, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["PIP_NO_CACHE_DIR"] = "1"
    environment["PIP_NO_INPUT"] = "1"
    return subprocess.run(
        command,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> tuple[Path, Path]:
    """Return (python of a virtualenv with the example plugin installed, a work folder)."""
    root = tmp_path_factory.mktemp("plugin_env")
    venv = root / "venv"
    created = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"

    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root
    )
    assert purelib.returncode == 0, purelib.stderr
    project_site = sysconfig.get_paths()["purelib"]
    # addsitedir (unlike a plain path line) also runs the project's .pth files,
    # which is how the editable MaskMe install becomes importable.
    (Path(purelib.stdout.strip()) / "maskme_project.pth").write_text(
        f"import site; site.addsitedir({project_site!r})\n"
    )

    source = root / "maskme-example-strategies"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    installed = run(
        [
            str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation",
            "--no-deps", "--no-cache-dir", "--quiet", str(source),
        ],
        cwd=root,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    work = root / "work"
    work.mkdir()
    (work / "patients.csv").write_text(INPUT_CSV)
    (work / "policy.yaml").write_text(POLICY)
    return python, work


def test_plugin_installed_into_venv(plugin_env):
    python, work = plugin_env
    pip_show = run([str(python), "-m", "pip", "show", "maskme-example-strategies"], cwd=work)
    assert pip_show.returncode == 0, pip_show.stderr
    assert "Version: 0.1.0" in pip_show.stdout
    # The plugin is not importable from the environment running the tests.
    assert run([sys.executable, "-c", "import maskme_example_strategies"], cwd=work).returncode == 1


def test_strategies_lists_plugin(plugin_env):
    python, work = plugin_env
    completed = run([str(python), "-m", "maskme", "strategies", "--json"], cwd=work)
    assert completed.returncode == 0, completed.stderr
    entries = {entry["name"]: entry for entry in json.loads(completed.stdout)}
    assert entries["nhs_number"]["source"] == "maskme-example-strategies 0.1.0"
    assert entries["rare_category"]["source"] == "maskme-example-strategies 0.1.0"
    assert entries["rare_category"]["properties"]["two_pass"] is True
    assert entries["nhs_number"]["properties"]["two_pass"] is False
    parameters = {p["name"]: p for p in entries["rare_category"]["parameters"]}
    assert parameters["min_count"]["default"] == 10
    assert parameters["min_count"]["type"] == "integer >= 1"
    assert entries["drop"]["source"] == "maskme"


def test_strategies_table_shows_plugin(plugin_env):
    python, work = plugin_env
    completed = run([str(python), "-m", "maskme", "strategies"], cwd=work)
    assert completed.returncode == 0, completed.stderr
    assert "nhs_number" in completed.stdout
    assert "rare_category" in completed.stdout
    assert "two-pass" in completed.stdout


@pytest.mark.parametrize("batch_size", ["1", "65536"])
def test_mask_with_plugin_strategies(plugin_env, batch_size):
    python, work = plugin_env
    output = work / f"masked_{batch_size}.csv"
    completed = run(
        [
            str(python), "-m", "maskme", "mask", "patients.csv", "--policy", "policy.yaml",
            "--output", str(output), "--batch-size", batch_size, "--quiet",
        ],
        cwd=work,
    )
    assert completed.returncode == 0, completed.stderr
    # "Asian" has one record in each batch of 1 but two overall, so rare_category
    # keeps it only because it counted the whole input in its first pass.
    assert output.read_text() == EXPECTED_CSV


def test_mask_to_stdout(plugin_env):
    python, work = plugin_env
    completed = run(
        [
            str(python), "-m", "maskme", "mask", "patients.csv", "-p", "policy.yaml",
            "--batch-size", "2", "-q",
        ],
        cwd=work,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == EXPECTED_CSV


def test_mask_two_pass_from_stdin(plugin_env):
    # Standard input can be read only once, yet rare_category needs two passes.
    python, work = plugin_env
    completed = run(
        [str(python), "-m", "maskme", "mask", "-", "-p", "policy.yaml", "-f", "csv", "-q"],
        cwd=work,
        stdin=INPUT_CSV,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == EXPECTED_CSV


def test_mask_invalid_value_names_record(plugin_env):
    python, work = plugin_env
    secret = "943 476 5918"  # wrong check digit
    (work / "bad.csv").write_text(f"id,nhs_no,ethnicity\n1,943 476 5919,White\n2,{secret},White\n")
    output = work / "bad_out.csv"
    completed = run(
        [
            str(python), "-m", "maskme", "mask", "bad.csv", "-p", "policy.yaml",
            "-o", str(output), "-q",
        ],
        cwd=work,
    )
    assert completed.returncode == 1
    assert "record 2" in completed.stderr
    assert "nhs_no" in completed.stderr
    assert "not a valid NHS number" in completed.stderr
    assert secret not in completed.stderr
    assert "4765918" not in completed.stderr
    assert not output.exists()


def test_mask_unknown_strategy_suggests_plugin(plugin_env):
    python, work = plugin_env
    (work / "typo.yaml").write_text(POLICY.replace("rare_category", "rare_categroy"))
    completed = run(
        [str(python), "-m", "maskme", "mask", "patients.csv", "-p", "typo.yaml", "-q"], cwd=work
    )
    assert completed.returncode == 2
    assert "unknown strategy 'rare_categroy'" in completed.stderr
    assert "did you mean 'rare_category'" in completed.stderr


def test_mask_plugin_params_validated_on_load(plugin_env):
    python, work = plugin_env
    (work / "bad_params.yaml").write_text(POLICY.replace("keep_last: 4", "keep_last: 9"))
    completed = run(
        [str(python), "-m", "maskme", "mask", "patients.csv", "-p", "bad_params.yaml", "-q"],
        cwd=work,
    )
    assert completed.returncode == 2
    assert "keep_last" in completed.stderr
    assert "less than or equal to 4" in completed.stderr
    assert completed.stdout == ""


def test_plugin_from_python_api(plugin_env):
    python, work = plugin_env
    script = (
        "import polars as pl, maskme\n"
        "frame = pl.DataFrame({'code': ['a', 'b', 'a', None, 'c', 'a']})\n"
        "policy = {'version': 1, 'default': 'keep',\n"
        "          'fields': {'code': {'strategy': 'rare_category', 'min_count': 2}}}\n"
        "print(maskme.mask(frame, policy)['code'].to_list())\n"
    )
    completed = run([str(python), "-c", script], cwd=work)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['a', 'other', 'a', None, 'other', 'a']"


def test_plugin_own_tests_pass(plugin_env, tmp_path):
    python, _ = plugin_env
    tests = tmp_path / "plugin_tests"
    shutil.copytree(EXAMPLE / "tests", tests / "tests")
    shutil.copy(EXAMPLE / "pyproject.toml", tests / "pyproject.toml")
    completed = run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tests
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout
    assert "failed" not in completed.stdout
