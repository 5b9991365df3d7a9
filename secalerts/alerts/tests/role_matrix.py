"""Role-matrix rows for the alerts routes (see tests/test_role_matrix.py)."""

from tests.role_matrix import Row

ROWS: list[Row] = []
