"""The one registry of strategies, built-in and custom.

Built-in strategies register themselves with :func:`register_strategy` when
``maskme.strategies`` is imported. Code that uses MaskMe as a library registers
its own strategies with the same decorator. Installed packages expose
strategies in the ``maskme.strategies`` entry-point group, one entry point per
strategy, named like the strategy and pointing at its class (or at a module
that registers it on import).

Entry points load lazily: looking up a name imports only the plugin that
provides that name, and only when the name is not registered yet. Listing
every strategy (:func:`available_strategies`) imports every plugin. Suggestions
for misspelled names include plugin names without importing anything.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any, TypeVar, overload

import pydantic

from maskme.errors import MaskMeError, suggest
from maskme.strategies.base import Strategy, StrategyParams

__all__ = [
    "ENTRY_POINT_GROUP",
    "ParameterDescription",
    "RegisteredStrategy",
    "StrategyDescription",
    "StrategyParamsError",
    "StrategyPluginError",
    "StrategyRegistrationError",
    "available_strategies",
    "get_registered",
    "get_strategy",
    "refresh_plugins",
    "register_strategy",
    "strategy_names",
    "unregister_strategy",
    "validate_params",
]

ENTRY_POINT_GROUP = "maskme.strategies"
logger = logging.getLogger(__name__)

StrategyType = TypeVar("StrategyType", bound=type[Strategy])

#: Property flags of :class:`Strategy` that listings and reports show.
PROPERTY_FLAGS = ("deterministic", "reversible", "keeps_type", "two_pass", "removes_field")


class StrategyRegistrationError(MaskMeError):
    """A strategy cannot be registered: its name is taken or its class is incomplete."""


class StrategyPluginError(MaskMeError):
    """An installed plugin package failed to provide the strategy its entry point names."""


class StrategyParamsError(MaskMeError):
    """Strategy parameters are invalid; ``problems`` lists (parameter path, message) pairs.

    Messages come from the parameter model's validation and never contain the
    rejected value, so a caller can show them next to the policy line.
    """

    exit_code = 2

    def __init__(self, strategy: str, problems: list[tuple[str, str]]) -> None:
        self.strategy = strategy
        self.problems = problems
        lines = [f"{path}: {message}" if path else message for path, message in problems]
        super().__init__(
            f"invalid parameters for strategy '{strategy}': " + "; ".join(lines)
        )


@dataclass(frozen=True, kw_only=True)
class RegisteredStrategy:
    """A registry entry: the class, the package it came from, and whether it is built in."""

    name: str
    strategy: type[Strategy]
    source: str
    builtin: bool

    def describe(self) -> StrategyDescription:
        """Describe the strategy for listings: summary, parameters and properties."""
        return StrategyDescription(
            name=self.name,
            source=self.source,
            builtin=self.builtin,
            summary=_summary_line(self.strategy),
            parameters=_describe_parameters(self.strategy.Params),
            properties={flag: bool(getattr(self.strategy, flag)) for flag in PROPERTY_FLAGS},
        )


@dataclass(frozen=True, kw_only=True)
class ParameterDescription:
    """One parameter of a strategy, read from its params model's JSON Schema."""

    name: str
    type: str
    required: bool
    default: Any = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class StrategyDescription:
    """The description of one strategy that ``maskme strategies`` prints."""

    name: str
    source: str
    builtin: bool
    summary: str
    parameters: list[ParameterDescription]
    properties: dict[str, bool]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dictionary."""
        return {
            "name": self.name,
            "source": self.source,
            "builtin": self.builtin,
            "summary": self.summary,
            "parameters": [
                {
                    "name": parameter.name,
                    "type": parameter.type,
                    "required": parameter.required,
                    "default": parameter.default,
                    "description": parameter.description,
                }
                for parameter in self.parameters
            ],
            "properties": dict(self.properties),
        }


_registry: dict[str, RegisteredStrategy] = {}
# Entry points of the group by name, scanned on first need (None: not scanned yet).
_plugin_entry_points: dict[str, list[metadata.EntryPoint]] | None = None
# Plugin names whose entry point has been imported (or failed to import).
_plugins_tried: set[str] = set()
# The error of each plugin that failed, raised again on every later lookup.
_plugin_failures: dict[str, StrategyPluginError] = {}
_lock = threading.RLock()


# --- registration -----------------------------------------------------------------


@overload
def register_strategy(cls: StrategyType, /) -> StrategyType: ...
@overload
def register_strategy(
    cls: None = None, /, *, replace: bool = False, builtin: bool = False
) -> Callable[[StrategyType], StrategyType]: ...


def register_strategy(
    cls: StrategyType | None = None, /, *, replace: bool = False, builtin: bool = False
) -> StrategyType | Callable[[StrategyType], StrategyType]:
    """Register a strategy class under its ``name``; usable as ``@register_strategy``.

    Raises
    ------
    StrategyRegistrationError
        When the class is incomplete (no ``name`` or ``Params``, a ``Params``
        that is not a frozen :class:`StrategyParams` rejecting unknown names),
        or the name is taken and ``replace`` is false. A built-in name is never
        replaced by a custom strategy, even with ``replace=True``, so no plugin
        can change what ``hash`` means. ``builtin=True`` is reserved for
        classes defined inside the ``maskme`` package.

    Notes
    -----
    Registering the same class again is a no-op. Redefining a class with the
    same module and qualified name (re-running a notebook cell, reloading a
    module) replaces the earlier definition without ``replace=True``.
    """

    def decorate(strategy_cls: StrategyType) -> StrategyType:
        _check_complete(strategy_cls)
        if builtin and not strategy_cls.__module__.startswith("maskme."):
            raise StrategyRegistrationError(
                f"strategy class {strategy_cls.__qualname__}: builtin=True is reserved for "
                "strategies inside the maskme package; register it without builtin"
            )
        _add(strategy_cls, source=_source_of(strategy_cls), builtin=builtin, replace=replace)
        return strategy_cls

    if cls is not None:
        return decorate(cls)
    return decorate


def _add(strategy_cls: type[Strategy], *, source: str, builtin: bool, replace: bool) -> None:
    name = strategy_cls.name
    with _lock:
        existing = _registry.get(name)
        if existing is not None and existing.strategy is not strategy_cls:
            if existing.builtin and not builtin:
                raise StrategyRegistrationError(
                    f"strategy name '{name}' is built in and cannot be replaced; "
                    "choose another name for the custom strategy"
                )
            if not (replace or _same_definition(existing.strategy, strategy_cls)):
                raise StrategyRegistrationError(
                    f"strategy name '{name}' is already registered by {existing.source}; "
                    "choose another name, or pass replace=True to replace it"
                )
        # The same class seen twice: once through the decorator (source is its
        # module) and once through an entry point (source is its distribution).
        # Keep the distribution, which is what users install.
        seen_before = existing is not None and existing.strategy is strategy_cls
        if seen_before and source == _source_of(strategy_cls):
            source = existing.source  # type: ignore[union-attr]
        _registry[name] = RegisteredStrategy(
            name=name, strategy=strategy_cls, source=source, builtin=builtin
        )


def _same_definition(old: type, new: type) -> bool:
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


def unregister_strategy(name: str) -> None:
    """Remove a custom strategy from the registry (built-in strategies cannot be removed)."""
    with _lock:
        entry = _registry.get(name)
        if entry is None:
            raise StrategyRegistrationError(f"strategy '{name}' is not registered")
        if entry.builtin:
            raise StrategyRegistrationError(f"strategy '{name}' is built in and cannot be removed")
        del _registry[name]


def _check_complete(cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyRegistrationError(f"expected a subclass of maskme.Strategy, got {cls!r}")
    missing = [attr for attr in ("name", "Params") if not hasattr(cls, attr)]
    if missing:
        raise StrategyRegistrationError(
            f"strategy class {cls.__qualname__} is missing {', '.join(missing)}; "
            "set them as class attributes"
        )
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise StrategyRegistrationError(
            f"strategy class {cls.__qualname__}: name must be an identifier, got {cls.name!r}"
        )
    params = cls.Params
    if not (isinstance(params, type) and issubclass(params, StrategyParams)):
        raise StrategyRegistrationError(
            f"strategy '{cls.name}': Params must be a subclass of maskme.StrategyParams, "
            f"got {params!r}"
        )
    config = params.model_config
    if config.get("frozen") is not True or config.get("extra") != "forbid":
        raise StrategyRegistrationError(
            f"strategy '{cls.name}': Params {params.__qualname__} must stay frozen and reject "
            "unknown names; do not override frozen or extra in its model_config"
        )
    if cls.__abstractmethods__:
        raise StrategyRegistrationError(
            f"strategy '{cls.name}': class {cls.__qualname__} does not implement "
            f"{', '.join(sorted(cls.__abstractmethods__))}"
        )


def _source_of(cls: type) -> str:
    module = cls.__module__
    return "maskme" if module == "maskme" or module.startswith("maskme.") else module.split(".")[0]


# --- plugins ------------------------------------------------------------------------


def _entry_points() -> dict[str, list[metadata.EntryPoint]]:
    global _plugin_entry_points
    with _lock:
        if _plugin_entry_points is None:
            found: dict[str, list[metadata.EntryPoint]] = {}
            for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
                found.setdefault(entry_point.name, []).append(entry_point)
            _plugin_entry_points = found
        return _plugin_entry_points


def refresh_plugins() -> None:
    """Scan the ``maskme.strategies`` entry points again, e.g. after installing a plugin.

    Strategies already loaded stay registered.
    """
    global _plugin_entry_points
    with _lock:
        _plugin_entry_points = None
        _plugins_tried.clear()
        _plugin_failures.clear()


def _distribution_label(entry_point: metadata.EntryPoint) -> str:
    dist = entry_point.dist
    if dist is None:
        return entry_point.value.split(":")[0].split(".")[0]
    return f"{dist.name} {dist.version}"


def _load_plugin(name: str) -> None:
    """Import the plugin that provides ``name`` and register its strategy.

    Raises StrategyPluginError when the plugin is broken; a name provided by no
    plugin is left alone.
    """
    with _lock:
        if name in _plugin_failures:
            raise _plugin_failures[name]
        if name in _plugins_tried or name in _registry:
            return
        candidates = _entry_points().get(name)
        if not candidates:
            return
        _plugins_tried.add(name)
        try:
            _register_plugin(name, candidates)
        except StrategyPluginError as error:
            _plugin_failures[name] = error
            raise


def _register_plugin(name: str, candidates: list[metadata.EntryPoint]) -> None:
    """Import the single entry point offering ``name`` and register what it names.

    The caller holds the registry lock.
    """
    if len(candidates) > 1:
        packages = " and ".join(sorted(_distribution_label(ep) for ep in candidates))
        raise StrategyPluginError(
            f"strategy '{name}' is provided by more than one installed package ({packages}); "
            "uninstall all but one of them"
        )
    entry_point = candidates[0]
    source = _distribution_label(entry_point)
    try:
        loaded = entry_point.load()
    except Exception as error:  # any import failure of third-party code
        raise StrategyPluginError(
            f"strategy '{name}' from {source} failed to load "
            f"({type(error).__name__}: {error}); reinstall or fix that package"
        ) from error
    if isinstance(loaded, ModuleType):
        # The module registered its strategy with the decorator on import.
        entry = _registry.get(name)
        if entry is None:
            raise StrategyPluginError(
                f"entry point '{name}' of {source} names module {loaded.__name__}, "
                f"which registers no strategy called '{name}'; point the entry point "
                "at the strategy class"
            )
        _add(entry.strategy, source=source, builtin=entry.builtin, replace=False)
        return
    try:
        _check_complete(loaded)
    except StrategyRegistrationError as error:
        raise StrategyPluginError(f"entry point '{name}' of {source}: {error}") from error
    if loaded.name != name:
        raise StrategyPluginError(
            f"entry point '{name}' of {source} names a strategy called '{loaded.name}'; "
            "the entry point name must equal the strategy name"
        )
    try:
        _add(loaded, source=source, builtin=False, replace=False)
    except StrategyRegistrationError as error:
        raise StrategyPluginError(f"plugin {source}: {error}") from error


# --- lookup -------------------------------------------------------------------------


def strategy_names() -> list[str]:
    """Return every strategy name, registered or offered by an installed plugin, sorted.

    Plugins are not imported, so this is cheap enough for did-you-mean hints.
    """
    with _lock:
        return sorted(set(_registry) | set(_entry_points()))


def get_registered(name: str) -> RegisteredStrategy:
    """Return the registry entry for ``name``, importing the plugin that provides it if needed.

    Raises
    ------
    KeyError
        When no strategy has that name; the message has a did-you-mean that
        includes custom and plugin strategies.
    StrategyPluginError
        When an installed plugin offers the name but fails to load.
    """
    if name not in _registry:
        _load_plugin(name)
    entry = _registry.get(name)
    if entry is None:
        raise KeyError(
            f"unknown strategy '{name}'{suggest(name, strategy_names())}; "
            "run `maskme strategies` to list the available ones"
        )
    return entry


def get_strategy(name: str) -> type[Strategy]:
    """Return the strategy class registered under ``name`` (see :func:`get_registered`)."""
    return get_registered(name).strategy


def available_strategies() -> list[RegisteredStrategy]:
    """List every strategy, plugins included, sorted by name.

    A plugin that fails to load is logged as a warning and left out, so one
    broken package does not hide the others.
    """
    for name, candidates in list(_entry_points().items()):
        entry = _registry.get(name)
        if entry is not None and entry.builtin:
            for entry_point in candidates:
                logger.warning(
                    "skipped a strategy plugin: %s offers strategy '%s', which is built in; "
                    "the built-in strategy is used",
                    _distribution_label(entry_point),
                    name,
                )
            continue
        try:
            _load_plugin(name)
        except StrategyPluginError as error:
            logger.warning("skipped a strategy plugin: %s", error)
    with _lock:
        return [_registry[name] for name in sorted(_registry)]


# --- parameters ---------------------------------------------------------------------


def validate_params(strategy: str | type[Strategy], raw: Mapping[str, Any]) -> StrategyParams:
    """Validate raw parameters (a policy field entry without ``strategy``) against the model.

    Raises
    ------
    StrategyParamsError
        With every problem found; unknown parameter names get a did-you-mean.
    KeyError
        When ``strategy`` is a name and no strategy has it.
    """
    strategy_cls = get_strategy(strategy) if isinstance(strategy, str) else strategy
    params_model = strategy_cls.Params
    try:
        return params_model.model_validate(dict(raw))
    except pydantic.ValidationError as error:
        known = list(params_model.model_fields)
        problems: list[tuple[str, str]] = []
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"])
            if item["type"] == "extra_forbidden":
                top = str(item["loc"][0]) if item["loc"] else path
                accepted = ", ".join(known) if known else "none"
                message = f"unknown parameter{suggest(top, known)}; accepted: {accepted}"
            else:
                # pydantic's msg states the rule ("Input should be ...") without the input.
                message = item["msg"]
            problems.append((path, message))
        raise StrategyParamsError(strategy_cls.name, problems) from None


# --- descriptions -------------------------------------------------------------------


def _summary_line(cls: type) -> str:
    doc = cls.__doc__ or ""
    for line in doc.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _describe_parameters(params_model: type[StrategyParams]) -> list[ParameterDescription]:
    schema = params_model.model_json_schema()
    definitions = schema.get("$defs", {})
    required = set(schema.get("required", []))
    described = []
    for name, property_schema in schema.get("properties", {}).items():
        described.append(
            ParameterDescription(
                name=name,
                type=_type_label(property_schema, definitions),
                required=name in required,
                default=property_schema.get("default"),
                description=property_schema.get("description"),
            )
        )
    return described


def _type_label(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    """Render a JSON Schema as a short type label such as ``integer >= 0`` or ``"a" | "b"``."""
    if "$ref" in schema:
        target = definitions.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        return _type_label(target, definitions) if target else "object"
    if "enum" in schema:
        return " | ".join(_literal(value) for value in schema["enum"])
    if "const" in schema:
        return _literal(schema["const"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " | ".join(_type_label(option, definitions) for option in schema[combinator])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "array":
        items = schema.get("items")
        return f"list[{_type_label(items, definitions)}]" if items else "list"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            return f"dict[string, {_type_label(values, definitions)}]"
        return str(schema.get("title", "object"))
    return _scalar_label(schema)


def _scalar_label(schema: Mapping[str, Any]) -> str:
    """Render a scalar schema as its type with format and bounds: ``number > 0``."""
    kind = schema.get("type")
    label = str(kind) if kind else "any"
    if "format" in schema:
        label = f"{label} ({schema['format']})"
    bounds = [
        f"{symbol} {schema[keyword]}"
        for keyword, symbol in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        )
        if keyword in schema
    ]
    if bounds:
        label = f"{label} {', '.join(bounds)}"
    return label


def _literal(value: object) -> str:
    """Write an enum or const value as it reads in JSON: ``"keep"``, ``true``, ``null``, ``3``."""
    return json.dumps(value)
