"""Rule-based fact extraction for Chinese caller speech and hotline agents' notes.

How it works: every rule is a regex over the whole text; all matches are collected, the longest
non-overlapping ones win (低保边缘户 beats 低保), and each winner is checked for negation inside its
clause (不/没/没有/未/非 before it, with only filler verbs in between, or 没有/不是 right after it).
Word-boundary regexes are useless in Chinese, so boundaries are explicit lookarounds or separators.
Scalars said later in the same text win (corrections: 不对，是四口人).
Each winner is then read in its context (`_context`): said of somebody else (我邻居是低保户), in the past
(以前是低保户; a later 退了 ends it, 现在还是 keeps it), hedged (好像, 可能, 待核实), supposed (如果, 要是, …的话)
or only about to happen (快要失业了) — none of these is a fact about the caller now, so the field stays
unknown rather than guessed. A question and its answer in one message (有没有残疾？没有) are read together.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from extraction import lexicon, when
from extraction.numbers import NUMERAL, as_int, fold_width, has_spoken_range, parse_number

BOOL_FIELDS = (
    "unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
    "severe_disability", "severe_illness", "cannot_self_care", "reemployed", "rigid_expenses",
    "stranded", "urgent",
)
NUMBER_FIELDS = ("household_size", "months_without_income", "age", "medical_out_of_pocket")

# Clause separators: punctuation, whitespace (agents' notes) and contrastive conjunctions.
_CLAUSE_SPLIT = re.compile(
    r"[，,。！!？?；;：:、\n\r\t …~～（）()【】\[\]“”\"']+|(?<![0-9])\.(?![0-9])|但是|可是|不过|然而|而是|但|另外|而且"
)
_SENTENCE_SPLIT = re.compile(r"[。！!？?；;\n\r]+")

# A negation cue followed only by filler (verbs of holding/joining, pronouns, particles).
_FILLER = (
    r"(?:是|属于|算|在|有|办|办理|办过|评|评上|评为|纳入|进|进入|吃|领|拿|享受|参加|参保|交|缴|缴纳|买|上|"
    r"过|了|到|个|啥|什么|任何|我|我们|俺|俺们|额|咱|咱们|家|他|她|他们|这个|那个|也|都|还|就|被|再|给|"
    r"人|的|成|得|能|曾|曾经|经|一直|从来|根本|划|列|入|确|被确|去|感染)"
)
_NEG_TAIL = re.compile(
    # an A-not-A question (是不是 / 有没有 / 能不能 / 可不可以) is no negation; 但是没有 / 我可没有 are
    rf"(?<!是(?=不))(?<!有(?=没))(?<!能(?=不))(?<!可(?=不))(?:不是|不属于|不算|不在|没有|没得|木有|莫有|没|未|非|不|无){_FILLER}*$"
)
_NEG_AFTER = re.compile(
    r"^(?:也|都|还|一直|从来|根本)?(?:没有|没|不是|未|木有)(?P<verb>享受|交|缴|参加|办|领|评上|纳入|上|有|吃)?(?:过|了)?"
    r"(?:的|啊|呀|呢|嘞)?$"
)

Value = Any

# Ningxia (and wider north-western) speech says 莫 for 没: 莫有 / 莫交过 / 莫吃低保 / 一分钱都莫有了. Folded to 没
# before any rule runs, character for character, so every negation, answer and urgency rule reads it and
# spans stay valid. Only before what 没 negates (not 约莫, 莫急, 莫非, or 莫 as a surname).
_DIALECT_NEG = re.compile(
    r"(?<![约莫])莫(?=有|得|交|缴|吃|领|拿|参|买|上|办|评|挣|收入|钱|工作|活|找|法|人|啥|什么|了|批|纳|给|复|返|地方|处|饭|米|粮|"
    r"低保|五保|特困|回|再|开|见|发|到|进|看|去|"
    r"[，,。！!？?；;\s]|$)")


# Typed slips of the same length (低包户 for 低保户), folded like the dialect.
_TYPOS = re.compile(r"低包|底保|低宝|氐保")


def fold_dialect(text: str) -> str:
    """莫有 → 没有, 低包 → 低保 (same length: spans into the caller's words stay valid)."""
    text = _DIALECT_NEG.sub("没", text) if "莫" in text else text
    return _TYPOS.sub("低保", text) if _TYPOS.search(text) else text


@dataclass(frozen=True)
class Rule:
    entity: str  # entity name ("status" for status codes)
    pattern: re.Pattern
    value: Value | Callable[[re.Match], Value]  # fixed value, or computed from the match (None → no fact)
    neg: str = "ignore"  # flip | not_status | other | ignore (drop when negated) | none (never negated)
    requires: re.Pattern | None = None  # must occur in the same sentence
    avoid: re.Pattern | None = None  # must not occur in the same sentence (在家 for being stranded away from home)
    requires_whole_text: bool = False  # `requires` may occur anywhere in the message (大学毕业。到现在没找到工作。)
    requires_also: re.Pattern | None = None  # a second thing that must occur in the same sentence too
    not_before: re.Pattern | None = None  # must not end the text before the match (within the clause)
    not_after: re.Pattern | None = None  # must not start the text after the match
    priority: int = 0
    also: tuple = ()  # further (entity, value) pairs the same words state (被困在 → stranded too)
    third_party: bool = False  # drop when the clause before it names somebody else and not the caller
    tense: bool = False  # a state that can lie in the past (以前是低保户): dropped unless said to hold now
    # A duration that says how long ago something happened (毕业两年了 / 两年前毕业) counts only when the
    # sentence also says, in so many words, that there is no income or no work (`strict`).
    anchored: tuple[re.Pattern, re.Pattern, re.Pattern] | None = None  # (before, after, strict)


@dataclass
class Extraction:
    facts: dict = field(default_factory=dict)
    entities: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    urgent_reason: str | None = None

    def to_dict(self) -> dict:
        return {"facts": self.facts, "entities": self.entities, "measures": self.measures,
                "urgent_reason": self.urgent_reason}


def _alt(terms) -> str:
    return "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))


def _rx(pattern: str | None) -> re.Pattern | None:
    return re.compile(pattern) if pattern else None


def _num(group: str = "num", scale: float = 1, lo: float = 0, hi: float = 1e9, offset: float = 0, exact: bool = False):
    def value(m: re.Match):
        if exact and has_spoken_range(m.group(group)):
            return None  # 四五口人: a count of people is exact or unknown
        v = parse_number(m.group(group))
        if v is None:
            return None
        v = v * scale + offset
        return as_int(v) if lo <= v <= hi else None
    return value


_RANGE = re.compile(r"([一二两三四五六七八九])([二两三四五六七八九十])")
_RANGE_ORDER = "一二三四五六七八九十"


def _months(scale: float = 1, lo: float = 0, hi: float = 120, offset: float = 0):
    """Months from a numeral; a spoken range (三四个月, 五六个月, 两三年) counts its lower end, not 34."""
    plain = _num(scale=scale, lo=lo, hi=hi, offset=offset)

    def value(m: re.Match):
        r = _RANGE.fullmatch(m.group("num"))
        if r:
            a, b = (_RANGE_ORDER.index(c.replace("两", "二")) for c in r.groups())
            if b == a + 1:
                v = (a + 1) * scale + offset
                return as_int(v) if lo <= v <= hi else None
        return plain(m)
    return value


_CALENDAR_BEFORE = re.compile(lexicon.CALENDAR_MONTH_BEFORE)
_CALENDAR_AFTER = re.compile(lexicon.CALENDAR_MONTH_AFTER)


def _not_calendar(value_fn):
    """去年6月 / 从三月起 / 6月毕业: a month of the calendar names no count of months (6个月 does)."""
    def value(m: re.Match):
        if not m.group("counter") and not re.search("[两俩仨]", m.group("num")):
            v = parse_number(m.group("num"))
            text = m.string
            if v is not None and 1 <= v <= 12 and (
                    _CALENDAR_BEFORE.search(text, max(0, m.start() - 4), m.start())
                    or _CALENDAR_AFTER.match(text, m.end())):
                return None
        return value_fn(m)
    return value


def _money(m: re.Match):
    """A sum of money: it needs 万/千 or a currency word, or three digits (自付19999)."""
    raw = m.group("num")
    v = parse_number(raw)
    if v is None or v < 0:
        return None
    if not (m.group("unit") and re.search("元|块|圆", m.group(0))) and not re.search("[万千]", raw) and v < 100:
        return None
    return as_int(v)


@lru_cache(maxsize=1)
def _rules() -> tuple[Rule, ...]:
    from policy_kb.tables import cities, counties

    rules: list[Rule] = []
    sep = lexicon.SEP

    # Counties: canonical names and every alias from policy_kb's table (never typed twice here).
    for county in counties():
        names = {county.name, *county.aliases}
        block = lexicon.PLACE_BLOCKERS.get(county.name, {})
        if county.name.endswith("县"):  # 隆德县城: the county and its town (urban)
            rules.append(Rule("county", re.compile(rf"(?:{_alt(names)})县城(?:里)?"), county.name, neg="ignore",
                              priority=6, also=(("residence", "urban"),)))
        rules.append(Rule(
            "county", re.compile(rf"(?:{_alt(names)})(?:{re.escape(county.name[-1])})?"), county.name,
            neg="ignore", not_before=_rx(block.get("before")),
            not_after=_rx(block.get("after") or lexicon.PLACE_NOT_AFTER), priority=5))
    for city, aliases in cities().items():
        rules.append(Rule("city", re.compile(rf"(?:{_alt({city, *aliases})})(?:市)?"), city,
                          neg="ignore", not_after=_rx(lexicon.PLACE_NOT_AFTER), priority=4))

    # Statuses, residence, booleans, employment, urgency, measures: terms from the lexicon.
    for spec in lexicon.TERM_RULES:
        rules.append(Rule(
            spec["entity"], re.compile(spec["re"]), spec["value"], neg=spec.get("neg", "ignore"),
            requires=_rx(spec.get("requires")), not_before=_rx(spec.get("not_before")),
            not_after=_rx(spec.get("not_after")), priority=spec.get("priority", 0),
            avoid=_rx(spec.get("avoid")), requires_whole_text=spec.get("requires_whole_text", False),
            requires_also=_rx(spec.get("requires_also")),
            also=tuple((spec.get("also") or {}).items()), third_party=spec.get("third_party", False),
            tense=spec.get("tense", False)))
        if spec["entity"] == "status":
            # What became of the status decides (申请了低保还没批下来 / 以前不是低保户，去年评上了); these spans
            # are longer than the bare term, so they win over it and over a negation before it.
            rules.append(Rule(
                "not_status", re.compile(rf"{lexicon.STATUS_REMOVED_BEFORE}(?:{spec['re']})"), spec["value"], neg="none",
                requires=_rx(spec.get("requires")), requires_also=_rx(spec.get("requires_also")), priority=8,
                third_party=True,
                not_before=re.compile(lexicon.STATUS_SUPPOSED_BEFORE)))
            for outcome, entity, prio in ((lexicon.STATUS_FAILED, "not_status", 8), (lexicon.STATUS_GRANTED, "status", 7)):
                rules.append(Rule(
                    entity, re.compile(rf"(?:{spec['re']}){lexicon.STATUS_GAP}{outcome}"), spec["value"], neg="none",
                    requires=_rx(spec.get("requires")), requires_also=_rx(spec.get("requires_also")), priority=prio,
                    third_party=True,
                    not_before=re.compile(lexicon.STATUS_SUPPOSED_BEFORE)))

            rules.append(Rule(
                "status", re.compile(rf"{lexicon.STATUS_GRANTED_BEFORE}(?:{spec['re']})"), spec["value"],
                neg="not_status", requires=_rx(spec.get("requires")), requires_also=_rx(spec.get("requires_also")),
                priority=7, third_party=True, tense=True,
                not_before=re.compile(f"{lexicon.STATUS_GRANTED_NOT_BEFORE}|{lexicon.STATUS_SUPPOSED_BEFORE}")))

    # An either-or (是低保户还是特困户, 低保还是五保我也搞不清) asks or doubts; it holds neither.
    any_status = "|".join(f"(?:{spec['re']})" for spec in lexicon.TERM_RULES if spec["entity"] == "status")
    rules.append(Rule("_skip", re.compile(rf"(?:{any_status})(?:的)?(?:还是|或者|或是|要么是?|或)(?:是)?(?:{any_status})"),
                      "skip", neg="none", priority=5))

    n = NUMERAL
    num_rules = [
        # household size
        ("household_size", rf"一家(?:子)?(?P<num>{n})口(?:人)?", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"一家(?:子|人)?(?:有|就|共|一共|总共)?(?P<num>{n})(?:个人|口人|口子)", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?P<num>{n})口之家", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?<=家)(?P<num>{n})口子(?:人)?", _num(lo=1, hi=30, exact=True), None),  # 我们家三口子 (not 两口子 alone)
        ("household_size", rf"(?P<num>{n})口(?:人)?(?=人|$|家|{sep})", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?P<num>{n})口人", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?:家里|家中|屋里|全家|家里头|俺家|我家|咱家|家庭|家庭人口|人口|屋里头|屋头|家里边|家里面|屋里人|家里人)"
                           rf"(?:有|就|就有|总共|一共|共|人|(?:连|算上|加上|包括|算|加)(?:我|俺|额|娃娃|娃|老汉|婆姨|老人|孩子|老的|小的|和|带)+|在内|一起|"
                           rf"大人娃娃|大人孩子|大大小小|老老小小|老少|(?:我|俺|额)(?:和|跟|带着|带)(?:老汉|老伴|婆姨|娃娃|娃|孩子|老婆|"
                           rf"媳妇|男人|我妈|我爸|老人)|更正为|改为|应为|应该是|实际是|其实是|现在是|变成)*"
                           rf"(?P<num>{n})(?:个人|个(?=$|{sep}|都|全|一起|一块|过|生活|住|吃|在家)|口人|口子|口|人)(?!都被|被|在隔离|隔离)", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"{lexicon._TOKEN_BEFORE}(?P<num>{n})人(?:户)?(?=$|{sep})", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?:一共|总共|共|全家)(?P<num>{n})(?:口人|口|个人)", _num(lo=1, hi=30, exact=True), None),
        ("household_size", rf"(?P<num>{n})人户", _num(lo=1, hi=30, exact=True), None),
        # agents' shorthand: 户4人 / 本户3人 / 家4人 / 一家4人 (not 人均, 人次)
        ("household_size", rf"(?:户|家)(?:内|里|中|庭)?(?:共|有|计|一共|总共)?(?P<num>{n})人(?!均|次|头|份|民币|以上|左右)",
         _num(lo=1, hi=30, exact=True), None),
        # 就俺们俩过 / 只有我们三个人生活: the people who live together, counted by the caller
        ("household_size", rf"(?:我们|俺们|额们|咱们|咱)(?:家)?(?:就|只)?(?:俩|(?P<num>{n})个(?:人)?)(?:一起|一块|一块儿)?"
                           rf"(?=过|生活|住|搭伙)", lambda m: 2 if m.group("num") is None else _num(lo=1, hi=30, exact=True)(m), None),
        # 就我跟我老伴两个人 / 老家就我爸我妈两个人 / 就两口子: the people who live there, counted after 就/只
        ("household_size", rf"(?:就|只有|只)(?!剩)(?:[^，,。！!？?；;\s剩]{{0,8}}?)(?P<num>{n})(?:个人|口人|口子|个)(?=$|{sep}|过|住|生活|在|了)",
         _num(lo=1, hi=30, exact=True), None),
        # 一个人在中宁乡里住着 / 我一个人过: a household of one
        ("household_size", rf"(?<![带养有])(?:我|俺|额|他|她|老人|本人|自己|就)?一个人(?=(?:在[^，,。！!？?；;\s]{{0,8}}?)?(?:住|过|生活))",
         lambda m: 1, None),
        # 我一个人带三个娃: the parent and the children
        ("household_size", rf"(?:我|俺|额)一个人(?:带|拉扯|养)(?:着)?(?P<num>{n})个(?:娃娃|娃|孩子|小孩)", _num(lo=2, hi=30, offset=1, exact=True),
         None),
        # months without income (needs an income-loss context, or a correction, in the sentence)
        ("months_without_income", rf"快(?P<num>{n})个月", _months(offset=-1), lexicon.MONTHS_CONTEXT),
        ("months_without_income", rf"(?P<num>{n})个半月", _months(), lexicon.MONTHS_CONTEXT),  # 三个半月: 3 whole months
        ("months_without_income", r"个把月", lambda m: 1, lexicon.MONTHS_CONTEXT),
        # 3-4个月 / 三到四个月: the lower end, as for 三四个月
        ("months_without_income", rf"(?P<num>{n})(?:个月)?(?:-|~|～|到|至|—)(?:{n})(?:个多|个来|个)?月", _months(),
         lexicon.MONTHS_CONTEXT),
        # 四个来月 / 十来个月 / 两个多月: about that many, counted as the number said
        ("months_without_income", rf"(?P<num>{n})(?P<counter>个多|多个|个来|来个|个)?月(?:了|之久|有余|多)?(?!份|底|初|中旬|开始|号|日|以前|前)"
                                  rf"(?!(?<=[0-9{lexicon.CN_DIGITS}十]月)(?:到|至|-|~|～|—))",  # 10月到12月: calendar
         _not_calendar(_months()), lexicon.MONTHS_CONTEXT),
        ("months_without_income", rf"(?P<num>{n})(?:个多|多个|个)?礼拜", _num(scale=0, lo=0, hi=0), lexicon.MONTHS_CONTEXT),
        ("months_without_income", rf"(?P<num>{n})(?:年|年来)(?:多|了|之久)?(?![0-9]|后|以后|之后)", _months(scale=12, lo=12),
         lexicon.MONTHS_CONTEXT),
        # age
        ("age", rf"(?P<num>{n})(?:多|来)?(?:周)?岁", _num(lo=0, hi=130), None),
        ("age", rf"(?:{lexicon._TOKEN_BEFORE}|都|已经|(?<![他她])(?:我|俺|额)(?:今年|都|已经)?)(?P<num>{n})(?:多|来)?了(?=$|{sep})",
         _num(lo=50, hi=120), None),
        ("months_without_income", rf"(?:大)?半年(?:多|了)?", lambda m: 6, lexicon.MONTHS_CONTEXT),
        ("months_without_income", rf"快半年", lambda m: 5, lexicon.MONTHS_CONTEXT),  # nearly: not yet 6
        ("months_without_income", rf"快(?P<num>{n})年", _months(scale=12, lo=11, offset=-1), lexicon.MONTHS_CONTEXT),
        ("months_without_income", rf"(?P<num>{n})年半", _num(scale=12, lo=12, hi=120, offset=6), lexicon.MONTHS_CONTEXT),
        # 七旬老人 / 年过八旬: decades of age
        ("age", rf"(?:年过|已过|年逾)?(?P<num>[{lexicon.CN_DIGITS}])旬", _num(scale=10, lo=50, hi=110), None),
        ("age", rf"年近(?P<num>[{lexicon.CN_DIGITS}])旬", _num(scale=10, lo=50, hi=110, offset=-1), None),
        # (今年两个月没收入 / 今年三万块: a count or a sum after 今年, no age)
        ("age", rf"(?:今年|年纪|岁数|年龄)(?:已经|都|有|才)?(?P<num>{n})(?![0-9{lexicon.CN_DIGITS}十百千万{lexicon.COUNTERS}])"
                rf"(?:多|来)?(?:了|岁)?", _num(lo=1, hi=130), None),
        ("age", rf"(?:老汉|老人|老人家|老伴|我妈|我爸|老娘|老爹|老母亲|老父亲|奶奶|爷爷|外婆|外公|姥姥|姥爷|大大|爹|娘|"
                rf"婆婆|公公|父亲|母亲)"
                rf"(?:今年|都|已经)*(?P<num>{n})(?:多|来)?了", _num(lo=40, hi=130), None),
        # medical out-of-pocket money (needs a medical-cost context)
        # (a year, a month, a day or a count of days is no sum: 2023年3月住院花了好几万)
        ("medical_out_of_pocket", rf"(?P<num>{n})(?![0-9.〇零一二三四五六七八九十百千万亿两俩仨年月日号天次回趟])(?P<unit>多|来|出头|左右|以上|元|块钱|块|圆)*", _money,
         lexicon.MEDICAL_COST),
        # measures by number: 第五条, 第19条措施, 措施5
        ("measure", rf"第(?P<num>{n})(?:条|项|个措施|号措施|款)", _num(lo=1, hi=20), None),
        ("measure", rf"措施(?:第)?(?P<num>{n})(?!{n})", _num(lo=1, hi=20), None),
        ("measure", rf"(?P<num>{n})号措施", _num(lo=1, hi=20), None),
    ]
    anchored = (re.compile(lexicon.GRADUATED_BEFORE), re.compile(lexicon.GRADUATED_AFTER), re.compile(lexicon.NO_INCOME_STRICT))
    for entity, pattern, value, requires in num_rules:
        rules.append(Rule(entity, re.compile(pattern), value, neg="ignore", requires=_rx(requires),
                          # 3-4个月's second numeral, 10月到12月 (calendar months, not a count), and bounds
                          not_before=_rx(rf"[0-9.]$|第$|月份?(?:到|至|-|~|～|—)$|{lexicon.NUMBER_BOUND_BEFORE}"
                                         + (f"|{lexicon.BENEFIT_SPAN_BEFORE}" if entity == "months_without_income" else ""))
                          if entity != "measure" else None,
                          not_after=_rx(lexicon.NUMBER_BOUND_AFTER
                                        + (f"|{lexicon.BENEFIT_SPAN_AFTER}" if entity == "months_without_income" else ""))
                          if entity != "measure" else None,
                          priority=1,
                          anchored=anchored if entity == "months_without_income" else None))
    return tuple(rules)


_OUR_PLACE = re.compile(r"(?:我|俺|额|咱)(?:们)?(?:的)?(?=村|乡|镇|社区|庄子|组|单位|街道|小区)")

# The speaker, then at most a copula or a holding verb, right before a status: a statement about themselves.
_SPEAKER_STATES = re.compile(r"(?:我|俺|额|咱)(?:们)?(?:家|屋里|屋里头)?(?:也|都|就|还|本身|现在)?"
                             r"(?:是|吃着|吃的|领着|领的|享受着|属于|算)?$")


@dataclass
class _Hit:
    rule: Rule
    start: int
    end: int
    value: Value


@lru_cache(maxsize=1)
def _third_party() -> re.Pattern:
    return re.compile(lexicon.THIRD_PARTY)


@lru_cache(maxsize=1)
def _first_person() -> re.Pattern:
    return re.compile(lexicon.FIRST_PERSON)


# Where the speaker stands towards a fact: facts about the place stay whoever is talked about, and an
# emergency is never dropped (measure 9: help first).
_CONTEXT_EXEMPT = frozenset({"county", "city", "residence", "urgent", "measure", "_skip"})
_NEVER_SUPPOSED = frozenset({"urgent", "measure", "_skip", "county", "city"})
_PLACE_FIELDS = frozenset({"county", "city", "residence"})  # where somebody else lives is not where the caller does
# Yes/no facts a caller can answer with 我没有 / 我也是 after saying them of somebody else.
_ELLIPSIS_BOOLS = frozenset({"covid_confirmed", "quarantined_member", "severe_disability", "severe_illness",
                             "cannot_self_care", "unemployment_insurance"})
_ESTIMATES = frozenset({"大概", "大约是", "估计", "估摸", "约莫", "差不多"})
_HEDGE_REACH = 8
_CONTEXT_REACH = 24  # characters before a fact searched for who, when and how sure  # characters between a hedge (好像, 可能) and the fact it hedges


@lru_cache(maxsize=1)
def _context_tables() -> dict[str, re.Pattern]:
    names = ("PERSON_MENTION", "TIME_MENTION", "PAST_ASPECT_BEFORE", "PAST_ASPECT_AFTER", "STILL_HELD", "PAST_ENDED",
             "HEDGE_BEFORE", "HEDGE_BEFORE_NUMBER", "HEDGE_CLAUSE", "SELF_ELLIPSIS", "SUPPOSE_BEFORE", "SUPPOSE_AFTER",
             "SUPPOSE_CLAUSE", "FUTURE_BEFORE", "MODAL_BEFORE", "DURATION_AHEAD")
    tables = {name: re.compile(getattr(lexicon, name)) for name in names}
    tables["LEAD_OTHER"] = re.compile(rf"(?:我|俺|额|咱)?(?:们)?(?:的|家)?(?:{lexicon.OTHER_PERSON})")
    return tables


def _last_person(text: str, start: int, end: int) -> str | None:
    """Who the words text[start:end] last name: 'other' (邻居, 我表哥, 邻居家的娃), 'self' (我, 俺家, 老汉) or None."""
    last = None
    for m in _context_tables()["PERSON_MENTION"].finditer(text, start, end):
        last = m
    if last is None:
        return None
    return "other" if last.group("other") else "self"


def _others_ahead(text: str, clauses: list[tuple[int, int]], sentences: list[tuple[int, int]]) -> dict:
    """Clauses that name nobody themselves but continue a clause about somebody else
    (我邻居家老汉瘫痪了，也是低保户): {clause: True}. Only a clause that opens with that person hands it on."""
    out, handing = {}, False
    lead = _context_tables()["LEAD_OTHER"]
    sentence = None
    for clause in clauses:
        here = _span_of(sentences, clause[0])
        if here != sentence:
            sentence, handing = here, False
        who = _last_person(text, clause[0], clause[1])
        if who is None:
            out[clause] = handing
        else:
            out[clause] = False
            handing = who == "other" and lead.match(text, clause[0]) is not None
    return out


def _context(text: str, hit: "_Hit", clause: tuple[int, int], negated: bool, others_ahead: dict,
             prev_clause: tuple[int, int] | None, next_clause: tuple[int, int] | None, sentence_end: int) -> str | None:
    """Why a fact the words state is not the caller's fact now: 'other' (said of somebody else),
    'hedged' (好像, 可能, 待核实), 'past' (以前是低保户), 'ended' (那时候吃低保，后来…退了: not held),
    'still' (以前是，现在还是: held), or None."""
    entity = hit.rule.entity
    t = _context_tables()
    lo = max(clause[0], hit.start - _CONTEXT_REACH)  # context words are near; long unpunctuated notes stay fast
    if entity in _PLACE_FIELDS or entity not in _CONTEXT_EXEMPT:
        who = _last_person(text, lo, hit.start)
        if who == "other" or (who is None and others_ahead.get(clause)):
            return "other"
    if entity not in _NEVER_SUPPOSED:
        before = text[lo:hit.start]
        supposed = any(m.start() < hit.start for m in t["SUPPOSE_BEFORE"].finditer(text, lo, min(clause[1], hit.end + 12)))
        if (supposed or t["SUPPOSE_AFTER"].match(text, hit.end, clause[1])
                or (prev_clause is not None and t["SUPPOSE_CLAUSE"].match(text[prev_clause[0]:prev_clause[1]]))):
            return "hedged"  # 如果是低保户 / 低保户的话 / 打个比方，我是低保户
        if t["FUTURE_BEFORE"].search(before) and not (entity == "can_return_to_work" and hit.value is True):
            return "hedged"  # 快要失业了 / 马上就评上低保了: not yet (下个月要复工了 is able to return)
        if hit.rule.tense and t["MODAL_BEFORE"].search(before):
            return "hedged"  # 告诉我们能吃低保 / 可以评特困: could be had, not held
    if entity in _NEVER_SUPPOSED and entity not in _PLACE_FIELDS:
        return None
    before = text[lo:hit.start]
    hedge = t["HEDGE_BEFORE_NUMBER" if entity in NUMBER_FIELDS else "HEDGE_BEFORE"]
    for m in hedge.finditer(text, lo, clause[1]):  # (its lookahead sees the clause: 不知道…在哪 asks, it doubts nothing)
        if m.end() <= hit.start and hit.start - m.end() <= _HEDGE_REACH and not (
                m.group(0) in _ESTIMATES and t["DURATION_AHEAD"].match(text, hit.end, clause[1])):
            return "hedged"  # (老人大概瘫痪了两年 estimates the two years, not the paralysis)
    if next_clause is not None and next_clause[0] < sentence_end and t["HEDGE_CLAUSE"].match(text[next_clause[0]:next_clause[1]]):
        return "hedged"
    if entity in _CONTEXT_EXEMPT:
        return None
    if hit.rule.tense:
        last = None
        for m in t["TIME_MENTION"].finditer(text, lo, hit.end):  # 原低保户: 原 looks at what follows
            if m.start() < hit.start:
                last = m
        past = last is not None and last.group("past") is not None
        if not past and not negated:
            past = bool(t["PAST_ASPECT_BEFORE"].search(before) or t["PAST_ASPECT_AFTER"].match(text[hit.end:clause[1]]))
        if past:
            ahead = min(sentence_end, hit.end + 2 * _CONTEXT_REACH)
            if t["STILL_HELD"].search(text, hit.end, ahead):
                return "still"
            if hit.rule.entity == "status" and t["PAST_ENDED"].search(text, hit.end, ahead):
                return "ended"
            return "past"
    return None


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _CLAUSE_SPLIT.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_SPLIT.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _span_of(spans, pos) -> tuple[int, int]:
    """The (start, end) span of `spans` (sorted, disjoint) holding pos; binary search for long notes."""
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    if i >= 0 and spans[i][0] <= pos < spans[i][1]:
        return spans[i]
    return pos, pos


def _candidates(text: str, clauses: list[tuple[int, int]], others: list | None = None) -> list[_Hit]:
    """The winning rule matches; statuses dropped as somebody else's (人家都评上特困了) go to `others`."""
    sentences = _sentences(text)
    hits = []
    found: dict[tuple[re.Pattern, int, int], bool] = {}

    def occurs(pattern: re.Pattern, start: int, end: int) -> bool:
        """Whether pattern occurs in text[start:end], once per sentence (a long note repeats its words)."""
        key = (pattern, start, end)
        if key not in found:
            found[key] = pattern.search(text, start, end) is not None
        return found[key]

    for rule in _rules():
        for m in rule.pattern.finditer(text):
            if m.end() == m.start():
                continue
            s_start, s_end = _span_of(sentences, m.start())
            if rule.requires is not None and not (occurs(rule.requires, 0, len(text)) if rule.requires_whole_text
                                                  else occurs(rule.requires, s_start, s_end)):
                continue
            if rule.requires_also is not None and not occurs(rule.requires_also, s_start, s_end):
                continue
            if rule.avoid is not None and occurs(rule.avoid, s_start, s_end):
                continue
            if rule.not_before is not None:
                c_start = _span_of(clauses, m.start())[0]
                window = text[max(c_start, m.start() - 8):m.start()]
                if rule.entity == "status":
                    # 我想问问我是低保户 / 麻烦给看看俺们低保户: the caller says what they are after the asking verb;
                    # only what follows the speaker's own 我是 / 俺家 counts (能不能给我办低保 still asks)
                    said = _SPEAKER_STATES.search(window)
                    if said:
                        window = ""
                if rule.not_before.search(window):
                    continue
            if rule.not_after is not None and rule.not_after.match(text, m.end()):
                continue
            if rule.anchored is not None:
                before, after, strict = rule.anchored
                c_start = _span_of(clauses, m.start())[0]
                if (before.search(text[max(c_start, m.start() - 10):m.start()]) or after.match(text, m.end())) \
                        and not strict.search(text, s_start, s_end):
                    continue
            if rule.third_party:
                before = text[_span_of(clauses, m.start())[0]:m.start()]
                # (我们村干部 / 俺们乡上的书记: 我们 owns the place, the cadre is still somebody else)
                if _third_party().search(before) and not _first_person().search(_OUR_PLACE.sub("", before)):
                    if others is not None and rule.entity == "status":
                        others.append((m.start(), rule.value))
                    continue
            value = rule.value(m) if callable(rule.value) else rule.value
            if value is None:
                continue
            hits.append(_Hit(rule, m.start(), m.end(), value))
    # The longest match wins; ties go to the higher priority, then the earlier position.
    hits.sort(key=lambda h: (-(h.end - h.start), -h.rule.priority, h.start))
    taken: list[_Hit] = []
    occupied = bytearray(len(text))
    for h in hits:
        if any(occupied[h.start:h.end]):
            continue
        occupied[h.start:h.end] = b"\x01" * (h.end - h.start)
        taken.append(h)
    taken.sort(key=lambda h: h.start)
    return taken


@lru_cache(maxsize=1)
def _qa_tables():
    answers = {t: True for t in lexicon.QA_YES}
    answers.update({t: False for t in lexicon.QA_NO})
    # 是的是的 / 有有有 / 没有，没有: an answer said twice is one answer; 我说不是 is the caller's answer.
    answer = re.compile(
        rf"(?P<sep>[？?：:/=\-—－]+\s*|[\s，,]+|[（(]){lexicon.QA_ANSWER_LEAD}(?P<a>{_alt(answers)})"
        r"(?:(?:啊|呀|的|吧|呢|嘞|哦)*[，,、\s]*(?P=a))*(?:啊|呀|的|吧|呢|嘞|哦)*(?=$|[\s，,。！!？?；;、（()）])")
    topics = []
    for spec in lexicon.TERM_RULES:
        if spec["entity"] == "status" and not spec.get("requires"):
            topics.append((re.compile(spec["re"]), "status", spec["value"]))
        elif spec["entity"] in lexicon.QA_FIELDS and (spec.get("neg") == "flip" or spec["value"] is True):
            topics.append((re.compile(spec["re"]), spec["entity"], spec["value"]))
    for entity, value, pattern in lexicon.QA_TOPICS:
        topics.append((re.compile(pattern), entity, value))
    return answer, answers, tuple(topics), re.compile(lexicon.QA_QUESTION)


@lru_cache(maxsize=1)
def _qa_extra() -> tuple[re.Pattern, re.Pattern]:
    return re.compile(lexicon.QA_DEGREE), re.compile(lexicon.QA_SPEAKER)


_A_NOT_A = re.compile(r"是否|有无|能否|可否|有没有|是不是|能不能|可不可以|算不算|属不属于|有莫有|"
                      # 会不会 / 要不要 / 该不该 / 给不给 / 停不停: asked, not said (低保会不会取消)
                      r"(交|缴|领|办|参|批|评|买|上|吃|拿|确|隔|会|要|该|给|停|退)[没不莫]\1")
# 能回去上班吗？/ 您是低保户吗 (an agent's or a form's yes/no question) states nothing; the caller's own
# 我是低保户能领吗 does, so a question that starts with the speaker is not masked.
_MA_QUESTION = re.compile(r"(?:^|(?<=[。！!？?；;\n，,\s：:]))(?!我|俺|额|咱)[^。！!？?；;\n，,\s：:]{1,16}?[吗嘛](?=[？?]|$)")
_Q_BOUNDARY = re.compile(r"[。！!？?；;\n，,\s：:/=\-—－（()）]")


def _qa_hits(text: str) -> tuple[list[_Hit], list[tuple[int, int]]]:
    """Facts stated by a question and its answer (有没有失业保险？没有 → false): the hits, and the spans
    (topics and answers) whose ordinary readings they replace."""
    answer_re, answers, topics, question_re = _qa_tables()
    hits, spans = [], []
    for m in answer_re.finditer(text):
        q_end = m.start()
        q_start = q_end
        while q_start > 0 and q_end - q_start < 24 and not _Q_BOUNDARY.match(text, q_start - 1):
            q_start -= 1
        if _qa_extra()[1].match(text[q_start:q_end]):  # 坐席：有没有失业保险？来电人：没有
            q_end = q_start
            while q_end > 0 and _Q_BOUNDARY.match(text, q_end - 1):
                q_end -= 1
            q_start = q_end
            while q_start > 0 and q_end - q_start < 24 and not _Q_BOUNDARY.match(text, q_start - 1):
                q_start -= 1
        question = text[q_start:q_end]
        if not question:
            continue
        asks = question_re.search(question)
        punct = re.search(r"[？?：:/=\-—－（(]", m.group("sep")) is not None
        # 低保？是 / 失业保险：无 ask by punctuation; 能返岗吗 不能 / 问是否低保户，答否 by their words;
        # a terse note (失业保险 无) by a bare topic followed by 有/无/是/否 alone.
        terse = not asks and not punct
        if terse and m.group("a") not in ("有", "无", "是", "否"):
            continue
        yes = answers[m.group("a")]
        found: list[tuple[int, int, str, Value]] = []
        for pattern, entity, base in topics:
            for t in pattern.finditer(text, q_start, q_end):
                if t.end() > t.start():
                    found.append((t.start(), t.end(), entity, base))
        found.sort(key=lambda f: (f[0] - f[1], f[0]))
        taken: list[tuple[int, int, str, Value]] = []
        for f in found:
            if all(f[1] <= s or f[0] >= e for s, e, *_ in taken):
                taken.append(f)
        if terse and not (len(taken) == 1 and taken[0][0] == q_start and taken[0][1] == q_end):
            continue
        # 不能自理吗？是 asks about the negated fact; 能不能/有没有 (A-not-A) is no negation.
        a_not_a = bool(asks and asks.group(0) and re.search(r"是否|有无|能否|可否|有没有|是不是|能不能|算不算|属不属于|([^\s])[没不莫]\1",
                                                             question))
        grade = _qa_extra()[0].match(text, m.end())
        for start, end, entity, base in taken:
            flipped = not a_not_a and _NEG_TAIL.search(text, q_start, start) is not None
            if entity == "status":
                entity = "status" if yes != flipped else "not_status"
                value = base
            elif base in ("no_only", "degree_only"):
                if grade and yes:
                    value = grade.group("grade") in "一二12"
                elif base == "no_only" and yes == flipped:
                    value = False
                else:
                    continue  # 有残疾 alone does not say how severe; no certificate is not no disability
            else:
                value = (base != flipped) if yes else (base == flipped)
            hits.append(_Hit(Rule(entity, answer_re, value, neg="none"), start, end, value))
            spans.append((start, end))
        if taken:
            spans.append((m.start("a"), m.end("a")))
    return hits, spans


# Facts whose own verbs (低保没评上, 失业保险没交, 高龄津贴没领) may follow and deny them.
_HELD_VERB_ENTITIES = frozenset({"status", "not_status", "unemployment_insurance"})
_DOUBLE_NEG = re.compile(r"(?:不是|并不是|也不是|倒不是|又不是)$")


def _negation(text: str, hit: _Hit, clause: tuple[int, int], prev_end: int) -> tuple[int, int] | None:
    """The span widened over its negation cue (没有参加失业保险, 低保也没有), or None if not negated."""
    gap_start = max(clause[0], prev_end)
    m = _NEG_TAIL.search(text, gap_start, hit.start)
    if m:
        if text[m.start()] in "没不未" and _DOUBLE_NEG.search(text, gap_start, m.start()):
            return None  # 不是没交失业保险 / 并不是没有低保: two negations, the fact holds
        return m.start(), hit.end
    m = _NEG_AFTER.match(text[hit.end:clause[1]])
    if m and text[clause[1]:clause[1] + 1] in ("？", "?"):
        m = None  # 领低保没？/ 吃低保没有？ ask, they do not deny
    if m and m.group("verb") and hit.rule.entity not in _HELD_VERB_ENTITIES:
        m = None  # 瘫在床上还没评上: the verb after it is another predicate (评上 what?), not its negation
    if m:
        return hit.start, hit.end + len(m.group(0).rstrip("的啊呀呢嘞"))
    return None


def _entity(name: str, value: Value, start: int, end: int, text: str) -> dict:
    if isinstance(value, bool):
        v = "true" if value else "false"
    else:
        v = str(value)
    return {"entity": name, "value": v, "start": start, "end": end, "text": text[start:end]}


def _add_status(facts: dict, key: str, code: str) -> None:
    other = "not_statuses" if key == "statuses" else "statuses"
    if code in facts.get(other, []):
        facts[other].remove(code)
        if not facts[other]:
            del facts[other]
    facts.setdefault(key, [])
    if code not in facts[key]:
        facts[key].append(code)


_EMPLOYMENT_RANK = {"failed_startup_graduate": 5, "unemployed_graduate": 4, "unemployed_migrant_worker": 3,
                    "employed": 2, "other": 1}


def extract(text: str, *, expected_field: str | None = None) -> Extraction:
    """The facts, entities, measures and urgency a caller's message (or an agent's note) states."""
    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, got {type(text).__name__}")
    original = text
    text = fold_dialect(fold_width(text))
    out = Extraction()
    facts = out.facts
    clauses = _clauses(text)
    prev_end_in_clause: dict[tuple[int, int], int] = {}
    urgent_clauses: list[tuple[int, int]] = []
    employment_rank = 0
    dropped_others: list[tuple[int, str]] = []
    hits = _candidates(text, clauses, dropped_others)
    qa_hits, qa_spans = _qa_hits(text)
    # 有没有失业保险 / 能不能返岗 / 是否低保户 without an answer asks; it states nothing.
    # (masks, not pairwise checks: an agent's long pasted dialogue has many questions)
    asked = bytearray(len(text) + 1)
    for m in _A_NOT_A.finditer(text):
        asked[m.start():m.end() + 1] = b"\x01" * (m.end() + 1 - m.start())  # and what starts right after it
    if any(asked):  # (a measure named in the question is still what it asks about)
        hits = [h for h in hits if h.rule.entity == "measure" or not any(asked[h.start:h.end])]
    for m in _MA_QUESTION.finditer(text):  # its facts are asked; a measure it names is still the topic
        hits = [h for h in hits if h.rule.entity == "measure" or h.end <= m.start() or h.start >= m.end()]
    if qa_hits:
        replaced = bytearray(len(text))
        for s, e in qa_spans:
            replaced[s:e] = b"\x01" * (e - s)
        hits = [h for h in hits if not any(replaced[h.start:h.end])] + qa_hits
        hits.sort(key=lambda h: h.start)
    places = _place_numerals(text)
    if places:  # 住在三营镇 / 二十里铺: a numeral inside a place name counts nothing
        hits = [h for h in hits if h.rule.entity not in NUMBER_FIELDS or not any(places[h.start:h.end])]
    sentences = _sentences(text)
    others_ahead = _others_ahead(text, clauses, sentences)
    # (clause, entity, value) said of somebody else: the caller's 我不是 / 我也是 after it is the caller's own
    others_said: list[tuple[tuple[int, int], str, Value]] = [(_span_of(clauses, pos), "status", code)
                                                            for pos, code in dropped_others]
    for hit in hits:
        rule = hit.rule
        clause = _span_of(clauses, hit.start)
        negation = None if rule.neg == "none" else _negation(text, hit, clause, prev_end_in_clause.get(clause, -1))
        negated = negation is not None
        prev_end_in_clause[clause] = hit.end
        i = bisect.bisect_left(clauses, clause)
        sentence = _span_of(sentences, hit.start)
        context = _context(text, hit, clause, negated, others_ahead,
                           clauses[i - 1] if i > 0 and clauses[i - 1][0] >= sentence[0] else None,
                           clauses[i + 1] if i + 1 < len(clauses) else None, sentence[1])
        if context == "other" and (rule.entity in ("status", "not_status") or
                                   (rule.entity in _ELLIPSIS_BOOLS and rule.neg in ("flip", "none"))):
            value = hit.value
            if rule.entity in _ELLIPSIS_BOOLS and negated and rule.neg == "flip":
                value = not value
            others_said.append((clause, "status" if rule.entity == "not_status" else rule.entity, value))
        if context in ("other", "hedged", "past"):
            continue
        if context == "still":  # 以前不是低保户，现在是 / 以前是，现在还是: held now
            negation, negated = None, False
        start, end = negation or (hit.start, hit.end)
        entity, value = rule.entity, hit.value
        if context == "ended":
            entity, negation, negated = "not_status", None, False
        if negated:
            if rule.neg == "ignore":
                continue
            if rule.neg == "flip":
                value = not value
            elif rule.neg == "not_status":
                entity = "not_status"
            elif rule.neg == "other":
                value = lexicon.OTHER_RESIDENCE[value]
        if entity == "status":
            _add_status(facts, "statuses", value)
        elif entity == "not_status":
            _add_status(facts, "not_statuses", value)
        elif entity == "_skip":
            continue
        elif entity == "measure":
            value = str(value)
            if int(value) not in out.measures:
                out.measures.append(int(value))
        elif entity == "employment":
            rank = _EMPLOYMENT_RANK[value]
            if rank < employment_rank:
                continue  # 创业失败的大学生: the more specific code stands
            employment_rank = rank
            facts["employment"] = value
        elif entity == "urgent":
            facts["urgent"] = value
            if value and clause not in urgent_clauses:
                urgent_clauses.append(clause)
        else:
            facts[entity] = value
        out.entities.append(_entity(entity, value, start, end, original))
        if not negated:
            for extra_entity, extra_value in rule.also:
                facts[extra_entity] = extra_value
                out.entities.append(_entity(extra_entity, extra_value, hit.start, hit.end, original))

    for clause, entity, value in others_said:
        _self_ellipsis(text, original, clause, entity, value, clauses, sentences, out)
    if "county" in facts:
        facts.pop("city", None)  # the county fixes the city; `city` is for city-only mentions
    if expected_field:
        _fill_expected(text, original, expected_field, out)
    asked_day = when.asked_about(text)
    if asked_day:
        facts["as_of"] = asked_day  # 2022年7月的时候…能领多少: the rules as they stood then
    if facts.get("urgent") and urgent_clauses:
        out.urgent_reason = "，".join(original[s:e].strip() for s, e in urgent_clauses)[:500]
        facts["urgent_reason"] = out.urgent_reason
    elif facts.get("urgent") and out.urgent_reason:
        facts["urgent_reason"] = out.urgent_reason
    return out


@lru_cache(maxsize=1)
def _place_numeral_re() -> re.Pattern:
    return re.compile(lexicon.PLACE_NUMERAL)


def _place_numerals(text: str) -> bytearray:
    """A mask of the numerals that are part of a place name (三营镇, 五里坡); empty when there are none."""
    mask = bytearray()
    for m in _place_numeral_re().finditer(text):
        if not mask:
            mask = bytearray(len(text))
        mask[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return mask


def _self_ellipsis(text: str, original: str, clause: tuple[int, int], entity: str, value: Value, clauses,
                   sentences, out: Extraction) -> None:
    """我邻居是低保户，我不是 → not dibao; 邻居吃低保，俺家也吃着 → dibao; 我同事确诊了，我没有 → not
    confirmed: the caller's short reply about what was just said of somebody else (the next two clauses)."""
    facts = out.facts
    if entity == "status" and (value in facts.get("statuses", []) or value in facts.get("not_statuses", [])):
        return
    if entity != "status" and entity in facts:
        return
    sentence_end = _span_of(sentences, clause[0])[1]
    i = bisect.bisect_left(clauses, clause)
    for start, end in clauses[i + 1:i + 3]:
        if start >= sentence_end:
            return
        m = _context_tables()["SELF_ELLIPSIS"].match(text[start:end])
        if not m:
            continue
        if m.group("neg") or m.group("gap_neg"):
            held = False
        elif re.search("也|都|一直", m.group("adv") or ""):
            held = True
        else:
            return
        if entity == "status":
            _add_status(facts, "statuses" if held else "not_statuses", value)
            out.entities.append(_entity("status" if held else "not_status", value, start, end, original))
        else:
            facts[entity] = value if held else not value
            out.entities.append(_entity(entity, facts[entity], start, end, original))
        return


_ANSWER_PUNCT = re.compile(r"[\s，,。.！!？?~～…、]+")
_ANSWER_PARTICLES = re.compile(r"(?<=.)(?:啊|呀|吧|呢|嘞|哦|噢|哈|咧|撒|的呢)+$")
_ANSWER_FILLER = re.compile(r"^(?:嗯|哦|噢|啊|呃|额|那个|就是说)+(?=.)")
_YES = re.compile(r"^(?:是|是的|是滴|是嘞|是呀|对|对的|对着呢|对着|是着|对头|嗯|嗯嗯|有|有的|有呢|有着呢|交了|领了|领着呢|参加了|"
                  r"能|可以|能行|行|没错|就是|当然|确实|确实是|没麻达|中|是着呢|算是|属于|有哩)+$")
_NO = re.compile(r"^(?:不是|不|没有|没|没得|木有|莫有|冇|不能|不行|没交|没领|否|不对|没有的|没呢|还没有|还没|不会|没参加|"
                 r"不属于|不算|没有哩|不是的|回不去|去不了|不可以|没法|不得行)+$")


_WAGES = re.compile(r"挣|工资|月薪|收入|上班|找上工作|找到工作|一个月[0-9一两二三四五六七八九十几]")
# An answer to 您家是低保户吗 that speaks of work or money (工地停了, 钱断了) says what stopped, not the status.
_OTHER_TOPIC = re.compile(r"工地|厂|活|工作|上班|班|工资|收入|钱|店|饭馆|公司|生意|疫情|车|路|学|病|医院")


@lru_cache(maxsize=1)
def _hedged_answer() -> re.Pattern:
    return re.compile(lexicon.HEDGE_ANSWER)


@lru_cache(maxsize=1)
def _failed_answer() -> re.Pattern:
    """A bare answer saying the status was not granted or was taken away (还没批下来, 后来退了)."""
    return re.compile(lexicon.STATUS_FAILED)


@lru_cache(maxsize=1)
def _granted_answer() -> re.Pattern:
    return re.compile(lexicon.STATUS_GRANTED)


# After a bare numeral, the counters that make it a count of something other than the field asked about.
_FOREIGN_COUNTERS = {
    "household_size": set(lexicon.COUNTERS) - set("个口") | set("岁万千百"),
    "months_without_income": set(lexicon.COUNTERS) - set("个月年礼") | set("岁万千百"),
    "age": set(lexicon.COUNTERS),
    "medical_out_of_pocket": set(lexicon.COUNTERS) - set("块元") | set("人岁"),
}
for _counted in _FOREIGN_COUNTERS.values():
    _counted.update("倍成%％")  # 三倍的救助金 / 报了七成: a ratio, not the figure asked for
# 一 that starts a word (一共, 一下, 一点, 一直, 一起 …): no number.
_WORD_ONE = set("共下点直起样般定些会旦边向再切律同概致心块齐并家")


def _fill_expected(text: str, original: str, field_name: str, out: Extraction) -> None:
    """A bare answer (三个月, 是的, 不是, 4口人, 两万) fills the field the bot just asked about."""
    facts = out.facts
    answer = _ANSWER_FILLER.sub("", _ANSWER_PARTICLES.sub("", _ANSWER_PUNCT.sub("", text)))
    start = text.find(answer[:1]) if answer else 0
    if _hedged_answer().search(answer):
        return  # 好像是 / 可能吧 / 记不清了: unsure, so the bot asks again rather than guess
    if field_name.startswith("statuses."):
        code = field_name.split(".", 1)[1]
        if code in facts.get("statuses", []) or code in facts.get("not_statuses", []):
            return
        if _NO.match(answer) or _NO.match(answer.rstrip("了")) or (
                _failed_answer().search(answer) and not _OTHER_TOPIC.search(answer)):
            _add_status(facts, "not_statuses", code)
            out.entities.append(_entity("not_status", code, start, start + len(answer), original))
        elif _YES.match(answer) or _granted_answer().search(answer):
            _add_status(facts, "statuses", code)
            out.entities.append(_entity("status", code, start, start + len(answer), original))
        return
    if field_name in facts:
        return
    if field_name in BOOL_FIELDS:
        bare = answer.rstrip("了") or answer  # 回不去了 / 不能了
        value = False if _NO.match(answer) or _NO.match(bare) else True if _YES.match(answer) or _YES.match(bare) else None
        if value is None:
            return
        facts[field_name] = value
        out.entities.append(_entity(field_name, value, start, start + len(answer), original))
        if field_name == "urgent" and value:
            out.urgent_reason = original.strip()
        return
    if field_name in NUMBER_FIELDS:
        if field_name == "medical_out_of_pocket" and _WAGES.search(text):
            return  # 儿子找上工作了 一个月四千多: a wage, not what the bot asked about
        covered = [(e["start"], e["end"]) for e in out.entities]
        covered += [(m.start(), m.end()) for m in _place_numeral_re().finditer(text)]  # 住在三营镇: no count
        if field_name == "months_without_income":
            # the months rules themselves (一年多, 一年半, 两三个月, 个把月), without their income-loss context
            best = None
            for rule in _rules():
                if rule.entity != field_name:
                    continue
                for m in rule.pattern.finditer(text):
                    if m.end() > m.start() and not any(s < m.end() and m.start() < e for s, e in covered):
                        value = rule.value(m) if callable(rule.value) else rule.value
                        if value is not None and (best is None or m.end() - m.start() > best[1] - best[0]):
                            best = (m.start(), m.end(), value)
            if best:
                facts[field_name] = best[2]
                out.entities.append(_entity(field_name, best[2], best[0], best[1], original))
                return
        for m in re.finditer(rf"(?P<num>{NUMERAL})(?:个多月|多个月|个月|月|口人|口|个人|个|人|岁|多|出头|元|块钱|块)?", text):
            if any(s < m.end() and m.start() < e for s, e in covered):
                continue
            after = text[m.end("num"):m.end("num") + 1]
            if m.group("num") == "一" and after and after in _WORD_ONE:
                continue  # 一共 / 一下 / 一点: a word, no number
            if m.group("num") == "一" and m.end() == m.end("num") and answer.strip("。！!？?，, ") != "一":
                continue  # 万一以后… / 统一 / 第一: a lone 一 with no unit inside words answers no figure
            if after and after in _FOREIGN_COUNTERS[field_name]:
                continue  # 住了两回院 answers no sum, 今年两个月 no age: a count of something else
            value = parse_number(m.group("num"))
            if value is None:
                return
            if field_name == "medical_out_of_pocket":
                value = as_int(value)
            else:
                if not float(value).is_integer():
                    return
                value = int(value)
                if field_name == "household_size" and (not 1 <= value <= 30 or has_spoken_range(m.group("num"))):
                    return
            facts[field_name] = value
            out.entities.append(_entity(field_name, value, m.start(), m.end(), original))
            return
        return
    if field_name == "employment":
        for pattern, code in lexicon.BARE_EMPLOYMENT:
            m = re.search(pattern, text)
            if m:
                facts["employment"] = code
                out.entities.append(_entity("employment", code, m.start(), m.end(), original))
                return
    if field_name == "residence":
        m = re.fullmatch(r"(农|城)(?:村|里|市|镇)?(?:的|户|户口)?", answer)
        if m:
            value = "rural" if m.group(1) == "农" else "urban"
            facts["residence"] = value
            out.entities.append(_entity("residence", value, start, start + len(answer), original))


def merge_facts(old: dict | None, new: dict | None) -> dict:
    """Facts so far updated with newer facts: later values win; a status moves between
    `statuses` and `not_statuses` when the caller corrects it; unknown (None) never erases."""
    merged = {k: (list(v) if isinstance(v, list) else v) for k, v in (old or {}).items()}
    new = new or {}
    for key, value in new.items():
        if key in ("statuses", "not_statuses") or value is None:
            continue
        merged[key] = value
    for code in new.get("statuses", []) or []:
        _add_status(merged, "statuses", code)
    for code in new.get("not_statuses", []) or []:
        _add_status(merged, "not_statuses", code)
    if "county" in new and new["county"]:
        merged.pop("city", None)
    elif new.get("city") and merged.get("county"):
        from policy_kb.tables import resolve_county

        county = resolve_county(merged["county"])
        if county is None or county.city != new["city"]:
            merged.pop("county", None)  # the caller named another city: the old county is stale
        else:
            merged.pop("city", None)
    if new.get("urgent") is False and "urgent_reason" not in new:
        merged.pop("urgent_reason", None)
    return merged


def warm_up() -> None:
    """Compile the rule tables now (a server calls this at start so the first request is fast)."""
    _rules()
    _qa_tables()
    extract("西吉县低保户一家四口")


def userdict_terms() -> list[tuple[str, str]]:
    """(term, part-of-speech tag) pairs for the jieba user dictionary: every county, city and
    literal lexicon term, so that policy terms become single jieba tokens."""
    from policy_kb.tables import cities, counties

    terms: dict[str, str] = {}
    for county in counties():
        for name in (county.name, *county.aliases):
            terms[name] = "ns"
    for city, aliases in cities().items():
        for name in (city, *aliases):
            terms[name] = "ns"
    for term in lexicon.literal_terms():
        terms.setdefault(term, "nz")
    return sorted(terms.items())
