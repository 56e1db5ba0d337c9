"""Example MaskMe strategies, discovered through the ``maskme.strategies`` entry points.

Importing this package registers nothing: MaskMe imports each strategy class
through its entry point the first time a policy names it.
"""

from maskme_example_strategies.nhs_number import NhsNumber, NhsNumberParams
from maskme_example_strategies.rare_category import RareCategory, RareCategoryParams

__all__ = ["NhsNumber", "NhsNumberParams", "RareCategory", "RareCategoryParams"]
