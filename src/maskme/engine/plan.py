"""Plans: a policy resolved against one input, with keys loaded and strategies built.

Building a plan checks everything that can be checked before a record is
written: field paths against the input's columns (with a did-you-mean), keys
present, strategy set-up (hierarchy files readable). Every problem is
reported at once as a :class:`~maskme.errors.PolicyError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from maskme.errors import MaskMeError, PolicyError, PolicyProblem, suggest
from maskme.policy.keys import load_keys
from maskme.policy.model import FieldRule, Policy
from maskme.policy.paths import FieldPath, is_column_pattern, parse_field_path
from maskme.strategies.base import Strategy, StrategyContext

__all__ = ["Plan", "PlannedField", "build_plan"]


@dataclass(frozen=True, kw_only=True)
class PlannedField:
    """One field rule ready to run."""

    path: FieldPath
    rule: FieldRule
    strategy: Strategy
    required: tuple[FieldPath, ...] = ()

    @property
    def removes_field(self) -> bool:
        return self.strategy.removes_field


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A policy resolved against one input."""

    policy: Policy
    fields: tuple[PlannedField, ...]
    #: For ``default: drop``: the paths that stay (listed fields, quasi-identifiers, sensitive).
    keep_paths: tuple[FieldPath, ...] | None
    #: Fields that other fields' strategies read (``consistent_by``), extracted before any change.
    required_paths: tuple[FieldPath, ...] = ()
    #: Paths whose presence is only known after reading every record (JSON input).
    deferred_paths: tuple[str, ...] = field(default_factory=tuple)

    @property
    def two_pass(self) -> bool:
        """Whether a strategy needs to see the whole input before the output is written."""
        return any(planned.strategy.two_pass for planned in self.fields)


def _problem(policy: Policy, message: str, *path: str) -> PolicyProblem:
    return PolicyProblem(
        message=message, path=".".join(path), line=policy.line_of(*path), source=policy.source
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]{0,63}")


def _looks_like_name(text: str) -> bool:
    """Return whether a header cell looks like a field name rather than a data value."""
    return _NAME.fullmatch(text) is not None


def build_plan(
    policy: Policy, columns: Sequence[str] | None, *, seed: int | None = None
) -> Plan:
    """Resolve ``policy`` against an input whose top-level fields are ``columns``.

    ``columns`` is None when records may differ in their fields (JSON): then a
    path that matches no record is reported at the end of the run instead.
    """
    problems: list[PolicyProblem] = []
    known = list(columns) if columns is not None else None

    named = [*policy.fields, *policy.quasi_identifiers, *policy.sensitive_attributes]
    # Suggestions quote the input's first line. When no name of the policy is in it and it
    # does not look like a row of names, it is probably data, so no suggestion is offered.
    header_likely = known is not None and (
        any(name in known for name in named) or all(map(_looks_like_name, known))
    )

    def check_exists(text: str, *policy_path: str) -> None:
        if known is None or text in known:
            return
        hint = suggest(text, known) if header_likely else ""
        count = f"{len(known)} field" + ("" if len(known) == 1 else "s")
        # The input's field names are not listed: in a file without a header row they
        # would be the first record's values.
        problems.append(
            _problem(
                policy,
                f"field '{text}' matches nothing in the input{hint}; "
                f"the input has {count} (run with --format or check that its "
                "first line is a header)",
                *policy_path,
            )
        )

    for section, names in (("fields", list(policy.fields)),
                           ("quasi_identifiers", list(policy.quasi_identifiers)),
                           ("sensitive_attributes", list(policy.sensitive_attributes))):
        for name in names:
            if is_column_pattern(name):
                # Polars would read the name as a pattern and act on other columns.
                problems.append(_problem(
                    policy,
                    f"field '{name}' is not supported: Polars reads `*` and names like "
                    "`^...$` as column patterns; rename the field in the input and the policy",
                    section, name,
                ))
    for path_text in policy.fields:
        check_exists(path_text, "fields", path_text)
    for name in policy.quasi_identifiers:
        check_exists(name, "quasi_identifiers", name)
    for name in policy.sensitive_attributes:
        check_exists(name, "sensitive_attributes", name)

    key_names: dict[str, int | None] = {}
    for rule in policy.fields.values():
        key_name = rule.strategy_class.key_name(rule.params)
        if key_name is not None and key_name in policy.keys:
            key_names[key_name] = policy.line_of("keys", key_name)
    keys: dict[str, bytes] = {}
    try:
        keys = load_keys(
            policy.keys,
            key_names,
            base_dir=policy.base_dir,
            policy_source=policy.source,
            lines=key_names,
        )
    except PolicyError as error:
        problems.extend(error.problems)

    planned: list[PlannedField] = []
    required: dict[str, FieldPath] = {}
    for path_text, rule in policy.fields.items():
        strategy_cls = rule.strategy_class
        key_name = strategy_cls.key_name(rule.params)
        if key_name is not None and key_name in key_names and key_name not in keys:
            continue  # the missing key is reported once, under 'keys'
        context = StrategyContext(
            field_path=path_text,
            key=keys.get(key_name) if key_name else None,
            base_dir=policy.base_dir,
            seed=seed,
        )
        try:
            strategy = strategy_cls(rule.params, context)
        except MaskMeError as error:
            problems.append(_problem(policy, str(error), "fields", path_text))
            continue
        except (ValueError, OSError) as error:
            problems.append(_problem(policy, f"strategy '{rule.strategy}': {error}", "fields", path_text))
            continue
        needs = []
        for other in strategy.required_fields():
            try:
                other_path = parse_field_path(other)
            except ValueError as error:
                problems.append(_problem(policy, str(error), "fields", path_text))
                continue
            if other_path.walks_arrays:
                problems.append(
                    _problem(
                        policy,
                        f"'{other}' walks an array; a field read by another strategy must have "
                        "one value per record",
                        "fields",
                        path_text,
                    )
                )
                continue
            check_exists(other, "fields", path_text)
            needs.append(other_path)
            required[other] = other_path
        planned.append(
            PlannedField(
                path=parse_field_path(path_text),
                rule=rule,
                strategy=strategy,
                required=tuple(needs),
            )
        )

    if problems:
        raise PolicyError(problems)

    keep_paths = None
    if policy.default == "drop":
        kept = [p.path for p in planned if not p.removes_field]
        kept += [parse_field_path(name) for name in policy.quasi_identifiers]
        kept += [parse_field_path(name) for name in policy.sensitive_attributes]
        keep_paths = tuple(kept)

    deferred = tuple(policy.fields) if known is None else ()
    return Plan(
        policy=policy,
        fields=tuple(planned),
        keep_paths=keep_paths,
        required_paths=tuple(required.values()),
        deferred_paths=deferred,
    )
