"""Places come from policy_kb's tables: every county and alias, city-only mentions, places outside Ningxia."""
import pytest

from extraction import extract, userdict_terms
from policy_kb.tables import cities, counties

ALL_NAMES = [(name, c.name) for c in counties() for name in (c.name, *c.aliases)]


def test_twenty_two_counties():
    assert len(counties()) == 22


@pytest.mark.parametrize("name,canonical", ALL_NAMES)
def test_every_county_name_and_alias(name, canonical):
    for text in (f"我是{name}的", f"{name} 低保 3口", f"家在{name}农村"):
        facts = extract(text).facts
        assert facts.get("county") == canonical, text
        assert "city" not in facts
    ent = [e for e in extract(f"我是{name}的").entities if e["entity"] == "county"]
    assert ent and ent[0]["value"] == canonical and ent[0]["text"].startswith(name)


@pytest.mark.parametrize("city", sorted(cities()))
def test_city_only_sets_city_not_county(city):
    for name in (city, *cities()[city]):
        facts = extract(f"我住在{name}，一家三口").facts
        assert facts.get("city") == city and "county" not in facts, name


@pytest.mark.parametrize("text", ["北京市朝阳区的", "我在兰州", "甘肃省平凉市", "西安市雁塔区", "内蒙古阿拉善左旗"])
def test_places_outside_ningxia_are_not_counties(text):
    facts = extract(text).facts
    assert "county" not in facts and "city" not in facts


def test_userdict_has_every_county_alias_and_policy_term():
    terms = dict(userdict_terms())
    for name, _ in ALL_NAMES:
        assert terms[name] == "ns"
    for term in ("低保边缘户", "五保户", "失业保险", "脱贫不稳定户"):
        assert term in terms
