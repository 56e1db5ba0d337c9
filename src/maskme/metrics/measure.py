"""``maskme.measure``: measure a file or a DataFrame in one call."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import polars as pl

from maskme.errors import FormatError, UsageError
from maskme.metrics._input import string_columns, to_polars
from maskme.metrics.classes import ClassStatistics
from maskme.metrics.measurement import (
    Measurement,
    SensitiveAttributesArgument,
    SensitiveAttributeSpec,
    measure_classes,
    sensitive_attribute_specs,
)
from maskme.metrics.risk import DEFAULT_RISK_THRESHOLD

__all__ = ["measure", "resolve_fields"]

logger = logging.getLogger(__name__)


def measure(
    source: str | PathLike[str] | Any,
    *,
    quasi_identifiers: Sequence[str] | str | None = None,
    sensitive_attributes: SensitiveAttributesArgument = None,
    policy: Any = None,
    format: str | None = None,
    batch_size: int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    population: str | PathLike[str] | Any = None,
    k: int | None = None,
    l: int | None = None,
    risk_threshold: float = DEFAULT_RISK_THRESHOLD,
    fields_required: bool = True,
    missing_values: Sequence[str] | str | None = None,
) -> Measurement:
    """Measure the privacy, risk and utility of a table.

    Parameters
    ----------
    source
        A CSV, JSON or JSONL file path, ``"-"`` for standard input, or a Polars
        or pandas DataFrame (any dtypes: the fields are measured as text).
    quasi_identifiers
        Field paths that define the equivalence classes; a comma-separated
        string is split. Defaults to the policy's.
    sensitive_attributes
        Field paths whose disclosure is measured, as a list of names
        (categorical) or a mapping of name to kind (``"categorical"``,
        ``"ordered"``, ``"hierarchical"``) or to ``{"kind": ..., "hierarchy":
        path}``. Defaults to the policy's.
    policy
        A :class:`maskme.policy.Policy`, or a policy file path. Supplies the
        fields not given and ``k`` from its privacy targets.
    format, batch_size, delimiter, encoding
        Passed to the reader; the format is detected when None.
    population
        Population counts for the journalist risk: a file or DataFrame with
        one column per quasi-identifier and a ``count`` column.
    k
        Report the records in classes smaller than ``k``. Defaults to the
        policy's target k.
    l
        The l of recursive (c, l)-diversity. Defaults to each attribute's
        distinct l.
    risk_threshold
        Records whose prosecutor or journalist risk is above this count as at risk.
    fields_required
        When True (the default), a field that no record of a JSON or JSONL
        input has raises UsageError, since it is most likely misspelled.
        False measures it as missing in every record, as for an output
        whose records holding the field were all suppressed.
    missing_values
        Texts that mean a missing value in this data (``"?"``, ``["N/A",
        "NA"]``), besides null and the empty string. Defaults to the
        policy's ``missing_values``. A missing quasi-identifier value is
        grouped as a value of its own, and a missing sensitive value is not
        counted.

    Returns
    -------
    Measurement
        The typed result; ``to_dict()`` gives the JSON report.

    Notes
    -----
    Only counts per class and sensitive value are kept, so memory grows with
    the number of such combinations, not of records. A CSV file is counted
    in one parallel pass by Polars' streaming engine, other sources batch by
    batch. Every number is exact and the same for any batch size.
    """
    if batch_size is not None and batch_size < 1:
        raise UsageError(f"batch size must be a positive integer, got {batch_size}")
    # The policy model (pydantic) is imported only when needed: `maskme measure`
    # without a policy starts faster without it.
    loaded = None
    if policy is not None:
        from maskme.policy import load_policy

        loaded = load_policy(policy)
    quasi_identifiers_list, specs, target_k = resolve_fields(
        quasi_identifiers=quasi_identifiers,
        sensitive_attributes=sensitive_attributes,
        policy=loaded,
    )
    if k is None:
        k = target_k
    markers = loaded.missing_values if loaded is not None else ()
    if missing_values is not None:
        from maskme.policy import Policy

        markers = Policy(default="keep").with_missing_values(missing_values).missing_values
    fields = [*quasi_identifiers_list, *(spec.name for spec in specs)]
    statistics = ClassStatistics(quasi_identifiers_list, [spec.name for spec in specs], markers)
    _count(statistics, source, fields, format, batch_size, delimiter, encoding,
           fields_required=fields_required)
    classes = statistics.result()
    logger.debug(
        "measured %d records in %d equivalence classes", classes.records, classes.classes.height
    )
    population_frame = None
    if population is not None:
        population_frame = _read_population(population, quasi_identifiers_list, delimiter)
    return measure_classes(
        classes,
        specs,
        k=k,
        l=l,
        risk_threshold=risk_threshold,
        population=population_frame,
    )


def resolve_fields(
    *,
    quasi_identifiers: Sequence[str] | str | None,
    sensitive_attributes: SensitiveAttributesArgument,
    policy: Any,
) -> tuple[list[str], list[SensitiveAttributeSpec], int | None]:
    """Return the quasi-identifiers, sensitive attributes and target k to measure.

    Arguments win over the policy. A sensitive attribute named without a kind
    (a plain name, or mapped to None) takes its kind and hierarchy from the
    policy when the policy lists it. Raises when no quasi-identifier is known.
    """
    loaded = None
    if policy is not None:
        from maskme.policy import load_policy

        loaded = load_policy(policy)
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [name.strip() for name in quasi_identifiers.split(",") if name.strip()]
    if quasi_identifiers is None and loaded is not None:
        quasi_identifiers = list(loaded.quasi_identifiers)
    if not quasi_identifiers:
        raise UsageError(
            "no quasi-identifiers to measure: name them (for example "
            "--quasi-identifiers age,sex,zip) or give a policy that lists them"
        )
    from_policy: dict[str, SensitiveAttributeSpec] = {}
    if loaded is not None:
        listed = sensitive_attribute_specs(
            dict(loaded.sensitive_attributes), base_dir=Path(loaded.base_dir)
        )
        from_policy = {spec.name: spec for spec in listed}
    if isinstance(sensitive_attributes, str):
        sensitive_attributes = [
            name.strip() for name in sensitive_attributes.split(",") if name.strip()
        ]
    if sensitive_attributes is None:
        specs = list(from_policy.values())
    else:
        specs = [
            from_policy.get(spec.name, spec) if undeclared else spec
            for spec, undeclared in _with_declaration(sensitive_attributes)
        ]
    target_k = None
    if loaded is not None and loaded.privacy is not None:
        privacy = loaded.privacy
        target_k = privacy.get("k") if isinstance(privacy, dict) else getattr(privacy, "k", None)
    return list(quasi_identifiers), specs, target_k


def _with_declaration(
    argument: SensitiveAttributesArgument,
) -> list[tuple[SensitiveAttributeSpec, bool]]:
    """Pair each spec with whether the caller left its kind undeclared."""
    if isinstance(argument, Mapping):
        return [
            (sensitive_attribute_specs({name: value})[0], value is None)
            for name, value in argument.items()
        ]
    specs = sensitive_attribute_specs(argument)
    undeclared = [not isinstance(item, SensitiveAttributeSpec) for item in argument or []]
    return list(zip(specs, undeclared, strict=True))


def _count(
    statistics: ClassStatistics,
    source: Any,
    fields: list[str],
    format: str | None,
    batch_size: int | None,
    delimiter: str | None,
    encoding: str | None,
    *,
    fields_required: bool = True,
) -> None:
    """Feed every record of ``source`` to ``statistics``.

    A CSV file is counted by Polars' streaming engine in one parallel pass
    (:meth:`CsvReader.scan`). The batch readers take over when Polars rejects
    the file and when a record may read differently there (too many fields,
    or an empty line that Polars reads as a record): their errors name the
    bad record. Other sources go batch by batch.
    """
    if not isinstance(source, str | PathLike):
        for batch in _frame_batches(source, fields, batch_size):
            statistics.update(batch)
        return
    from maskme.formats import open_fields, resolve_batch_size
    from maskme.formats.csv import CsvReader
    from maskme.formats.json import FieldPresence
    from maskme.policy.paths import parse_field_path

    with open_fields(
        source, fields, format=format, delimiter=delimiter, encoding=encoding
    ) as opened:
        size = resolve_batch_size(batch_size, opened.format)  # checked even where the scan needs none
        reader = opened.reader
        scan = reader.scan(fields) if isinstance(reader, CsvReader) else None
        if scan is not None:
            counted = ClassStatistics(
                statistics.quasi_identifiers, statistics.sensitive_attributes, statistics.missing_values
            )
            try:
                complete = counted.update_lazy(scan.frame, unless=scan.needs_batches)
            except pl.exceptions.PolarsError:
                logger.debug("Polars could not scan the input; reading it in batches")
            else:
                if complete:
                    statistics.merge(counted)
                    return
                logger.debug("a record may be malformed or an empty line; reading the input in batches")
        paths = [parse_field_path(name) for name in fields]
        presence = FieldPresence(paths if fields_required else [])
        for records in reader.batches(size):
            presence.update(records)
            statistics.update(records.frame(paths))
        presence.check(opened.name)


def _frame_batches(frame: Any, fields: list[str], batch_size: int | None) -> Iterator[pl.DataFrame]:
    selected = string_columns(to_polars(frame), fields)
    if batch_size is None or batch_size >= selected.height:
        yield selected
        return
    for start in range(0, selected.height, batch_size):
        yield selected.slice(start, batch_size)


def _read_population(
    population: Any, quasi_identifiers: list[str], delimiter: str | None
) -> pl.DataFrame:
    fields = [*quasi_identifiers, "count"]
    if isinstance(population, str | PathLike):
        from maskme.formats import read_field_batches

        if not Path(population).exists():
            raise FormatError(f"population file not found: {population}")
        if Path(population).is_dir():
            raise FormatError(f"the population file is a folder: {population}")
        try:
            if Path(population).is_file():  # a FIFO would lose the byte read here
                with open(population, "rb") as stream:
                    stream.read(1)
        except OSError as error:
            raise FormatError(
                f"cannot read the population file {population}: {error.strerror or error}"
            ) from None
        batches = list(read_field_batches(population, fields, delimiter=delimiter))
        frame = (
            pl.concat(batches) if batches else pl.DataFrame(schema=dict.fromkeys(fields, pl.String))
        )
    else:
        frame = to_polars(population)
    return string_columns(frame, fields)
