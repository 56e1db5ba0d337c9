"""The strategy registry: lookup, did-you-mean, name clashes, params and descriptions."""

from typing import Literal

import polars as pl
import pytest
from pydantic import ConfigDict, Field

from maskme.strategies import Strategy, StrategyParams, get_strategy, register_strategy
from maskme.strategies.registry import (
    StrategyParamsError,
    StrategyRegistrationError,
    available_strategies,
    get_registered,
    strategy_names,
    unregister_strategy,
    validate_params,
)
from maskme.testing import isolated_registry


class UpperParams(StrategyParams):
    """Params of the test strategy."""

    keep_first: int = Field(default=0, ge=0, description="Characters left as they are.")
    mode: Literal["upper", "lower"] = "upper"
    suffix: str | None = None
    level: int


class Upper(Strategy):
    """Upper-case a value.

    Notes
    -----
    Gives no privacy at all; a registry test double.
    """

    name = "postcode_area"
    Params = UpperParams

    def apply(self, values: pl.Series, batch: object) -> pl.Series:
        return values.str.to_uppercase()


def _strategy(strategy_name: str, base: type[Strategy] = Strategy) -> type[Strategy]:
    """Build a minimal concrete strategy class with the given name."""

    def apply(self: Strategy, values: pl.Series, batch: object) -> pl.Series:
        return values

    return type(
        f"Strategy_{strategy_name}",
        (base,),
        {"name": strategy_name, "Params": StrategyParams, "apply": apply, "__module__": __name__},
    )


@pytest.fixture(autouse=True)
def _restore_registry():
    with isolated_registry():
        yield


def test_get_strategy_builtin_drop():
    assert get_strategy("drop").name == "drop"


def test_get_registered_builtin_source():
    entry = get_registered("drop")
    assert entry.builtin is True
    assert entry.source == "maskme"


def test_get_strategy_unknown_suggests():
    with pytest.raises(KeyError, match="did you mean 'drop'"):
        get_strategy("dorp")


def test_unknown_suggests_custom_name():
    register_strategy(Upper)
    with pytest.raises(KeyError, match="did you mean 'postcode_area'"):
        get_strategy("postcode_aera")


def test_unknown_without_close_name_lists_command():
    with pytest.raises(KeyError) as caught:
        get_strategy("zzzzzzzz")
    message = caught.value.args[0]
    assert "did you mean" not in message
    assert "maskme strategies" in message


def test_decorator_returns_class_and_registers():
    decorated = register_strategy(Upper)
    assert decorated is Upper
    assert get_strategy("postcode_area") is Upper
    assert "postcode_area" in strategy_names()
    assert get_registered("postcode_area").source == __name__.split(".")[0]


def test_decorator_with_arguments():
    @register_strategy(replace=False)
    class Masked(Strategy):
        """Test double."""

        name = "masked_for_test"
        Params = StrategyParams

        def apply(self, values, batch):
            return values

    assert get_strategy("masked_for_test") is Masked


def test_register_same_class_twice_is_noop():
    register_strategy(Upper)
    register_strategy(Upper)
    assert get_strategy("postcode_area") is Upper


def test_register_builtin_name_rejected():
    impostor = _strategy("drop")
    with pytest.raises(StrategyRegistrationError, match="built in"):
        register_strategy(impostor, replace=True)
    assert get_strategy("drop") is not impostor


def test_builtin_flag_reserved_for_maskme():
    with pytest.raises(StrategyRegistrationError, match="reserved"):
        register_strategy(_strategy("fake_builtin"), builtin=True)
    assert "fake_builtin" not in strategy_names()


def test_register_twice_needs_replace():
    first = _strategy("test_clash")

    class Second(first):  # a different class under the same name
        pass

    register_strategy(first)
    with pytest.raises(StrategyRegistrationError, match=f"already registered by {__name__.split('.')[0]}"):
        register_strategy(Second)
    assert get_strategy("test_clash") is first
    register_strategy(Second, replace=True)
    assert get_strategy("test_clash") is Second


def test_redefined_class_replaces_without_flag():
    # Two definitions with the same module and qualified name, as when a
    # notebook cell is run again.
    first = _strategy("redefined")
    second = _strategy("redefined")
    register_strategy(first)
    register_strategy(second)
    assert get_strategy("redefined") is second


def test_unregister_custom():
    register_strategy(Upper)
    unregister_strategy("postcode_area")
    with pytest.raises(KeyError):
        get_strategy("postcode_area")


def test_unregister_builtin_rejected():
    with pytest.raises(StrategyRegistrationError, match="cannot be removed"):
        unregister_strategy("drop")


def test_unregister_unknown_rejected():
    with pytest.raises(StrategyRegistrationError, match="not registered"):
        unregister_strategy("never_registered")


def test_register_rejects_non_strategy():
    with pytest.raises(StrategyRegistrationError, match="expected a subclass"):
        register_strategy(int)  # type: ignore[type-var]


def test_register_rejects_missing_name():
    class Nameless(Strategy):
        Params = StrategyParams

        def apply(self, values, batch):
            return values

    with pytest.raises(StrategyRegistrationError, match="missing name"):
        register_strategy(Nameless)


def test_register_rejects_bad_name():
    with pytest.raises(StrategyRegistrationError, match="identifier"):
        register_strategy(_strategy("has-dash"))


def test_register_rejects_plain_pydantic_params():
    from pydantic import BaseModel

    class Loose(BaseModel):
        level: int = 1

    cls = _strategy("loose_params")
    cls.Params = Loose
    with pytest.raises(StrategyRegistrationError, match="subclass of maskme.StrategyParams"):
        register_strategy(cls)


def test_register_rejects_unfrozen_params():
    class Mutable(StrategyParams):
        model_config = ConfigDict(frozen=False)

    cls = _strategy("mutable_params")
    cls.Params = Mutable
    with pytest.raises(StrategyRegistrationError, match="frozen"):
        register_strategy(cls)


def test_register_rejects_params_allowing_extra():
    class Lenient(StrategyParams):
        model_config = ConfigDict(extra="ignore")

    cls = _strategy("lenient_params")
    cls.Params = Lenient
    with pytest.raises(StrategyRegistrationError, match="reject"):
        register_strategy(cls)


def test_register_rejects_abstract_apply():
    class NoApply(Strategy):
        name = "no_apply"
        Params = StrategyParams

    with pytest.raises(StrategyRegistrationError, match="does not implement apply"):
        register_strategy(NoApply)


def test_validate_params_returns_model():
    params = validate_params(Upper, {"level": 2, "mode": "lower"})
    assert isinstance(params, UpperParams)
    assert params.level == 2
    assert params.mode == "lower"
    assert params.keep_first == 0


def test_validate_params_by_name():
    register_strategy(Upper)
    assert validate_params("postcode_area", {"level": 1}).level == 1


def test_validate_params_unknown_name_suggests():
    with pytest.raises(StrategyParamsError) as caught:
        validate_params(Upper, {"level": 1, "keep_frist": 2})
    assert caught.value.problems[0][0] == "keep_frist"
    assert "did you mean 'keep_first'" in caught.value.problems[0][1]
    assert caught.value.exit_code == 2


def test_validate_params_collects_every_problem():
    with pytest.raises(StrategyParamsError) as caught:
        validate_params(Upper, {"keep_first": -1, "mode": "title"})
    paths = sorted(path for path, _ in caught.value.problems)
    assert paths == ["keep_first", "level", "mode"]


def test_validate_params_message_omits_value():
    with pytest.raises(StrategyParamsError) as caught:
        validate_params(Upper, {"level": "secret-value-4711"})
    assert "secret-value-4711" not in str(caught.value)
    assert "level" in str(caught.value)


def test_describe_parameters():
    register_strategy(Upper)
    description = get_registered("postcode_area").describe()
    parameters = {parameter.name: parameter for parameter in description.parameters}
    assert list(parameters) == ["keep_first", "mode", "suffix", "level"]
    assert parameters["keep_first"].type == "integer >= 0"
    assert parameters["keep_first"].default == 0
    assert parameters["keep_first"].description == "Characters left as they are."
    assert parameters["mode"].type == '"upper" | "lower"'
    assert parameters["suffix"].type == "string | null"
    assert parameters["level"].required is True
    assert parameters["mode"].required is False
    assert description.summary == "Upper-case a value."
    assert description.properties == {
        "deterministic": True,
        "reversible": False,
        "keeps_type": False,
        "two_pass": False,
        "removes_field": False,
    }


def test_available_strategies_sorted_and_includes_custom():
    register_strategy(Upper)
    names = [entry.name for entry in available_strategies()]
    assert names == sorted(names)
    assert "postcode_area" in names
    assert "drop" in names


def test_isolated_registry_restores():
    with isolated_registry():
        register_strategy(_strategy("temporary_one"))
        assert "temporary_one" in strategy_names()
    assert "temporary_one" not in strategy_names()
