"""A case file per conversation: typed observations with their context, accumulated over turns.

Why: a caller's facts are spread over messages (在银川工地上干活 … 工地停了 … 从4月10号起没钱), said of a
relative (我大伯是…), corrected (不对，是两万八) or only supposed (万一哪天没吃的). One message read alone
cannot settle them; the case file keeps what each message observed, and `extraction.derive` turns the
whole file into Facts. Every channel (the bot's action server, the copilot, the service's own record)
reads Facts through `CaseFile.facts()`.

An observation is {kind, value, turn, text, context, whose, role?}:
- kind: a Facts field the message stated (county, statuses, household_size, …, via the per-message
  extractor) or a case kind no single Facts field holds: works_away, work_stopped, no_income,
  income_since (a date), graduate, own_business, business_failed, no_job;
- context (in the manner of NegEx/ConText): affirmed | negated | historical | hypothetical | uncertain;
- whose: caller | subject (the relative whose household the case is about) | third (a neighbour, a cadre);
- role (places only): home | hospital | work | location (where an emergency is happening) | caller.
Only affirmed observations of the caller's or the subject's household count towards Facts.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from extraction import lexicon, since
import extraction
from extraction.core import Extraction, fold_dialect
from extraction.numbers import NUMERAL, fold_width, parse_number

VERSION = 1
MAX_OBSERVATIONS = 400  # a long chat keeps its newest observations; Facts fields are re-stated anyway

# Relatives whose household a caller may ring about (我大伯是低保户, 帮我舅舅问问). In the per-message
# extractor they are somebody else; once the case is about them, they are its subject.
KIN = ("大伯", "伯伯", "大爷", "舅舅", "姑姑", "姑妈", "姨妈", "大姨", "小姨", "叔叔", "婶婶", "婶子", "舅妈", "姑父",
       "姨夫", "侄子", "侄女", "外甥", "表哥", "表姐", "表弟", "表妹", "堂哥", "堂姐", "堂弟", "堂妹", "亲戚")
# Parents and grandparents are the caller's family already; the case is about them when the caller opens with them.
ELDERS = ("我爸", "我妈", "我爹", "我娘", "俺爸", "俺妈", "俺爹", "俺娘", "额爸", "额妈", "额爹", "额娘", "我父亲", "我母亲",
          "我老父亲", "我老母亲", "我老爹", "我老娘", "我爷爷", "我奶奶", "俺爷爷", "俺奶奶", "我外公", "我外婆", "我姥姥",
          "我姥爷", "我公公", "我婆婆", "我丈人", "我岳父", "我岳母")
_SELF_STANDIN = "本人"  # same length as a two-character kin word: spans stay valid


@dataclass
class Observation:
    kind: str
    value: Any
    turn: int
    text: str = ""
    context: str = "affirmed"
    whose: str = "caller"
    role: str | None = None

    @property
    def counts(self) -> bool:
        return self.context == "affirmed" and self.whose != "third"


@dataclass
class CaseFile:
    """What a conversation has observed, turn by turn. `to_dict`/`from_dict` keep it in a Rasa slot
    or a database row."""

    observations: list[Observation] = field(default_factory=list)
    turns: int = 0
    subject: str | None = None  # the relative the case is about (大伯), or None for the caller's own household
    last_message: str | None = None  # id of the message read last: Rasa may run the extraction twice for one

    # -- storage -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"version": VERSION, "turns": self.turns, "subject": self.subject, "last_message": self.last_message,
                "observations": [{k: v for k, v in asdict(o).items() if v is not None and v != ""}
                                 for o in self.observations]}

    @classmethod
    def from_dict(cls, data: dict | None) -> "CaseFile":
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return cls()
        obs = []
        for raw in data.get("observations") or []:
            if isinstance(raw, dict) and "kind" in raw and "turn" in raw:
                obs.append(Observation(**{k: raw.get(k) for k in
                                          ("kind", "value", "turn", "text", "context", "whose", "role")
                                          if k in raw}))
        return cls(observations=obs, turns=int(data.get("turns") or 0), subject=data.get("subject"),
                   last_message=data.get("last_message"))

    @classmethod
    def seeded(cls, facts: dict | None) -> "CaseFile":
        """A case that starts from Facts known some other way (a form filled by an agent, an older
        conversation kept as Facts only): each becomes an affirmed observation of turn 0."""
        case = cls()
        for key, value in (facts or {}).items():
            if value is None:
                continue
            if key in ("statuses", "not_statuses"):
                for code in value or []:
                    case.observations.append(Observation("status", code, 0, context="affirmed" if key == "statuses"
                                                         else "negated"))
            else:
                case.observations.append(Observation(key, value, 0))
        return case

    # -- one more message ----------------------------------------------------------------------
    def note(self, kind: str, value: Any, text: str = "") -> None:
        """An observation made outside the words (the caller pressed for urgent help)."""
        self.observations.append(Observation(kind, value, max(self.turns, 1), text,
                                             whose="subject" if self.subject else "caller"))
        if kind == "urgent" and value is True and text:
            self.observations.append(Observation("urgent_reason", text, max(self.turns, 1)))

    def add(self, text: str, *, as_of: date, expected_field: str | None = None,
            message_id: str | None = None) -> Extraction:
        """Read one message into the case; returns the per-message extraction (entities, measures).
        The same message read again (same `message_id`) is not observed twice."""
        if message_id and message_id == self.last_message:
            return self._reread(text, expected_field)
        self.last_message = message_id
        self.turns += 1
        turn = self.turns
        folded = fold_dialect(fold_width(text))
        subject = self.subject or _subject_of(folded)
        if subject and not self.subject and not _contrasts_self(folded, subject):
            self.subject = subject
        reading = _as_subject(folded, self.subject) if self.subject in KIN else folded
        found = extraction.extract(reading, expected_field=expected_field)
        found.entities = [dict(e, text=text[e["start"]:e["end"]]) for e in found.entities]
        new = _fact_observations(found, reading, turn, self)
        new += observe(reading, turn=turn, as_of=as_of, subject=self.subject)
        new += _corrections(reading, turn, self, found)
        self.observations.extend(new)
        new = _case_emergencies(reading, turn, self)
        self.observations.extend(new)
        if len(self.observations) > MAX_OBSERVATIONS:
            self.observations = self.observations[-MAX_OBSERVATIONS:]
        self._settle_urgency(found, turn, text)
        return found

    def _reread(self, text: str, expected_field: str | None) -> Extraction:
        folded = fold_dialect(fold_width(text))
        reading = _as_subject(folded, self.subject) if self.subject in KIN else folded
        found = extraction.extract(reading, expected_field=expected_field)
        self._settle_urgency(found, self.turns, text)
        return found

    def _settle_urgency(self, found: Extraction, turn: int, text: str) -> None:
        """The message's urgency as the case reads it: a supposed, past or figurative emergency is none;
        one only the case detectors saw (the carer taken away, fleeing violence) is one."""
        said = [o for o in self.observations if o.kind == "urgent" and o.turn == turn and o.value is True]
        if found.facts.get("urgent") and said and not any(o.context == "affirmed" for o in said):
            found.facts.pop("urgent", None)
            found.facts.pop("urgent_reason", None)
            found.urgent_reason = None
        elif not found.facts.get("urgent") and any(o.context == "affirmed" for o in said):
            reason = next(o.value for o in self.observations if o.kind == "urgent_reason" and o.turn == turn) \
                if any(o.kind == "urgent_reason" and o.turn == turn for o in self.observations) else text.strip()[:500]
            found.facts["urgent"] = True
            found.facts["urgent_reason"] = reason
            found.urgent_reason = reason

    def facts(self, as_of: date | None = None) -> dict:
        from extraction.derive import facts_of

        return facts_of(self, as_of)

    def of_kind(self, *kinds: str, counting: bool = True) -> list[Observation]:
        return [o for o in self.observations if o.kind in kinds and (o.counts or not counting)]


# ---- who the case is about ------------------------------------------------------------------

_KIN_RX = "|".join(KIN)


@lru_cache(maxsize=1)
def _subject_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    asks_for = re.compile(rf"(?:帮|替|给|代)(?:我|俺|额)?(?:的|家)?(?P<kin>{_KIN_RX})(?:家)?(?:问|咨询|打听|反映|打电话|申请|办)")
    opens_with = re.compile(rf"^[^，,。！!？?]{{0,8}}?(?:(?:我|俺|额)(?:的|家|们家)?)?(?P<kin>{_KIN_RX})(?:家)?"
                            rf"(?=是|在|今年|家里|一家|住|得了|瘫|病|确诊|被|从|去年|前|以前|原来|他|她|，|,|[0-9{lexicon.CN_DIGITS}])")
    elders = re.compile(rf"^[^，,。！!？?]{{0,8}}?(?P<kin>{'|'.join(ELDERS)})(?:家|那边|那里)?"
                        rf"(?=是|在|今年|一个人|住|得了|瘫|病|确诊|被|他|她|，|,|[0-9{lexicon.CN_DIGITS}])")
    return asks_for, opens_with, elders


def _subject_of(text: str) -> str | None:
    asks_for, opens_with, elders = _subject_patterns()
    for rx in (asks_for, opens_with):
        m = rx.search(text)
        if m:
            return m.group("kin")
    m = elders.search(text)
    return m.group("kin") if m else None


def _contrasts_self(text: str, subject: str) -> bool:
    """我大伯是低保户，我不是 / 我邻居…我家也是: the caller compares, the case is the caller's own."""
    return bool(re.search(rf"{re.escape(subject)}.*[，,。]\s*(?:但是?|可是?)?(?:我|俺|额)(?:们)?(?:家)?(?:自己)?(?:不是|没有|也是|也吃|也领|呢)", text))


def _as_subject(text: str, subject: str) -> str:
    """Read the relative's words as the case's own (大伯 → 本人, same length)."""
    if len(subject) != len(_SELF_STANDIN):
        return text
    return re.sub(rf"(?:(?<=我)|(?<=俺)|(?<=额)|(?<=的))?{re.escape(subject)}", _SELF_STANDIN, text)


# ---- context (NegEx/ConText): how an observation is held --------------------------------------

_CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")
_SENTENCE_END = re.compile(r"[。！!？?；;\n]")
_NEG_BEFORE = re.compile(r"(?:没有?|不是|未|并没有?|也没有?|还没有?|倒没|不)(?:是|说|被|给)?$")
_HYPOTHETICAL = re.compile(r"如果|要是|假如|假设|万一|若是|若|如若|一旦|倘若|怕|担心|害怕|会不会|(?:以后|往后)(?=要是|万一|会|可能|怎么|咋|能不能|还能)|将来|到时候|哪天|哪一天|迟早|"
                           r"是不是|要不要|可能会|要被|快要|就要|马上要|眼看要")
_HYPOTHETICAL_AFTER = re.compile(r"^[^，,。！!？?]{0,8}?(?:的话|咋办|怎么办|怎么弄|能不能|可不可以|管不管|算不算)")
_PAST = re.compile(r"以前|之前|原来|原先|过去|早先|那年|当年|小时候|前些年|早些年|去年|前年|上次|上回|那次|那会儿?|"
                   r"去年冬天|去年夏天|年前|几年前|[0-9一两二三四五六七八九十几]+年前")
_RESOLVED = re.compile(r"(?:已经|早就|早|都|也)?(?:修好了|盖好了|好了|过去了|没事了|解决了|处理好了|安顿好了|安置好了|"
                       r"补上了|住进去了|搬进去了|恢复了|痊愈了|出院了|回来了|回家了|到家了)"
                       # an agent's 房子已经修好 / 现已恢复正常: over, without the 了
                       r"|(?:已经|已|早就|早都|现已)(?:修好|盖好|修缮|重建|过去|解决|处理好|安顿好|安置好|补上|住进去|搬进去|"
                       r"恢复|痊愈|出院|回来|回家|到家|正常)|(?:生活|日子)(?:已经|也|都)?(?:正常|恢复)")
_NOW = re.compile(r"现在|目前|眼下|这会儿?|如今|今天|今晚|刚才|刚刚|马上|正在|还在|又")
_UNCERTAIN = re.compile(r"好像|可能|也许|或许|估计|听说|不知道|不晓得|说不定|不确定|搞不清")
_THIRD = re.compile(lexicon.OTHER_PERSON + "|" + lexicon.THIRD_PARTY)
_SELF = re.compile(r"我|俺|额|咱|本人|自己")


def _bounds(rx: re.Pattern, text: str, start: int, end: int) -> tuple[int, int]:
    lo = 0
    for m in rx.finditer(text, 0, start):
        lo = m.end()
    m = rx.search(text, end)
    return lo, (m.start() if m else len(text))


def context_of(text: str, start: int, end: int) -> str:
    """affirmed | negated | historical | hypothetical | uncertain, for the words text[start:end]."""
    c_lo, c_hi = _bounds(_CLAUSE_END, text, start, end)
    s_lo, s_hi = _bounds(_SENTENCE_END, text, start, end)
    before = text[c_lo:start]
    if _NEG_BEFORE.search(before[-4:]):
        return "negated"
    near = text[max(s_lo, start - 14):start]
    if _HYPOTHETICAL.search(near) or _HYPOTHETICAL_AFTER.match(text, end, c_hi):
        return "hypothetical"
    if _UNCERTAIN.search(text[max(c_lo, start - 8):start]):
        return "uncertain"
    past = _PAST.search(text, s_lo, start)
    if past and not _NOW.search(text, past.end(), start):
        later = text[end:s_hi]
        if _RESOLVED.search(later) or not _NOW.search(later):
            return "historical"
    return "affirmed"


def whose_of(text: str, start: int, subject: str | None) -> str:
    """caller | subject | third: the person the clause before the words last names."""
    c_lo, _ = _bounds(_CLAUSE_END, text, start, start)
    before = text[max(c_lo, start - 16):start]
    last_third = max((m.end() for m in _THIRD.finditer(before)), default=-1)
    last_self = max((m.end() for m in _SELF.finditer(before)), default=-1)
    if last_third > last_self:
        return "third"
    if subject and last_self >= 0:
        self_word = [m for m in _SELF.finditer(before) if m.end() == last_self][-1]
        if self_word.group(0) in ("我", "俺", "额") and not before[self_word.end():].startswith(subject[1:] or "\0"):
            return "caller"  # 我在银川上班 while the case is my uncle's (or my mother's)
    return "subject" if subject else "caller"


# ---- what a message observes beyond the per-message Facts ------------------------------------

_PLACE_WORDS = r"(?:[^，,。！!？?\s]{0,8}?)"
_WORKPLACE = r"(?:工地|建筑工地|物流园|园区|仓库|饭馆|餐馆|饭店|酒店|宾馆|厂|厂里|厂子|工厂|车间|超市|物流|快递|煤矿|矿上|商场|市场|店里|公司|工程队|项目上)"
_DETECTORS: tuple[tuple[str, str], ...] = (
    # works away from home / for wages (the measure-5 worker), said in any words
    ("works_away", rf"(?:在|去|到|跑)[^，,。！!？?\s]{{0,10}}?{_WORKPLACE}(?:上|里|那边)?[^，,。！!？?\s]{{0,3}}?"
                   rf"(?:干活|打工|上班|做工|干|做|当|搬|端盘子|洗碗|帮工|刷|开|打杂|帮厨|做饭|炒菜|服务员|装卸|装货|卸货|拉货|送货|"
                   rf"跑车|看门|保安|保洁|扫地|收银|理货|分拣|站柜台|守夜|烧锅炉|卖)"
                   rf"|(?:出去|出门|外出|在外地|在外面|在外头|到外地|去外地|进城|在城里|去城里)(?:打工|务工|干活|挣钱|打零工|上班)"
                   rf"|(?:在|去|到)[^，,。！!？?\s]{{1,8}}?(?:打工|务工|打零工|干活)|农民工|打工的|务工人员|送外卖|跑外卖|跑快递|当服务员|搬砖"),
    # the work stopped (工地停了, 饭馆关门了, 没活了, 被辞退了)
    ("work_stopped", rf"{_WORKPLACE}[^，,。！!？?\s]{{0,12}}?(?:停了|停工|停业|关了|关门|封了|倒闭|黄了|不开了|歇业|开不了|不干了|停产|放假|不要人)"
                     r"|没(?:有)?活(?:干|了|儿)|活(?:儿)?(?:也|都)?(?:停了|没了|断了)|没了活|被(?:辞退|开除|裁|辞)|辞退了|把(?:我|俺|额|人)(?:给)?(?:辞|裁|开)了"
                     r"|不让(?:干|上班|来|去)了|不要人了|失业了|下岗了|工作(?:也|都)?(?:丢了|没了)|丢了工作|停工了|干不成了|干不了了"),
    # no income (没收入, 一分钱没挣上, 工资没发)
    ("no_income", r"没(?:有)?(?:收入|进项|挣(?:上|到|下)?(?:一分)?钱|工资|活干)|一分钱(?:都|也)?没|(?:收入|工资|钱)(?:也|都|就)?(?:没了|断了|停了|没发|没给)"
                  r"|断了收入|无收入|没挣上|挣不上钱|没钱(?:了|花)?|断了生活来源|生活没(?:有)?来源"),
    ("graduate", r"(?:大学|大专|本科|研究生|专科|高职|学院|师范|职院|院校)(?:也|都|已经)?毕业|毕业生|大学生|刚毕业|毕业(?:了|以后|后|之后)(?:到现在|一直)?"),
    ("own_business", r"(?:自己|我|俺|额)?(?:开|干|办|弄|搞)了?(?:个|一个|家|一家|间|一间)?[^，,。！？!?\s]{0,4}?(?:店|馆|公司|超市|门面|铺子|厂|作坊|工作室|摊子|摊|网店|养殖场|养牛场|养羊场|养鸡场|场)"
                     r"|搞(?:了)?(?:个)?[^，,。！？!?\s]{0,3}?(?:养殖|种植|合作社|大棚)|做(?:了点|了)?(?:小)?生意|做买卖|摆摊|创业|干个体|自己干"
                     r"|承包(?:了)?|包了[^，,。！？!?\s]{0,5}?(?:亩|地|鱼塘|果园)|种(?:了)?[^，,。！？!?\s]{0,4}?(?:枸杞|大棚|果树|苹果|蔬菜|药材|西瓜|硒砂瓜)"
                     r"|养(?:了)?[^，,。！？!?\s]{0,4}?(?:牛|羊|鸡|猪|滩羊)"),
    ("business_failed", r"(?:店|馆|生意|买卖|摊子|公司|养殖|大棚|合作社|铺子|门面|超市|场子|厂子)(?:也|都|就|算是)?(?:赔光了|赔了|亏了|亏光了|倒闭了|黄了|关门了|关了|干垮了|赔进去了?|干不下去了|开不下去了|撑不下去了|失败了|干黄了|做不下去了|赔本了?|亏本了?)"
                        r"|赔光了|血本无归|全赔了|亏了个精光|(?:就|也|都|彻底|直接|只能)(?:关门|倒闭|黄|垮|关张)了|欠了一屁股|"
                        r"欠了[^，,。！!？?\s]{0,4}?(?:债|账|帐|外债)|(?:赔|亏)了[0-9.一两二三四五六七八九十几好]+万"),
    # working now (现在在超市上班): a job said to hold now ends a lost-work reading said before it
    ("works_now", r"(?:现在|目前|已经|又|刚|如今)(?:也|都|还|又)?(?:在[^，,。！!？?\s]{1,8}?)?(?:上班|上着班|工作|找到(?:了)?工作|找上(?:了)?工作|复工|返岗)(?:了|呢|着)?"
                  r"|(?:已经|已|刚|上周|上个月|前几天)?(?:入职|上岗)(?:了)?|已(?:经)?就业|就业了|找到(?:了)?(?:工作|活|班上)"),
    # the work has not come back (到现在也还没开, 开工没准, 老板说不开了, 想回去干也干不成): no return to work
    ("still_stopped", r"(?:到现在|至今|现在|目前|还是|一直|如今)(?:也|都|还)?(?:还)?(?:没|未|不)(?:有)?(?:开|开工|开门|复工|营业|返岗|开业|让进)"
                      r"|(?:开工|复工|开门|开业)(?:也|还)?没(?:准|谱|日子|信|时间)|(?:说|就)?不开了|(?:想|要)?回去(?:干|上班)?(?:也)?(?:干不成|回不去|进不去)"
                      r"|(?:还是|一直|到现在)(?:也)?进不去|(?:活|工)(?:也)?干不成了"),
    ("no_job", r"没(?:有)?(?:找到|找上|找下|找着)(?:工作|活|事干|班上)|找不到(?:工作|活)|工作(?:还|也|都|一直)?没(?:有)?(?:找|着落)|没就业|未就业|待业|一直在家|在家(?:闲着|待着|呆着)|闲在家"),
)


@lru_cache(maxsize=1)
def _detectors() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((kind, re.compile(rx)) for kind, rx in _DETECTORS)


# Emergencies the per-message rules miss, read with the same context (a carer taken away from somebody who
# cannot look after themselves; somebody fleeing violence with nowhere to sleep tonight).
_CARER = (r"(?:照顾|伺候|照看|看护|护理|照料|管)[^，,。！!？?]{0,6}?的(?:人|儿子|女儿|闺女|儿媳|媳妇|老伴|老汉|婆姨|保姆|护工|亲戚|"
          r"我妈|我爸|俺妈|俺爸|大妈|大娘|老婆|男人)"
          r"[^，,。！!？?]{0,3}?(?:(?:被|叫|让|给)?(?:拉|带|叫|接|抓|送)(?:走|去|到)|住院|病倒|隔离|出事|走了|不在了)")
_NEEDS_CARE = r"瘫|卧床|不能自理|自理不了|下不了床|起不来|离不开人|痴呆|失能|瞎|看不见|傻|智力"
_FLEEING = (r"(?:跑|逃|躲|赶)(?:了)?出来|离家出走|不敢回(?:家|去)|回不了家|被赶出(?:来|门)")
_VIOLENCE = r"打我|打俺|打额|被打|挨打|家暴|动手|打得|打人|喝醉了打|拿刀|威胁"
_NO_BED = r"没(?:有)?(?:地方|处|地儿)(?:睡|住|去|待|落脚)|无处(?:可去|安身|落脚)|睡(?:大街|马路|街上|外面|桥洞)|今晚(?:住|睡)(?:哪|哪儿)"


def _emergencies(text: str, turn: int, subject: str | None) -> list[Observation]:
    out: list[Observation] = []
    for m in re.finditer(_CARER, text):
        if re.search(_NEEDS_CARE, text):
            out.append(Observation("urgent", True, turn, m.group(0), context_of(text, m.start(), m.end()),
                                   whose_of(text, m.start(), subject)))
    if re.search(_VIOLENCE, text) or re.search(_FLEEING, text):
        for m in re.finditer(_NO_BED, text):
            if re.search(_VIOLENCE, text) or re.search(_FLEEING, text[:m.start()]):
                out.append(Observation("urgent", True, turn, m.group(0), context_of(text, m.start(), m.end())))
    if any(o.context == "affirmed" for o in out):
        out.append(Observation("urgent_reason", text.strip()[:500], turn))
    return out


# Said over the conversation, they make an emergency together: somebody who cannot look after themselves
# (said in any turn) now left alone because the carer was taken away; somebody who fled violence (any
# turn) now on the street or with nowhere to sleep.
_ALONE = (r"(?:就|只)?剩(?:下)?[^，,。！!？?]{0,6}?(?:一个|一人|自己)|(?:一个人|一人|独自|自个儿?)(?:在家|在屋|在床上|躺着|待着)"
          r"|没(?:有)?人(?:给|帮)?(?:喂饭|做饭|送饭|端饭|照顾|照料|伺候|管|看|喂药|端水)|身边(?:一个人)?(?:都|也)?没(?:有)?人")
_TAKEN = r"拉走|拉去|带走|带去|叫走|接走|隔离|住院|送医院|病倒|被抓|抓走|出事"
_ROUGH = (r"(?:在|睡|待|蹲)(?:大街|街上|路边|马路|外面|外头|桥底下|桥洞|车站)|不知道(?:去|睡|住|待)(?:哪|那|啥地方)"
          r"|(?:睡|住)(?:哪|那)(?:搭|儿|里)?(?:去)?(?:都|也)?不知道|没(?:有)?(?:地方|处|地儿)(?:睡|住|去|待|落脚)|今晚(?:上)?(?:住|睡)(?:哪|那)")


def _needs_care(case: "CaseFile") -> bool:
    return any(o.value is True for o in case.of_kind("cannot_self_care", "severe_disability", counting=False)
               if o.context == "affirmed")


def _case_emergencies(text: str, turn: int, case: "CaseFile") -> list[Observation]:
    """Emergencies that only the conversation as a whole shows (the first turn said 瘫在床上, this one
    says the son was taken to quarantine and nobody feeds her), read with the words' own context."""
    out: list[Observation] = []
    if re.search(_TAKEN, text) and (re.search(_NEEDS_CARE, text) or _needs_care(case)):
        for m in re.finditer(_ALONE, text):
            out.append(Observation("urgent", True, turn, m.group(0), context_of(text, m.start(), m.end()),
                                   whose_of(text, m.start(), case.subject)))
    fled = re.search(_VIOLENCE, text) or re.search(_FLEEING, text) or any(
        o.kind == "fled" and o.context == "affirmed" for o in case.observations)
    if fled:
        for m in re.finditer(_ROUGH, text):
            out.append(Observation("urgent", True, turn, m.group(0), context_of(text, m.start(), m.end())))
    for m in re.finditer(_FLEEING, text):
        if re.search(_VIOLENCE, text) or any(o.kind == "fled" for o in case.observations):
            out.append(Observation("fled", True, turn, m.group(0), context_of(text, m.start(), m.end())))
    if any(o.kind == "urgent" and o.context == "affirmed" for o in out):
        out.append(Observation("urgent_reason", text.strip()[:500], turn))
    return out


def observe(text: str, *, turn: int, as_of: date, subject: str | None = None) -> list[Observation]:
    """The case kinds this message states, each with its context and whose it is."""
    out: list[Observation] = _emergencies(text, turn, subject)
    for kind, rx in _detectors():
        for m in rx.finditer(text):
            ctx = context_of(text, m.start(), m.end())
            if kind == "graduate" and re.search(r"(?:快|快要|马上|明年|后年|即将|将要|准备|还没|没)$", text[max(0, m.start() - 3):m.start()]):
                ctx = "hypothetical"  # 快毕业了: not yet a graduate
            out.append(Observation(kind, True, turn, m.group(0), ctx, whose_of(text, m.start(), subject)))
    # the day the work stopped (宾馆去年十月就关了 / 厂子5月份停工): no income may be counted from it
    for m in re.finditer(dict(_DETECTORS)["work_stopped"], text):
        lo, hi = _bounds(_CLAUSE_END, text, m.start(), m.end())
        for d in since.calendar_dates(text[lo:hi], as_of):
            out.append(Observation("stopped_on", d.day.isoformat(), turn, text[lo + d.start:lo + d.end],
                                   "affirmed", whose_of(text, m.start(), subject)))
    starts = since.start_dates(text, as_of)
    for s in starts:
        lo, hi = _bounds(_SENTENCE_END, text, s.start, s.end)
        tail = text[s.end:hi]
        head = text[lo:s.start]
        if re.match(r"\s*(?:就|又|才|都)?(?:发|领|给|补|办|评|享受|吃|上班|上学|干活|打工|务工|找到|住院|治疗|看病)", tail):
            continue  # 6月份开始发 / 从五月份开始上班了: the start of a payment or of work, not of no income
        if not re.search(r"没|停|关|断|辞|失业|不让|丢|无|莫|歇|黄|倒闭|闲|待业|欠", tail + head):
            continue
        ctx = context_of(text, s.start, s.end)
        out.append(Observation("income_since", s.day.isoformat(), turn, text[s.start:s.end],
                               "affirmed" if ctx in ("historical", "affirmed") else ctx,
                               whose_of(text, s.start, subject)))
    return out


def _place_role(text: str, start: int, end: int, subject: str | None) -> str | None:
    """home | hospital | work | location | caller for a county or city named at text[start:end]."""
    before = text[max(0, start - 6):start]
    c_lo, c_hi = _bounds(_CLAUSE_END, text, start, end)
    after = text[end:min(c_hi, end + 14)]
    if re.search(r"(?:老家|家在|家住|户口在|户籍在|住在|家是|户口是|原籍)(?:是|在)?$", before) or \
            re.match(r"^(?:县|区|市)?(?:的|人)(?:$|[，,。！!？?\s]|农村|城里|县城)", after) or re.search(r"是$", before):
        return "home"
    if re.match(r"^[^，,。！!？?]{0,8}?(?:医院|住院|看病|治病|就医|方舱|手术|化疗|透析|ICU|重症|总院|附院|医大|诊所|卫生院)", after) or \
            re.search(r"(?:去|到|转到|送到|送去|在)$", before) and re.match(r"^[^，,。！!？?]{0,8}?(?:医院|住院|看病|治)", after):
        return "hospital"
    if re.match(r"^[^，,。！!？?]{0,6}?(?:火车站|汽车站|车站|街上|路边|服务区|桥洞|宾馆|旅馆|高速|机场)", after) or \
            re.search(r"(?:困在|滞留在|滞留|被困|流落|流落到|到了|跑到|逃到|躲到|跑出来到)$", before):
        return "location"
    if re.match(rf"^[^，,。！!？?]{{0,8}}?(?:打工|务工|上班|干活|打零工|{_WORKPLACE})", after) and \
            re.search(r"(?:在|去|到|跑)$", before):
        return "work"
    if subject and whose_of(text, start, None) == "caller" and re.search(r"(?:我|俺|额)(?:现在|一直|也)?(?:在|去|到)$", before) \
            and subject not in text[c_lo:start]:
        return "caller"  # 我在银川 while the case is my uncle's
    return None


def _fact_observations(found: Extraction, text: str, turn: int, case: CaseFile) -> list[Observation]:
    """The per-message Facts as observations (the extractor has already read their context)."""
    out: list[Observation] = []
    whose = "subject" if case.subject else "caller"
    spans: dict[str, list[dict]] = {}
    for e in found.entities:
        spans.setdefault(e["entity"], []).append(e)
    for key, value in found.facts.items():
        if key in ("statuses", "not_statuses"):
            for code in value:
                span = next((e for e in spans.get("status", []) + spans.get("not_status", []) if e["value"] == code), None)
                if span and context_of(text, span["start"], span["end"]) == "hypothetical":
                    continue  # 是不是马上就把我家低保停了 / 担心以后被取消: asked or feared, not what happened
                out.append(Observation("status", code, turn, span["text"] if span else "",
                                       context="affirmed" if key == "statuses" else "negated", whose=whose))
            continue
        if key in ("county", "city"):
            places = spans.get(key, [])
            roles = [_place_role(text, e["start"], e["end"], case.subject) for e in places]
            for i, e in enumerate(places):
                if context_of(text, e["start"], e["end"]) == "historical":
                    roles[i] = "past"  # 之前在永宁那边托养: where somebody was, not where the household lives
            for i in range(len(places) - 1):
                # 我永宁的 我哥在平罗县城 / 我是同心县的 帮老邻居问…在红寺堡区住: the caller's own place, then
                # the place of the person the call is about
                between = text[places[i]["end"]:places[i + 1]["start"]]
                if re.search(r"(?:我|俺|额)(?:是|在)?$", text[max(0, places[i]["start"] - 3):places[i]["start"]]) \
                        and re.search(_ABOUT_SOMEBODY, between):
                    roles[i] = "caller"
                    if roles[i + 1] is None:
                        roles[i + 1] = "home"
            for e, role in zip(places, roles):
                out.append(Observation(key, _place_value(key, e), turn, e["text"], whose=whose, role=role))
            if not spans.get(key):
                out.append(Observation(key, value, turn, whose=whose))
            continue
        if key == "urgent":
            e = next((e for e in spans.get("urgent", []) if e["value"] == "true"), None)
            ctx = context_of(text, e["start"], e["end"]) if e and value else "affirmed"
            if e and re.match(r"^(?:钱|的钱|款)", text[e["end"]:e["end"] + 2]):
                ctx = "figurative"  # 救命钱: money that matters, no emergency
            out.append(Observation("urgent", value, turn, e["text"] if e else "",
                                   ctx if ctx in ("affirmed", "figurative") or not value else ctx, whose=whose))
            continue
        if key in ("months_without_income", "medical_out_of_pocket") and spans.get(key):
            e = spans[key][-1]
            if context_of(text, e["start"], e["end"]) == "hypothetical":
                continue  # 是不是必须连续3个月 / 要是自付超过两万: the measure's condition asked, not the caller's figure
        if key == "age" and spans.get("age"):
            # 带着6岁的娃 / 娃才三岁: the child's age, not the person the case is about (unless an orphan's case)
            for e in spans["age"]:
                try:
                    said = int(float(e["value"]))
                except (TypeError, ValueError):
                    said = value
                child = re.search(_CHILD_BEFORE, text[max(0, e["start"] - 5):e["start"]])
                out.append(Observation("child_age" if child else "age", said, turn, e["text"], whose=whose))
            continue
        out.append(Observation(key, value, turn, whose=whose))
    # a city named besides a county the extractor already folded (去银川住院 next to 西吉县) keeps its role;
    # the county's own city (固原原州区) adds nothing
    if "county" in found.facts and "city" not in found.facts:
        own = {_county_city(o.value) for o in out if o.kind == "county"}
        for e in spans.get("city", []):
            value = _place_value("city", e)
            if value not in own:
                out.append(Observation("city", value, turn, e["text"], whose=whose,
                                       role=_place_role(text, e["start"], e["end"], case.subject)))
    return out


_ABOUT_SOMEBODY = (rf"(?:我|俺|额)(?:的)?(?:哥|姐|弟|妹|{'|'.join(KIN)})|{'|'.join(ELDERS)}|邻居|老汉|老人|老奶奶|老大爷|"
                   r"(?:帮|替|给|代)[^，,。！!？?]{0,8}?(?:问|咨询|打听)|他|她")
_CHILD_BEFORE = r"(?:娃娃|娃|孩子|小孩|碎娃|儿子|女儿|闺女|孙子|孙女|外孙|宝宝|带|带着|领着)(?:才|刚|今年|都|有)?$"


def _county_city(county: str) -> str | None:
    from policy_kb.tables import resolve_county

    found = resolve_county(county)
    return found.city if found else None


def _place_value(key: str, entity: dict):
    from policy_kb.tables import resolve_city, resolve_county

    if key == "county":
        county = resolve_county(entity["value"])
        return county.name if county else entity["value"]
    return resolve_city(entity["value"]) or entity["value"]


_CORRECTION = re.compile(rf"(?:{lexicon.CORRECTION}|其实|准确说|应该是|确切地说)")
_BARE_NUMBER = re.compile(rf"(?P<num>{NUMERAL})(?P<unit>万|千|块|元|口人|口|个人|个月|月|岁)?")
_STANDS_ALONE = re.compile(r"\s*(?:了|吧|呢|啊|才对|才是)?\s*(?:$|[，,。！!？?；;、\s])")
_NUMBER_KINDS = ("medical_out_of_pocket", "household_size", "months_without_income", "age")


def _corrections(text: str, turn: int, case: CaseFile, found: Extraction) -> list[Observation]:
    """不对，是两万八 / 说错了，三个月: a bare figure after a correction word replaces the figure said last
    (the most recent number the case holds), when this message did not already state that field."""
    m = _CORRECTION.search(text)
    if not m:
        return []
    said_here = [e for e in found.entities if e["entity"] in _NUMBER_KINDS and e["end"] <= m.start()]
    if said_here and not any(e["entity"] == said_here[-1]["entity"] and e["start"] >= m.end() for e in found.entities):
        # 家里三个人 不对…现在是四个人: the figure corrected was said in this very message
        last = Observation(said_here[-1]["entity"], None, turn, whose="subject" if case.subject else "caller")
    else:
        earlier = [o for o in case.observations if o.kind in _NUMBER_KINDS and o.turn < turn and o.counts]
        if not earlier:
            return []
        last = earlier[-1]
        if last.kind in found.facts:
            return []
    for n in _BARE_NUMBER.finditer(text, m.end()):
        value = parse_number(n.group("num"))
        if value is None:
            continue
        unit = n.group("unit") or ""
        if not unit and not _STANDS_ALONE.match(text, n.end()):
            continue  # 入职一家公司 / 第一次: a numeral inside words, not a figure restated
        if last.kind == "medical_out_of_pocket" and (value >= 100 or unit in ("万", "千", "块", "元")):
            return [Observation(last.kind, int(round(value)), turn, n.group(0), whose=last.whose)]
        if last.kind == "household_size" and unit in ("", "口人", "口", "个人") and 1 <= value <= 30:
            return [Observation(last.kind, int(value), turn, n.group(0), whose=last.whose)]
        if last.kind == "months_without_income" and unit in ("", "个月", "月") and 0 <= value <= 120:
            return [Observation(last.kind, int(value), turn, n.group(0), whose=last.whose)]
        if last.kind == "age" and unit in ("", "岁") and 0 <= value <= 130:
            return [Observation(last.kind, int(value), turn, n.group(0), whose=last.whose)]
    return []
