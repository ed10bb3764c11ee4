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


# A spoken range (一万七八 = 17 000 to 18 000) counts its lower end, wherever it stands in the numeral;
# digits that are not neighbours, or a longer run, are still read one by one.
@pytest.mark.parametrize("text,value", [
    ("一万七八", 17000), ("两三万", 20000), ("七八千", 7000), ("三千七八", 3700), ("五六百", 500),
    ("二十七八", 27), ("三四", 3), ("一二三", 123), ("三五", 35), ("两万三", 23000),
])
def test_spoken_range_is_its_lower_end(text, value):
    assert parse_number(text) == value
