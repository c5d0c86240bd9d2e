"""Model outputs need a minimum number of residual degrees of freedom."""

import pytest

from fedsafe.disclosure import DisclosurePolicy, TableError
from fedsafe.disclosure.models import residual_df_problem

POLICY = DisclosurePolicy()


def test_residual_degrees_of_freedom():
    assert residual_df_problem(100, 5, POLICY) is None
    problem = residual_df_problem(14, 5, POLICY)
    assert problem is not None and "9 residual degrees of freedom" in problem
    assert residual_df_problem(15, 5, POLICY) is None  # exactly 10 is enough
    with pytest.raises(TableError, match="model parameters: expected a whole number"):
        residual_df_problem(10, -1, POLICY)
