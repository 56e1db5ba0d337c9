"""The strategy registry: lookup, did-you-mean and name clashes."""

import pytest

from maskme.strategies import Strategy, StrategyParams, get_strategy, register_strategy
from maskme.strategies.registry import StrategyRegistrationError, unregister_strategy


def test_get_strategy_builtin_drop():
    assert get_strategy("drop").name == "drop"


def test_get_strategy_unknown_suggests():
    with pytest.raises(KeyError, match="did you mean 'drop'"):
        get_strategy("dorp")


def test_register_builtin_name_rejected():
    class Impostor(Strategy):
        name = "drop"
        Params = StrategyParams

        def apply(self, values, batch):
            return values

    with pytest.raises(StrategyRegistrationError, match="built in"):
        register_strategy(Impostor, replace=True)


def test_register_twice_needs_replace():
    class First(Strategy):
        name = "test_clash"
        Params = StrategyParams

        def apply(self, values, batch):
            return values

    class Second(First):
        pass

    register_strategy(First)
    try:
        with pytest.raises(StrategyRegistrationError, match="already registered"):
            register_strategy(Second)
        register_strategy(Second, replace=True)
        assert get_strategy("test_clash") is Second
    finally:
        unregister_strategy("test_clash")
