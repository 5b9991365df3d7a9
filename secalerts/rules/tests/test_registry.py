from secalerts.rules.registry import group_key


def test_group_keys_of_equal_values_of_other_types_stay_apart():
    """Remembered keys: 1, 1.0 and True are equal in Python but not in a group's JSON."""
    groups = [(1,), (True,), (1.0,), ("1",), (None,), ("10.0.0.1", 1)]

    first = [group_key(7, group) for group in groups]
    again = [group_key(7, group) for group in reversed(groups)][::-1]

    assert first == again
    assert len(set(first)) == len(groups)
    assert group_key(True, (1,)) != group_key(1, (1,))
    assert group_key(7, ("x",)) == group_key(7, ["x"]) != group_key(8, ("x",))
