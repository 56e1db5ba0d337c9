"""Every code block of docs/extending.md works as the page describes.

The Python blocks run in order in one namespace, as a reader would paste
them, and the contract test classes they define are run too. The YAML
policies must load once those blocks have registered their strategies, and
the TOML block must declare the entry points the page describes.
"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

import maskme
from maskme.testing import StrategyContract, isolated_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text()) if lang == language]


@pytest.fixture(scope="module")
def doc_namespace():
    """Run every Python block of the page; yield the namespace they built."""
    namespace: dict[str, object] = {"__name__": "docs_extending"}
    with isolated_registry():
        for number, body in enumerate(blocks("python"), start=1):
            code = compile(body, f"{DOC.name}, Python block {number}", "exec")
            exec(code, namespace)  # noqa: S102  (the page's own examples)
        yield namespace


def test_page_has_python_blocks():
    assert len(blocks("python")) >= 8


def test_python_blocks_run(doc_namespace):
    assert doc_namespace["masked"]["postcode"].to_list() == ["SW1A", "EC1A", None, "M1"]


def test_contract_classes_pass(doc_namespace):
    classes = [
        value
        for value in doc_namespace.values()
        if isinstance(value, type) and issubclass(value, StrategyContract) and value is not StrategyContract
    ]
    assert [cls.__name__ for cls in classes] == ["TestPostcodeDistrict"]
    ran = 0
    for cls in classes:
        instance = cls()
        for name in sorted(dir(cls)):
            if not name.startswith("test_"):
                continue
            try:
                getattr(instance, name)()
            except pytest.skip.Exception:
                continue
            ran += 1
    assert ran >= 6


def test_yaml_policies_load(doc_namespace):
    policies = blocks("yaml")
    assert policies
    for text in policies:
        policy = maskme.load_policy(yaml.safe_load(text))
        assert policy is not None


def test_toml_declares_entry_points():
    (text,) = blocks("toml")
    declared = tomllib.loads(text)["project"]["entry-points"]["maskme.strategies"]
    assert declared == {
        "postcode_district": "acme_maskme_strategies.postcode:PostcodeDistrict",
        "rare_values": "acme_maskme_strategies.rare:RareValues",
    }
