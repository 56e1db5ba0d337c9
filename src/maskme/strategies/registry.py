"""The one registry of strategies, built-in and custom.

Built-in strategies register themselves with :func:`register_strategy` when
``maskme.strategies`` is imported. Third-party packages expose strategies in
the ``maskme.strategies`` entry-point group; those load lazily, the first time
a name is looked up that is not registered yet, or when all strategies are
listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TypeVar, overload

from maskme.errors import MaskMeError, suggest
from maskme.strategies.base import Strategy

__all__ = [
    "ENTRY_POINT_GROUP",
    "RegisteredStrategy",
    "StrategyRegistrationError",
    "register_strategy",
    "get_strategy",
    "available_strategies",
    "unregister_strategy",
]

ENTRY_POINT_GROUP = "maskme.strategies"
logger = logging.getLogger(__name__)

StrategyType = TypeVar("StrategyType", bound=type[Strategy])


class StrategyRegistrationError(MaskMeError):
    """A strategy cannot be registered: its name is taken or its class is incomplete."""


@dataclass(frozen=True, kw_only=True)
class RegisteredStrategy:
    """A registry entry: the class and where it came from."""

    name: str
    strategy: type[Strategy]
    source: str
    builtin: bool


_registry: dict[str, RegisteredStrategy] = {}
_entry_points_loaded = False


def _source_of(cls: type) -> str:
    module = cls.__module__
    return "maskme" if module.startswith("maskme.") else module.split(".")[0]


@overload
def register_strategy(cls: StrategyType, /) -> StrategyType: ...
@overload
def register_strategy(
    cls: None = None, /, *, replace: bool = False, builtin: bool = False
) -> Callable[[StrategyType], StrategyType]: ...


def register_strategy(
    cls: StrategyType | None = None, /, *, replace: bool = False, builtin: bool = False
) -> StrategyType | Callable[[StrategyType], StrategyType]:
    """Register a strategy class under its ``name`` (usable as a decorator).

    A name that is already registered raises :class:`StrategyRegistrationError`
    unless ``replace=True``. A built-in name is never replaced by a custom
    strategy, even with ``replace=True``, so a plugin cannot silently change
    what ``hash`` means.
    """

    def decorate(strategy_cls: StrategyType) -> StrategyType:
        _check_complete(strategy_cls)
        name = strategy_cls.name
        existing = _registry.get(name)
        if existing is not None and existing.strategy is not strategy_cls:
            if existing.builtin and not builtin:
                raise StrategyRegistrationError(
                    f"strategy name '{name}' is built in and cannot be replaced; "
                    "choose another name for the custom strategy"
                )
            if not replace:
                raise StrategyRegistrationError(
                    f"strategy name '{name}' is already registered by {existing.source}; "
                    "choose another name, or pass replace=True to replace it"
                )
        _registry[name] = RegisteredStrategy(
            name=name, strategy=strategy_cls, source=_source_of(strategy_cls), builtin=builtin
        )
        return strategy_cls

    if cls is not None:
        return decorate(cls)
    return decorate


def unregister_strategy(name: str) -> None:
    """Remove a custom strategy (tests and notebooks re-registering a class use this)."""
    entry = _registry.get(name)
    if entry is None:
        raise StrategyRegistrationError(f"strategy '{name}' is not registered")
    if entry.builtin:
        raise StrategyRegistrationError(f"strategy '{name}' is built in and cannot be removed")
    del _registry[name]


def _check_complete(cls: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyRegistrationError(
            f"expected a subclass of maskme.Strategy, got {cls!r}"
        )
    missing = [attr for attr in ("name", "Params") if not hasattr(cls, attr)]
    if missing:
        raise StrategyRegistrationError(
            f"strategy class {cls.__name__} is missing {', '.join(missing)}"
        )
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise StrategyRegistrationError(
            f"strategy class {cls.__name__}: name must be an identifier, got {cls.name!r}"
        )


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
        except Exception as error:  # a broken plugin must not break MaskMe itself
            logger.warning(
                "failed to load strategy plugin %r from %s: %s",
                entry_point.name,
                entry_point.value,
                error,
            )
            continue
        if isinstance(loaded, type) and issubclass(loaded, Strategy):
            if loaded.name not in _registry or _registry[loaded.name].strategy is not loaded:
                try:
                    register_strategy(loaded)
                except StrategyRegistrationError as error:
                    logger.warning("skipped strategy plugin %r: %s", entry_point.name, error)


def get_strategy(name: str) -> type[Strategy]:
    """Return the strategy class registered under ``name``.

    Raises
    ------
    KeyError
        When no strategy has that name; the message has a did-you-mean.
    """
    if name not in _registry:
        _load_entry_points()
    entry = _registry.get(name)
    if entry is None:
        raise KeyError(f"unknown strategy '{name}'{suggest(name, _registry)}")
    return entry.strategy


def available_strategies() -> list[RegisteredStrategy]:
    """List every registered strategy, entry-point plugins included, sorted by name."""
    _load_entry_points()
    return [_registry[name] for name in sorted(_registry)]
