import pytest

from extraction.numbers import parse_number


@pytest.mark.parametrize("text,value", [
    ("两万三", 23000), ("二万五千", 25000), ("4.2万", 42000), ("1万9千9", 19900), ("19999", 19999),
    ("两千", 2000), ("一万", 10000), ("三", 3), ("仨", 3), ("俩", 2), ("十五", 15), ("二十一", 21),
    ("七十", 70), ("一百二", 120), ("一千零五", 1005), ("三零五", 305), ("两千五", 2500), ("１２", 12),
    ("1.5万", 15000), ("十", 10),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "几", "多", "abc"])
def test_not_a_number(text):
    assert parse_number(text) is None
