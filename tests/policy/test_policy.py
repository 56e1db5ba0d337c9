"""Policy loading: validation, problems with lines, did-you-mean, keys and equality."""

from pathlib import Path

import pytest

from maskme import Policy
from maskme.errors import KeyMissingError, PolicyError
from maskme.policy.keys import load_keys
from maskme.policy.model import KeySource, load_policy
from maskme.policy.paths import parse_field_path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_policy_yaml_and_code_equal(tmp_path):
    path = write(
        tmp_path,
        "version: 1\ndefault: keep\nkeys:\n  main: {env: MASKME_KEY}\nfields:\n"
        "  ssn: {strategy: drop}\n",
    )
    from_file = Policy.from_yaml(path)
    in_code = Policy(
        default="keep", keys={"main": {"env": "MASKME_KEY"}}, fields={"ssn": {"strategy": "drop"}}
    )
    from_dict = Policy.from_dict(
        {"version": 1, "default": "keep", "keys": {"main": {"env": "MASKME_KEY"}},
         "fields": {"ssn": {"strategy": "drop"}}}
    )
    assert from_file == in_code
    assert from_dict == in_code
    assert from_file.fields["ssn"].strategy == "drop"
    assert from_file.fields["ssn"].line == 6


def test_policy_reports_every_problem_with_lines(tmp_path):
    path = write(
        tmp_path,
        "version: 1\n"
        "default: keep\n"
        "feilds: {}\n"
        "fields:\n"
        "  a: {strategy: dorp}\n"
        "  b: {strategy: drop, extra: 1}\n"
        "  c: {}\n",
    )
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(path)
    problems = caught.value.problems
    assert len(problems) == 4
    text = str(caught.value)
    assert "invalid policy: 4 problems" in text
    assert f"{path}:3 (feilds): unknown key 'feilds' (did you mean 'fields'?)" in text
    assert f"{path}:5 (fields.a.strategy): unknown strategy 'dorp' (did you mean 'drop'?)" in text
    assert f"{path}:6 (fields.b.extra): unknown parameter 'extra'" in text
    assert f"{path}:7 (fields.c): expected {{strategy: name" in text


def test_policy_requires_default_and_version(tmp_path):
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(write(tmp_path, "fields: {}\n"))
    text = str(caught.value)
    assert "missing 'version'" in text
    assert "missing 'default'" in text


def test_policy_rejects_duplicate_keys(tmp_path):
    with pytest.raises(PolicyError, match="duplicate key 'ssn'"):
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nfields:\n  ssn: drop\n  ssn: keep\n"))


def test_policy_invalid_yaml_has_line(tmp_path):
    with pytest.raises(PolicyError, match=r"policy.yaml:3: invalid YAML"):
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nfields: [unclosed\n"))


def test_policy_key_literal_rejected(tmp_path):
    with pytest.raises(PolicyError, match="never the key itself"):
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nkeys:\n  main: s3cr3t\n"))


def test_policy_key_error_does_not_echo_secret(tmp_path):
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nkeys:\n  main: hunter2-secret\n"))
    assert "hunter2" not in str(caught.value)


def test_policy_missing_file():
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(Path("/nonexistent/policy.yaml"))


def test_keys_from_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_MASKME_KEY", "from-env")
    (tmp_path / "k.key").write_bytes(b"from-file\n")
    keys = load_keys(
        {"a": KeySource(name="a", env="TEST_MASKME_KEY"), "b": KeySource(name="b", file="k.key")},
        ["a", "b"],
        base_dir=tmp_path,
        policy_source=None,
    )
    assert keys == {"a": b"from-env", "b": b"from-file"}


def test_keys_missing_reports_all(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_MASKME_KEY", raising=False)
    with pytest.raises(KeyMissingError) as caught:
        load_keys(
            {"a": KeySource(name="a", env="NO_SUCH_MASKME_KEY"), "b": KeySource(name="b", file="none.key")},
            ["a", "b"],
            base_dir=tmp_path,
            policy_source=None,
        )
    text = str(caught.value)
    assert "NO_SUCH_MASKME_KEY is not set" in text
    assert "cannot read key file" in text


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("email", [("email", False)]),
        ("customer.email", [("customer", False), ("email", False)]),
        ("orders[*].card_number", [("orders", True), ("card_number", False)]),
        ("orders[].card_number", [("orders", True), ("card_number", False)]),
        ("tags[*]", [("tags", True)]),
    ],
)
def test_parse_field_path(text, segments):
    path = parse_field_path(text)
    assert [(s.key, s.each_element) for s in path.segments] == segments


@pytest.mark.parametrize("text", ["", "a..b", "a[0].b", "a[*"])
def test_parse_field_path_invalid(text):
    with pytest.raises(ValueError):
        parse_field_path(text)


def test_policy_alias_bomb_rejected(tmp_path):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        levels.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    text = "version: 1\ndefault: keep\nextra:\n" + "\n".join("  " + line for line in levels) + "\n"
    with pytest.raises(PolicyError, match="YAML aliases"):
        Policy.from_yaml(write(tmp_path, text))


def test_policy_self_alias_rejected(tmp_path):
    with pytest.raises(PolicyError, match="YAML aliases"):
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nx: &a [*a]\n"))


def test_policy_messages_explain_yaml_types(tmp_path):
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(write(tmp_path, 'version: "1"\ndefault: yes\nfields:\n  a: {strategy: redact, keep_separators: 5}\n'))
    text = str(caught.value)
    assert "must be the number 1, not the text '1'" in text
    assert "YAML reads yes, no, on and off as booleans" in text
    assert "keep_separators.bool" not in text
    assert text.count("keep_separators") == 2  # the path and one merged message


def test_policy_undefined_key_without_keys(tmp_path):
    with pytest.raises(PolicyError, match=r"key 'main' is not defined under 'keys' \(no keys are defined\)"):
        Policy.from_yaml(write(tmp_path, "version: 1\ndefault: keep\nfields:\n  a: {strategy: hash, key: main}\n"))


def test_keys_file_must_be_small_regular_file(tmp_path):
    (tmp_path / "big.key").write_bytes(b"x" * 70_000)
    (tmp_path / "folder.key").mkdir()
    with pytest.raises(KeyMissingError) as caught:
        load_keys(
            {
                "big": KeySource(name="big", file="big.key"),
                "folder": KeySource(name="folder", file="folder.key"),
                "device": KeySource(name="device", file="/dev/zero"),
            },
            ["big", "folder", "device"],
            base_dir=tmp_path,
            policy_source=None,
        )
    text = str(caught.value)
    assert "larger than 65,536 bytes" in text
    assert "folder.key is not a regular file" in text
    assert "/dev/zero is not a regular file" in text


def test_keys_file_crlf_stripped(tmp_path):
    (tmp_path / "k.key").write_bytes(b"secret\r\n")
    keys = load_keys({"a": KeySource(name="a", file="k.key")}, ["a"], base_dir=tmp_path, policy_source=None)
    assert keys == {"a": b"secret"}


def test_keys_of_only_whitespace_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_MASKME_SPACES", " \t ")
    (tmp_path / "k.key").write_bytes(b"  \n")
    with pytest.raises(KeyMissingError) as caught:
        load_keys(
            {"a": KeySource(name="a", env="TEST_MASKME_SPACES"), "b": KeySource(name="b", file="k.key")},
            ["a", "b"],
            base_dir=tmp_path,
            policy_source=None,
        )
    text = str(caught.value)
    assert "TEST_MASKME_SPACES is not set or empty (or only whitespace)" in text
    assert "k.key is empty (or only whitespace)" in text


def test_keys_with_inner_spaces_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_MASKME_KEY", " two words ")
    keys = load_keys({"a": KeySource(name="a", env="TEST_MASKME_KEY")}, ["a"],
                     base_dir=tmp_path, policy_source=None)
    assert keys == {"a": b" two words "}


def test_policy_nested_too_deeply(tmp_path):
    text = "version: 1\ndefault: keep\nx: " + "[" * 2000 + "]" * 2000 + "\n"
    with pytest.raises(PolicyError, match="nested too deeply"):
        Policy.from_yaml(write(tmp_path, text))
