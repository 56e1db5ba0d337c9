"""The policy: which strategy each field gets, and what the release must meet.

A :class:`Policy` is built from a YAML or JSON file, from a mapping, or in code
with keyword arguments. Every route runs the same validation. It collects every
problem (unknown names with a did-you-mean, invalid parameters, malformed
paths) and raises one :class:`~maskme.errors.PolicyError` that lists them with
the policy file, line and path.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from maskme.errors import MaskMeError, PolicyError, PolicyProblem, suggest
from maskme.policy.paths import parse_field_path
from maskme.strategies import StrategyParams, get_strategy
from maskme.strategies.base import Strategy

__all__ = ["FieldRule", "KeySource", "Policy", "SensitiveAttribute", "load_policy"]

TOP_LEVEL_KEYS = (
    "version",
    "default",
    "keys",
    "fields",
    "quasi_identifiers",
    "sensitive_attributes",
    "privacy",
    "missing_values",
)
SENSITIVE_KINDS = ("categorical", "ordered")


@dataclass(frozen=True, kw_only=True)
class KeySource:
    """Source of a secret: an environment variable or a key file, never the policy."""

    name: str
    env: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True, kw_only=True)
class FieldRule:
    """One entry of ``fields:``: a field path, its strategy and validated parameters."""

    path: str
    strategy: str
    params: StrategyParams
    line: int | None = None

    @property
    def strategy_class(self) -> type[Strategy]:
        """The registered strategy class."""
        return get_strategy(self.strategy)


@dataclass(frozen=True, kw_only=True)
class SensitiveAttribute:
    """A sensitive attribute and how distances between its values are measured."""

    name: str
    kind: Literal["categorical", "ordered"] = "categorical"
    hierarchy: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Lines:
    """Line numbers of a YAML document's keys, by key path."""

    source: str | None
    by_path: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def of(self, *path: str) -> int | None:
        for end in range(len(path), 0, -1):
            line = self.by_path.get(path[:end])
            if line is not None:
                return line
        return None


class Policy:
    """A validated policy.

    Build it from a file with :meth:`from_yaml` (or :func:`load_policy`), from a
    mapping with :meth:`from_dict`, or in code with the same names as the file::

        Policy(
            default="keep",
            keys={"main": {"env": "MASKME_KEY"}},
            fields={"email": {"strategy": "hash", "key": "main"}},
        )

    All three give equal objects. Paths to key files and hierarchies are
    resolved against ``base_dir``: the policy file's folder, or the working
    directory for a policy built in code.
    """

    version: int
    default: Literal["keep", "drop"]
    keys: dict[str, KeySource]
    fields: dict[str, FieldRule]
    quasi_identifiers: list[str]
    quasi_identifier_rules: dict[str, Any]
    sensitive_attributes: dict[str, SensitiveAttribute]
    privacy: Any
    #: Texts that mean "no value" in this data (``?``, ``N/A``), besides null and the empty string.
    missing_values: tuple[str, ...]
    source: str | None
    base_dir: Path

    def __init__(
        self,
        *,
        default: str,
        fields: Mapping[str, Mapping[str, Any]] | None = None,
        keys: Mapping[str, Mapping[str, Any]] | None = None,
        quasi_identifiers: Any = None,
        sensitive_attributes: Any = None,
        privacy: Mapping[str, Any] | None = None,
        missing_values: Sequence[str] | str | None = None,
        version: int = 1,
        base_dir: str | Path | None = None,
    ) -> None:
        document: dict[str, Any] = {"version": version, "default": default}
        for name, value in (
            ("fields", fields),
            ("keys", keys),
            ("quasi_identifiers", quasi_identifiers),
            ("sensitive_attributes", sensitive_attributes),
            ("privacy", privacy),
            ("missing_values", _as_list(missing_values)),
        ):
            if value is not None:
                document[name] = value
        self._build(document, _Lines(source=None), Path(base_dir) if base_dir else Path.cwd())

    @classmethod
    def from_dict(
        cls, document: Mapping[str, Any], *, base_dir: str | Path | None = None
    ) -> Policy:
        """Validate a policy given as a mapping with the file's top-level keys."""
        policy = cls.__new__(cls)
        policy._build(document, _Lines(source=None), Path(base_dir) if base_dir else Path.cwd())
        return policy

    @classmethod
    def from_yaml(cls, source: str | Path) -> Policy:
        """Load a policy from a YAML (or JSON) file path, or from YAML text.

        A ``str`` that contains a newline or starts with ``{`` is read as the
        document itself; anything else is a path.
        """
        if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
            return cls._from_text(source, source_name=None, base_dir=Path.cwd())
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError(
                [PolicyProblem(message=f"policy file not found: {path}", source=str(path))]
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise PolicyError(
                [PolicyProblem(message=f"cannot read policy file: {error}", source=str(path))]
            ) from None
        return cls._from_text(text, source_name=str(path), base_dir=path.resolve().parent)

    @classmethod
    def _from_text(cls, text: str, *, source_name: str | None, base_dir: Path) -> Policy:
        document, lines = _parse_yaml(text, source_name)
        policy = cls.__new__(cls)
        policy._build(document, lines, base_dir)
        return policy

    # -- validation ---------------------------------------------------------

    def _build(self, document: Any, lines: _Lines, base_dir: Path) -> None:
        problems: list[PolicyProblem] = []

        def problem(message: str, *path: str) -> None:
            problems.append(
                PolicyProblem(
                    message=message,
                    path=".".join(path),
                    line=lines.of(*path),
                    source=lines.source,
                )
            )

        self.source = lines.source
        self.base_dir = base_dir
        self._lines = lines

        if not isinstance(document, Mapping):
            problem(f"expected a mapping at the top level, got {type(document).__name__}")
            raise PolicyError(problems)

        for key in document:
            if key not in TOP_LEVEL_KEYS:
                problem(f"unknown key '{key}'{suggest(str(key), TOP_LEVEL_KEYS)}", str(key))

        version = document.get("version")
        if version is None:
            problem("missing 'version'; add 'version: 1'")
        elif isinstance(version, str):
            problem(f"'version' must be the number 1, not the text {version!r}", "version")
        elif version != 1 or isinstance(version, bool):
            problem(f"unsupported version {version!r}; this MaskMe reads version 1", "version")
        self.version = 1

        default = document.get("default")
        if default is None:
            problem(
                "missing 'default'; add 'default: keep' or 'default: drop' to say what "
                "happens to fields the policy does not list"
            )
        elif default not in ("keep", "drop"):
            hint = " (YAML reads yes, no, on and off as booleans)" if isinstance(default, bool) else ""
            problem(f"'default' must be keep or drop, got {default!r}{hint}", "default")
        self.default = default if default in ("keep", "drop") else "keep"

        self.keys = _build_keys(document.get("keys"), problem)
        self.fields = _build_fields(document.get("fields"), self.keys, problem, lines)
        self.quasi_identifiers, self.quasi_identifier_rules = _build_quasi_identifiers(
            document.get("quasi_identifiers"), problem
        )
        self.sensitive_attributes = _build_sensitive(document.get("sensitive_attributes"), problem)
        self.privacy = _build_privacy(document.get("privacy"), problem)
        self.missing_values = _build_missing_values(document.get("missing_values"), problem)
        self._document = _plain(document)

        if problems:
            error = PolicyError(problems)
            # Kept so a run can add the problems it finds against the input to the same report.
            error.document = document
            error.line_of = lines.of
            raise error

    # -- conveniences -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as the mapping it was built from (never contains a key)."""
        return json.loads(json.dumps(self._document, default=str))

    def with_missing_values(self, missing_values: Sequence[str] | str) -> Policy:
        """Return a copy whose ``missing_values`` are these (a command-line option overrides the file's).

        One text is one marker. Raises PolicyError for a marker that is not text.
        """
        copied = copy.copy(self)
        problems: list[PolicyProblem] = []

        def problem(message: str, *path: str) -> None:
            problems.append(PolicyProblem(message=message, path=".".join(path), source=self.source))

        copied.missing_values = _build_missing_values(_as_list(missing_values), problem)
        if problems:
            raise PolicyError(problems)
        copied._document = {**self._document, "missing_values": list(copied.missing_values)}
        return copied

    def line_of(self, *path: str) -> int | None:
        """Line of a key path in the policy file (``"fields", "email"``), when known."""
        return self._lines.of(*path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        where = f" from {self.source}" if self.source else ""
        return f"<Policy{where}: {len(self.fields)} fields, default {self.default}>"


def load_policy(source: str | Path | Policy | Mapping[str, Any]) -> Policy:
    """Return a Policy from a path, YAML text, a mapping, or a Policy (returned as is)."""
    if isinstance(source, Policy):
        return source
    if isinstance(source, Mapping):
        return Policy.from_dict(source)
    return Policy.from_yaml(source)


# -- parsing ------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate keys instead of keeping the last one."""


def _parse_yaml(text: str, source: str | None) -> tuple[Any, _Lines]:
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError([PolicyProblem(message="the policy is empty", source=source)])
        _join_surrogate_pairs(node, set())
        by_path: dict[tuple[str, ...], int] = {}
        duplicates: list[PolicyProblem] = []
        _collect_lines(node, (), by_path, duplicates, source, set())
        if duplicates:
            raise PolicyError(duplicates)
        document = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        if error.context_mark is not None and "<stream end>" in str(error.problem):
            mark = error.context_mark  # an unclosed bracket: point at where it opened
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(
            [PolicyProblem(message=f"invalid YAML: {error.problem}", line=line, source=source)]
        ) from None
    except yaml.YAMLError as error:
        raise PolicyError([PolicyProblem(message=f"invalid YAML: {error}", source=source)]) from None
    except RecursionError:
        raise PolicyError(
            [PolicyProblem(message="the policy is nested too deeply to read", source=source)]
        ) from None
    finally:
        loader.dispose()
    return document, _Lines(source=source, by_path=by_path)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_surrogate_pairs(node: yaml.Node, seen: set[int]) -> None:
    """Turn each escaped UTF-16 surrogate pair in the policy's text into the character it encodes.

    ``json.dumps`` writes a character beyond U+FFFF as a pair of escapes
    ("\\ud83d\\ude00"), which a JSON parser reads as one character. The YAML
    loader keeps two code points, so a field name would match no field.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if isinstance(node.value, str) and _SURROGATE.search(node.value):
            # surrogatepass keeps a lone surrogate as it is, for the checks that report it.
            node.value = node.value.encode("utf-16-le", "surrogatepass").decode(
                "utf-16-le", "surrogatepass"
            )
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _join_surrogate_pairs(key_node, seen)
            _join_surrogate_pairs(value_node, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _join_surrogate_pairs(item, seen)


def _collect_lines(
    node: yaml.Node,
    path: tuple[str, ...],
    by_path: dict[tuple[str, ...], int],
    duplicates: list[PolicyProblem],
    source: str | None,
    seen_nodes: set[int],
) -> None:
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        # An alias (*name) makes the composer reuse a node. Policies have no use for
        # aliases, and following them could expand a small file into billions of values.
        if id(node) in seen_nodes:
            raise PolicyError(
                [
                    PolicyProblem(
                        message="YAML aliases (*name) are not supported in a policy; "
                        "write the value out",
                        path=".".join(path),
                        line=node.start_mark.line + 1,
                        source=source,
                    )
                ]
            )
        seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(
                    PolicyProblem(
                        message=f"duplicate key '{key}'",
                        path=".".join((*path, key)),
                        line=line,
                        source=source,
                    )
                )
            seen.add(key)
            by_path[(*path, key)] = line
            _collect_lines(value_node, (*path, key), by_path, duplicates, source, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            by_path[(*path, str(index))] = item.start_mark.line + 1
            _collect_lines(item, (*path, str(index)), by_path, duplicates, source, seen_nodes)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# -- sections -------------------------------------------------------------------


def _build_keys(raw: Any, problem: Any) -> dict[str, KeySource]:
    keys: dict[str, KeySource] = {}
    if raw is None:
        return keys
    if not isinstance(raw, Mapping):
        problem("'keys' must map key names to {env: VAR} or {file: path}", "keys")
        return keys
    for name, spec in raw.items():
        name = str(name)
        if not isinstance(spec, Mapping):
            problem(
                "a key is given as {env: VARIABLE} or {file: path}, never the key itself",
                "keys",
                name,
            )
            continue
        unknown = [k for k in spec if k not in ("env", "file")]
        for key in unknown:
            problem(f"unknown key '{key}'{suggest(str(key), ('env', 'file'))}", "keys", name, str(key))
        env, file = spec.get("env"), spec.get("file")
        if (env is None) == (file is None):
            problem("give exactly one of 'env' or 'file'", "keys", name)
            continue
        if env is not None and not (isinstance(env, str) and env):
            problem("'env' must be an environment variable name", "keys", name, "env")
            continue
        if file is not None and not (isinstance(file, str) and file):
            problem("'file' must be a path to a key file", "keys", name, "file")
            continue
        keys[name] = KeySource(name=name, env=env, file=file)
    return keys


def _build_fields(
    raw: Any, keys: Mapping[str, KeySource], problem: Any, lines: _Lines
) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = {}
    if raw is None:
        return rules
    if not isinstance(raw, Mapping):
        problem("'fields' must map field paths to {strategy: name, ...}", "fields")
        return rules
    for path, spec in raw.items():
        path = str(path)
        try:
            parse_field_path(path)
        except ValueError as error:
            problem(str(error), "fields", path)
            continue
        if isinstance(spec, str):
            spec = {"strategy": spec}
        if not isinstance(spec, Mapping) or "strategy" not in spec:
            problem("expected {strategy: name, ...parameters}", "fields", path)
            continue
        name = str(spec["strategy"])
        try:
            strategy_cls = get_strategy(name)
        except KeyError as error:
            problem(str(error.args[0]), "fields", path, "strategy")
            continue
        except MaskMeError as error:  # a plugin that provides the name failed to load
            problem(str(error), "fields", path, "strategy")
            continue
        params_input = {k: v for k, v in spec.items() if k != "strategy"}
        params = _validate_params(strategy_cls, params_input, problem, path)
        if params is None:
            continue
        key_name = strategy_cls.key_name(params)
        if key_name is not None and key_name not in keys:
            known = f"defined: {', '.join(sorted(keys))}" if keys else "no keys are defined"
            problem(
                f"key '{key_name}' is not defined under 'keys' ({known})"
                f"{suggest(key_name, keys)}",
                "fields",
                path,
                "key",
            )
        elif key_name is None and strategy_cls.requires_key(params):
            problem(
                f"strategy '{name}' needs a key: add 'key: <name>' and define it under 'keys'",
                "fields",
                path,
            )
        rules[path] = FieldRule(
            path=path, strategy=name, params=params, line=lines.of("fields", path)
        )
    return rules


def _validate_params(
    strategy_cls: type[Strategy], params_input: Mapping[str, Any], problem: Any, path: str
) -> StrategyParams | None:
    try:
        return strategy_cls.Params.model_validate(dict(params_input))
    except ValidationError as error:
        allowed = list(strategy_cls.Params.model_fields)
        # One message per parameter: a union type gives one pydantic error per member.
        by_parameter: dict[str, list[str]] = {}
        for item in error.errors(include_url=False, include_input=False):
            location = [str(part) for part in item["loc"]]
            if item["type"] == "extra_forbidden" and location:
                unknown = location[0]
                allowed_text = ", ".join(allowed) or "none"
                problem(
                    f"unknown parameter '{unknown}' for strategy '{strategy_cls.name}'"
                    f"{suggest(unknown, allowed)}; allowed: {allowed_text}",
                    "fields",
                    path,
                    unknown,
                )
                continue
            # Only the parameter name: deeper parts of the location name pydantic's
            # union members (such as 'keep_separators.bool'), which mean nothing to a user.
            where = location[0] if location else ""
            messages = by_parameter.setdefault(where, [])
            if item["msg"] not in messages:
                messages.append(item["msg"])
        for where, messages in by_parameter.items():
            text = "; or ".join(messages)
            message = f"{where}: {text}" if where else text
            problem(f"strategy '{strategy_cls.name}': {message}", "fields", path, *([where] if where else []))
        return None


def _build_quasi_identifiers(raw: Any, problem: Any) -> tuple[list[str], dict[str, Any]]:
    if raw is None:
        return [], {}
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, (list, tuple)):
        names = []
        for index, name in enumerate(raw):
            if not isinstance(name, str) or not name:
                problem("expected a field path", "quasi_identifiers", str(index))
                continue
            names.append(name)
        return names, {}
    if isinstance(raw, Mapping):
        rules: dict[str, Any] = {}
        rule_model = _quasi_identifier_rule_model()
        for name, spec in raw.items():
            name = str(name)
            if rule_model is None or spec is None:
                rules[name] = spec
                continue
            try:
                rules[name] = rule_model.model_validate(spec or {})
            except ValidationError as error:
                allowed = list(rule_model.model_fields)
                for item in error.errors(include_url=False, include_input=False):
                    location = [str(part) for part in item["loc"]]
                    message = item["msg"]
                    if item["type"] == "extra_forbidden" and location:
                        message = (
                            f"unknown key '{location[0]}'{suggest(location[0], allowed)}; "
                            f"allowed: {', '.join(allowed)}"
                        )
                    problem(message, "quasi_identifiers", name, *location[:1])
        return list(raw), rules
    problem("expected a list of field paths, or a mapping of field path to rule", "quasi_identifiers")
    return [], {}


def _build_sensitive(raw: Any, problem: Any) -> dict[str, SensitiveAttribute]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, (list, tuple)):
        raw = {str(name): {} for name in raw}
    if not isinstance(raw, Mapping):
        problem("expected a list of field paths or a mapping", "sensitive_attributes")
        return {}
    attributes: dict[str, SensitiveAttribute] = {}
    for name, spec in raw.items():
        name = str(name)
        spec = spec or {}
        if not isinstance(spec, Mapping):
            problem("expected {kind: categorical|ordered, hierarchy: path}", "sensitive_attributes", name)
            continue
        for key in spec:
            if key not in ("kind", "hierarchy"):
                problem(
                    f"unknown key '{key}'{suggest(str(key), ('kind', 'hierarchy'))}",
                    "sensitive_attributes",
                    name,
                    str(key),
                )
        kind = spec.get("kind", "categorical")
        if kind not in SENSITIVE_KINDS:
            problem(
                f"'kind' must be categorical or ordered, got {kind!r}",
                "sensitive_attributes",
                name,
                "kind",
            )
            continue
        hierarchy = spec.get("hierarchy")
        attributes[name] = SensitiveAttribute(name=name, kind=kind, hierarchy=hierarchy)
    return attributes


def _privacy_module() -> Any:
    try:
        from maskme.policy import privacy
    except ImportError:  # NOTE: the privacy model lands with the anonymization search
        return None
    return privacy


def _quasi_identifier_rule_model() -> type[BaseModel] | None:
    module = _privacy_module()
    return getattr(module, "QuasiIdentifierRule", None) if module else None


def _as_list(values: Any) -> Any:
    """Return one text as a list of that text, other sequences as lists, anything else as it is."""
    if values is None or isinstance(values, str):
        return values if values is None else [values]
    return list(values) if isinstance(values, Sequence) else values


def _build_missing_values(raw: Any, problem: Any) -> tuple[str, ...]:
    """Read ``missing_values``: one text or a list of texts.

    Numbers are rejected rather than turned into text: YAML reads ``007`` as
    7 and ``0x1F`` as 31, so the text the user wrote is lost.
    """
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        problem("expected a list of texts that mean a missing value, e.g. ['?', 'N/A']",
                "missing_values")
        return ()
    markers: list[str] = []
    for position, item in enumerate(items):
        if not isinstance(item, str):
            problem(
                f"item {position + 1} must be a text; quote it, since YAML reads 007 as the "
                "number 7 and null, true or 1.5 as other types",
                "missing_values",
            )
            continue
        markers.append(item)
    return tuple(dict.fromkeys(markers))


def _build_privacy(raw: Any, problem: Any) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problem("expected a mapping of privacy targets, e.g. {k: 5}", "privacy")
        return None
    module = _privacy_module()
    model = getattr(module, "PrivacyTargets", None) if module else None
    if model is None:
        return dict(raw)
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        allowed = list(model.model_fields)
        for item in error.errors(include_url=False, include_input=False):
            location = [str(part) for part in item["loc"]]
            if item["type"] == "extra_forbidden" and location:
                message = f"unknown target '{location[0]}'{suggest(location[0], allowed)}"
            else:
                message = item["msg"]
            problem(message, "privacy", *location[:1])
        return None
