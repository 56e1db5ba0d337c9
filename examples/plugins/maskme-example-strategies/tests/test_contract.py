"""Both strategies meet the MaskMe strategy contract."""

from maskme_example_strategies import NhsNumber, RareCategory

from maskme.testing import StrategyContract

VALID_NHS_NUMBERS = ["943 476 5919", "401-023-2137", "9434765919", "485 777 3457"]


class TestNhsNumberContract(StrategyContract):
    strategy = NhsNumber
    params = {"keep_last": 4}
    values = VALID_NHS_NUMBERS
    # A wrong check digit, a letter, and too few digits.
    invalid_values = ["943 476 5918{marker}", "94347659X9{marker}", "{marker}12345"]


class TestNhsNumberFullMaskContract(StrategyContract):
    strategy = NhsNumber
    params = {"keep_last": 0, "on_invalid": "mask", "separator": ""}
    values = VALID_NHS_NUMBERS


class TestRareCategoryContract(StrategyContract):
    strategy = RareCategory
    params = {"min_count": 2}
    values = ["White", "Asian", "White", "Black", "White", "Asian", "Mixed"]
