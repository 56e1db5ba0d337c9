"""Load the secrets a policy names, from the environment or from key files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from maskme.errors import KeyMissingError, PolicyProblem
from maskme.policy.model import KeySource

__all__ = ["MAX_KEY_FILE_BYTES", "load_keys"]

#: Largest key file read; a bigger file (or a device such as /dev/zero) is not a key.
MAX_KEY_FILE_BYTES = 64 * 1024


def load_keys(
    sources: Mapping[str, KeySource],
    names: Iterable[str],
    *,
    base_dir: Path,
    policy_source: str | None,
    lines: Mapping[str, int | None] | None = None,
) -> dict[str, bytes]:
    """Return the key bytes for each requested name, or raise listing every missing key.

    An environment variable's value is encoded as UTF-8. A key file is read as
    bytes, with one trailing newline (LF or CRLF) removed, so a file written by
    ``echo`` works. An empty key, or one of only whitespace, counts as missing.
    """
    keys: dict[str, bytes] = {}
    problems: list[PolicyProblem] = []
    for name in sorted(set(names)):
        source = sources[name]
        line = (lines or {}).get(name)

        def missing(message: str, name: str = name, line: int | None = line) -> None:
            problems.append(
                PolicyProblem(message=message, path=f"keys.{name}", line=line, source=policy_source)
            )

        if source.env is not None:
            value = os.environ.get(source.env)
            if not value or value.isspace():
                missing(
                    f"key '{name}' is missing: environment variable {source.env} is not set "
                    "or empty (or only whitespace); set it to the secret key"
                )
                continue
            # The variable's bytes as the environment stores them: UTF-8 text, or
            # other bytes (kept by Python as surrogate escapes) as they are.
            keys[name] = os.fsencode(value)
        else:
            path = Path(source.file or "")
            if not path.is_absolute():
                path = base_dir / path
            try:
                if path.exists() and not path.is_file():
                    missing(f"key '{name}' is missing: key file {path} is not a regular file")
                    continue
                with path.open("rb") as stream:
                    data = stream.read(MAX_KEY_FILE_BYTES + 1)
            except OSError as error:
                missing(f"key '{name}' is missing: cannot read key file {path}: {error.strerror}")
                continue
            if len(data) > MAX_KEY_FILE_BYTES:
                missing(
                    f"key '{name}' is invalid: key file {path} is larger than "
                    f"{MAX_KEY_FILE_BYTES:,} bytes; a key is a short secret, not a data file"
                )
                continue
            if data.endswith(b"\r\n"):
                data = data[:-2]
            elif data.endswith(b"\n"):
                data = data[:-1]
            if not data.decode("utf-8", "replace").strip():  # spaces of any script too
                missing(f"key '{name}' is missing: key file {path} is empty (or only whitespace)")
                continue
            keys[name] = data
    if problems:
        raise KeyMissingError(problems)
    return keys
