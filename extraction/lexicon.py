"""The hand-kept word lists: how callers and agents say each fact.

Counties and cities are NOT here: they come from policy_kb's tables (policy_kb/data/counties.yaml).
Each term rule: entity (a Facts field, "status" or "measure"), value, `terms` (literal forms, also fed
to the jieba user dictionary) and/or `re` (a pattern), how negation acts on it (`neg`), and
contexts: `requires` (in the same sentence), `not_before` (just before, same clause), `not_after`.
"""
from __future__ import annotations

import re

from extraction.numbers import DIGITS

CN_DIGITS = "".join(DIGITS)
# Separators around one-character note tokens such as 农 / 城 (agents type "西吉 农 低保 4口").
SEP = r"[\s，,。；;、:：/|]"
_TOKEN_BEFORE = rf"(?:(?<=^)|(?<={SEP}))"
_TOKEN_AFTER = rf"(?=$|{SEP})"

# Words after a place name that make it a street, a palace or a slogan rather than a county.
PLACE_NOT_AFTER = r"(?:路|街|大街|大道|宫|公园|广场|王陵|王朝|文字|政策|补贴|资金|贷款|卡|一卡通|惠民|协力|同德|圆|结)"
PLACE_BLOCKERS = {
    # 金凤 is also a common given name (王金凤).
    "金凤区": {"before": r"(?:叫|名叫|名字叫|姓|[王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤])$"},
}

OTHER_RESIDENCE = {"urban": "rural", "rural": "urban"}

# Place names with a numeral in them (三营镇, 七营, 二十里铺, 五里坡, 三关口, 二道沟, 六盘山, 八里桥, 三组): the numeral
# counts nothing. A numeral followed by a place word; 口 only as 关口/岔口/路口 (4口 is four people).
PLACE_NUMERAL = (rf"(?<![0-9{CN_DIGITS}十百])[{CN_DIGITS}十百0-9]+(?=(?:里|道)?"
                 r"(?:营|堡|铺|坡|屯|寨|墩|岔|沟|湾|滩|庄|关|桥|渠|峁|塬|梁|咀|嘴|洼|盘山|镇|乡|村|社区|街道|大街|街|路|巷|"
                 r"组|队|号院|号楼|栋|单元))")

# Sentence contexts that make a bare number mean months without income / medical costs.
INCOME_LOSS = (
    r"没收入|无收入|没有收入|没了收入|没啥收入|没什么收入|没有啥收入|断了收入|收入断|收入没了|没进项|没有进项|没活|没了活|"
    r"没有活|没工作|没有工作|失业|停工|没挣|挣不上|挣不到|没上班|没法上班|上不了班|闲着|待业|歇着|歇业|一分钱|没工资|"
    r"没发工资|工资没发|找不到工作|没找到工作|没找上工作|没找下工作|找不下工作|没找到活|找不到活|没事干|没钱|没了收入来源|没有收入来源|收入来源|断顿|"
    r"回不去|在家待|呆在家|待在家|没营业|关门|倒闭|收入"
)
# A correction (不对，记错了，是俩月) corrects what the caller said before, and in this conversation a count of
# months is the months without income: the next message's 俩月 replaces the 四个月 (later values win in merge_facts).
CORRECTION = r"不对|记错|说错|搞错|弄错|口误|错了|更正|纠正"
MONTHS_CONTEXT = INCOME_LOSS + "|" + CORRECTION
# How long ago someone graduated (大学毕业两年了, 毕业都半年多了, 两年前毕业的) is no count of months without
# income unless the sentence says so plainly (NO_INCOME_STRICT); 在家待着 or a bare 收入 are not enough.
GRADUATED_BEFORE = r"毕业(?:了|都|已经|才|快|有|差不多|将近|刚|刚刚|也|到现在|至今|以来|后|以后|之后)*$"
GRADUATED_AFTER = r"(?:多|了|来)?(?:前|以前|之前)?(?:刚|才|就)?(?:大学|大专|本科|研究生|专科|高职)?毕业"
NO_INCOME_STRICT = (
    r"没收入|无收入|没有收入|没啥收入|没什么收入|没有任何收入|没了收入|断了收入|收入断|收入没了|零收入|没进项|没有进项|一分钱|"
    r"没挣|挣不上|挣不到|没工资|没发工资|没工作|没有工作|没找到工作|找不到工作|没找上工作|没找下工作|没活|没有活|没上班|"
    r"待业|失业|没就业|未就业|就不了业|没事干"
)
MEDICAL_COST = (
    r"看病|医药费|医疗费|住院|治病|药费|自付|自负|自费|自己掏|自己出|自己花|报销|花了|花费|门诊|透析|化疗|手术|医院|"
    r"治疗|大病|医保|吃药|慢病|慢特病|个人负担|个人承担|自掏腰包|"
    # 住了两回院 / 自己还掏了 / 报完了: the same words split by a count or an adverb
    r"住(?:了|过)?[0-9一两二三四五六七八九十几]*(?:回|次|趟)?院|自己(?:还|又|也|都|另外)(?:掏|出|花|付)|报完"
)
# A bare N月 (no 个) after a year or a starting word, or before what a date carries, is a month of the calendar
# (去年6月大学毕业, 从3月起, 5月份, 6月毕业的): no count of months without income. 两/俩/仨 name no month.
CALENDAR_MONTH_BEFORE = r"(?:年|从|自|自从|打|到|至|于|截至|截止|等到|直到)$"
CALENDAR_MONTH_AFTER = (r"(?:份|底|初|末|上旬|中旬|下旬|起|以来|开始|毕业|就|那会|那阵|那时|的时候|时|号|日|"
                        r"[0-9一二三四五六七八九十]+(?:号|日))")
# Counters that make a numeral a count of something else (两回, 三次, 两个月, 五口): no age, no sum.
COUNTERS = "个月年天口块元次回趟号日周礼星"

_Q_AFTER = r"(?:的)?(?:标准|政策|条件|怎么|咋|能不能|能否|可以|可不可以|多少|是多少|金额|的钱|渐退|范围|申请|审批|办理|手续|的事|资格|线|资金|待遇|有啥|有什么|是啥|是什么|吗|么|人员认定|认定|政策)"
_Q_BEFORE = (r"(?:申请|想|想要|要办|能不能|能否|可不可以|怎么|咋|如何|咨询|了解|办理|够不够|符合|够|是不是|算不算|问|啥是|什么是|"
             # talked about, not held (没人跟我说过低保, 听说过特困)
             r"关于|给|说过|讲过|提过|听过|说起|提起|说说|讲讲|聊聊)")

TERM_RULES: list[dict] = []


def _term(entity, value, terms=(), re_=None, **kw):
    parts = []
    if terms:
        parts.append("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    if re_:
        parts.append(re_)
    TERM_RULES.append({"entity": entity, "value": value, "terms": list(terms), "re": "|".join(parts), **kw})


# A status said of somebody else (有人…吃低保, 村会计冒领了死人的低保) is not the caller's.
THIRD_PARTY = r"有人|人家|别人|干部|村长|支书|书记|会计|主任|死人|亲戚家|有钱人|老板|关系户"
FIRST_PERSON = r"我|俺|额|咱|自己|本人|娃|孩子|老人|老汉|婆姨|老伴|爸|妈"


def _status(code, terms=(), re_=None, **kw):
    kw.setdefault("neg", "not_status")
    kw.setdefault("not_before", _Q_BEFORE)
    kw.setdefault("third_party", True)
    kw.setdefault("tense", True)
    _term("status", code, terms, re_, **kw)


# ---- who, when and how sure (read by core._context) ----
# Somebody outside the household (我邻居是低保户, 我表哥失业了, 村里好多人吃低保): what is said of them is
# not the caller's fact. 邻居家的娃 is still the neighbour's; 我和邻居都是 includes the caller.
OTHER_PERSON = (r"邻居|隔壁|邻家|街坊|同事|工友|朋友|同学|老乡|战友|亲戚|表哥|表姐|表弟|表妹|堂哥|堂姐|堂弟|堂妹|"
                r"舅舅|舅妈|姑姑|姑父|姑妈|姨妈|姨夫|小姨|叔叔|婶婶|婶子|大伯|伯伯|侄子|侄女|外甥女|外甥|别人|别家|"
                r"其兄|其弟|其姐|其妹|其兄弟|其姐妹|旁人|别的人|有些人|有的人|好多人|很多人|不少人|村里人|村里的人|人家|有人|"
                r"好几家|好多家|很多家|不少家|有几家|有的家|家家户户|家家|别的户|有的户|好些人|好些家|全村")
SELF_PERSON = (r"(?:家里|家中|屋里|屋里头|家)(?:有人|人)|家人|我|俺|额|咱|自己|本人|娃|孩子|老人|老汉|婆姨|老伴|爸|妈|爹|娘|儿子|女儿|老婆|媳妇|男人|丈夫|妻子|"
               r"爷爷|奶奶|大大")
PERSON_MENTION = (rf"(?P<both>(?:我|俺|额|咱)(?:们)?(?:家)?(?:和|跟|同|与|还有)(?:{OTHER_PERSON}))"
                  # 跟着叔叔过 (lives with), 帮邻居问 (asks for them): that person is no subject of somebody else's facts
                  rf"|(?<!跟着)(?<!跟)(?<!随)(?<!帮)(?<!替)(?<!给)(?<!小)"
                  rf"(?P<other>(?:{OTHER_PERSON})(?:家|的|家的|家里|家里的|屋里)*(?:{SELF_PERSON})?)"
                  rf"|(?P<self>{SELF_PERSON})")
# After a status said of somebody else, the caller's own short reply: 我不是 / 俺家没有 / 我也是.
# A few words about the caller's own household may come between only before a status's own verb
# (俺老汉瘫在床上还没评上); a bare 没有 after other words may deny those words (我们穷人没有: unsure, left unset).
SELF_ELLIPSIS = (r"^(?:但是?|可是?|而|就)?(?:我|俺|额|咱)(?:们)?(?:家|屋里|屋里头)?"
                 r"(?:[^，,。！!？?；;\s]{1,8}?(?P<gap_adv>(?:却|倒|就|也|都|还|可|一直)*)"
                 r"(?P<gap_neg>没评上|没批|没吃上|没领上|没纳入|没认定|没办下来|没批下来)"
                 r"|(?P<adv>(?:却|倒|就|也|都|还|可|一直)*)"
                 r"(?:(?P<neg>不是|没有|没|不算|没吃|没领|没评上|没批|没享受|没得|莫有|木有)|(?P<pos>是|有|吃着|领着|在吃|在领)))"
                 r"(?:的|呢|啊|嘞|哩|了|呀)*$")

# Time words that put a status in the past (以前是低保户, 原来吃低保, 曾是特困, 原低保户): they say nothing of
# now. 以前就是低保户 ("already then") is held. A year (去年, 前年) counts only with 还 (前年还是特困).
_PAST = (r"以前|之前|从前(?!年|天|两|几)|原来|原先|原本|本来|过去|早先|早前|早年|曾经|曾(?=是|为|吃|领|享受|被|纳入|评)|先前|以往|"
         r"往年|当年|那时候|那时|那会儿|那会|那阵子|那几年|前些年|前几年|早些年|头几年|原(?=低保|五保|特困|边缘)")
_PAST_YEAR = r"去年|前年|大前年|上半年|上个月|上月|年前|年初|那年|前两年|前段时间|前一阵|小时候"
_NOW = r"现在|目前|如今|眼下|至今|今年|当前|这会儿"
TIME_MENTION = (rf"(?P<past>(?:{_PAST})(?!就|早就|已经|都已经)"
                rf"|(?:{_PAST_YEAR})[^，,。！!？?；;：:\s]{{0,6}}?还(?=是|有|在|吃|领|拿|享受|算|属于))"
                rf"|(?P<now>{_NOW})")
# 吃过低保 / 低保也吃过两年: held once, not said to be held now (没吃过低保 is a plain negation).
PAST_ASPECT_BEFORE = r"(?:吃|享受|领|拿|当|评上|办|是|进)过(?:几年|一阵|一阵子|一段时间|[0-9一两二三四五六七八九十几]+年)?(?:的)?$"
PAST_ASPECT_AFTER = r"^(?:也|都|还)?(?:吃|享受|领|拿|当|评)过"
# …and a later clause that ends in 退了 / 停了 / 取消了 / 不是了 says it ended (那时候吃低保，后来娃工作了就退了).
PAST_ENDED = (r"(?:退|停|取消|撤销|撤|清退|停发|断|退出|顶掉|刷掉)(?:了|掉了)|(?:不是|没有?|不吃|不领|不给|不享受)了|"
              r"已(?:停|退|退出|取消|停发|清退|撤销)"
              r"(?=$|[，,。！!？?；;\s）)])")
# …but a later 现在还是 / 现在也有 / 到现在还在吃 says it is held now.
STILL_HELD = (rf"(?:{_NOW}|到现在|一直)(?:也|还|仍|仍然|依然|照样|一直|都)*(?:是|有|在吃|在领|吃着|领着|享受着|在享受)"
              r"(?:着|的|了)?(?:呢|啊|嘞|哩|呀)?(?=$|[，,。！!？?；;\s])")

# Hedges before a fact in its clause (好像是低保, 可能有三个月没收入, 估计是特困, 疑似阳性): the caller is unsure,
# so the field stays unknown. Approximate numbers (大概四口人, 估计三个月, 差不多两万) are still numbers.
_HEDGE_NUMBER = (r"好像|好象|可能|也许|或许|似乎|恐怕|兴许|说不定|听说|不知道|不晓得|不清楚|搞不清|弄不清|记不清|记不得|"
                 r"说不清|说不准|不确定|不敢肯定|拿不准|疑似|怀疑|八成|多半|怕是")
HEDGE_BEFORE = rf"(?:{_HEDGE_NUMBER}|大概|大约是|估计|估摸|约莫|差不多|应该|没准)(?![^，,。！!？?；;\s]*?(?:咋|怎么|怎样|如何|啥|什么|哪))"
HEDGE_BEFORE_NUMBER = rf"(?:{_HEDGE_NUMBER})(?![^，,。！!？?；;\s]*?(?:咋|怎么|怎样|如何|啥|什么|哪))"
# An estimate of how long (大概瘫痪了两年): the estimate is the duration's, the fact stands.
DURATION_AHEAD = r"(?:了|过)?(?:有)?[0-9一两二三四五六七八九十几半]+(?:多)?(?:个)?(?:年|月|天|礼拜|星期)"
# A clause that is nothing but a hedge (低保户，好像是 / 三个月没收入，大概吧 / 低保户（待核实）) hedges the one before.
# Suppositions (如果是低保户能领多少, 要是确诊了咋办, 万一被隔离了, 只要是低保户, 低保户的话) and what is only about to
# happen (快要失业了, 马上就评上低保了, 要被隔离了): nothing the caller says holds now.
SUPPOSE_BEFORE = (r"如果|要是|假如|假设|假使|万一|比如|比方说|打个比方|若是|倘若|一旦|等到|"
                  r"等(?=[^，,。！!？?；;\s]{1,8}(?:了|以后|之后)(?:我|俺|额|咱|们)*(?:再|才|就))")
SUPPOSE_AFTER = r"[^，,。！!？?；;\s]{0,6}?的话"
SUPPOSE_CLAUSE = r"^(?:比如|比如说|比方说|打个比方|假如说|假设|如果说|要是说|举个例子)$"
FUTURE_BEFORE = r"(?:快要|快|马上就要|马上就|马上|即将|将要|就要|眼看就要|眼看|要|要被|快被|快要被)$"
# A status that could be had (告诉我们能吃低保, 可以评特困, 够条件吃低保) is not held.
MODAL_BEFORE = r"(?:能|可以|能够|该|应该|应当|够条件|有资格)(?:评|吃|领|享受|办|拿|纳入|进)?(?:上)?$"
# A bare answer that is unsure (好像是, 可能吧, 不太清楚, 应该是吧). 大概/差不多 + a number is an estimate, kept.
HEDGE_ANSWER = (rf"^(?:我|俺|额)?(?:也)?(?:{_HEDGE_NUMBER}|应该是吧|大概是吧|大概吧|估计是吧|说不好|不太清楚|记不太清|"
                r"不好说|待核实|不详)")
# A bound, not a count (不到三个月, 还没满半年, 三个月不到, 六十不到): the number is no fact.
NUMBER_BOUND_BEFORE = r"(?:不到|不满|没满|没到|不足|未满|不够|没有)$"
NUMBER_BOUND_AFTER = r"(?:不到|不满|不足|都不到|还不到)"
# How long a benefit was drawn or paid for (吃过两年低保, 交了三年失业保险) is no count of months without income.
BENEFIT_SPAN_BEFORE = r"(?:吃|领|享受|拿|交|缴)(?:了|过)$"
BENEFIT_SPAN_AFTER = r"(?:的)?(?:低保|五保|特困|失业金|失业保险|失业险|社保|高龄津贴|高龄补贴)"
HEDGE_CLAUSE = (r"^(?:我|俺|额)?(?:也)?(?:好像是|好像|可能是|可能|大概是|大概|应该是|也许是|也许|估计是|不确定|不太确定|"
                r"不敢确定|不敢肯定|记不清|记不太清|记不清楚|不太清楚|不清楚|说不准|说不好|说不清|拿不准|待核实|待确认|待查|"
                r"不详|存疑|未核实|未确认|需核实)(?:了|吧|呢|啊|的)*$")

# 停了几个月又恢复了: held again.
STATUS_RESTORED_AHEAD = r"(?![^。！!？?；;]{0,10}?(?:恢复|重新(?:批|评|办|纳入|给)|又(?:批|评|办|给|吃|领)(?:上|下来|了)))"

# ---- statuses (the longest form wins: 低保边缘户 before 低保户 before 低保) ----
_status("dibao", ["低保户", "低保对象", "低保家庭", "低保人员", "低保人口", "吃低保", "吃着低保", "吃上低保", "吃的低保",
                  "享受低保", "享受着低保", "领低保", "领着低保", "拿低保", "拿着低保", "有低保", "纳入低保", "办了低保",
                  "办上低保", "评上低保", "评上了低保", "上了低保", "低保户口", "吃上了低保", "在吃低保", "吃低保的",
                  "吃低宝", "低宝户", "低保护"],
        not_after=r"(?:标准|政策|条件|怎么|咋|能不能|多少|是多少|资格|认定|吗)")
# The household's own dibao money late or paid (低保的钱这个月还没到 / 低保金发了): the household is on dibao.
_status("dibao", re_=r"低保(?:的钱|金|款|费)(?=(?:这个月|这月|上个月|今年|也|还|都|一直)*(?:没到|没到账|没发|没打|晚了|迟了|到了|发了|少了|打过来))",
        not_after=r"(?:标准|政策|条件|怎么|咋|能不能|多少|是多少|资格|认定|吗)")
# Bare 低保 in a question (农村低保一年多少钱) names the benefit, not the caller's status.
# (评低保 / 停低保 / 审批低保 name the procedure: 村里评低保全看关系)
_status("dibao", ["低保"], not_before=_Q_BEFORE + r"|(?:评|停|审批|审核|批)$", not_after=_Q_AFTER + r"|边缘|人口数据|户|还是"
                                          r"|[^，。,；;\s]{0,6}(?:多少|吗|怎么|咋|啥|什么|哪|谁|多久|几时|何时|材料|手续)"
                                          r"|(?:也|都|就|全)?(?:给了?|让给|分给|批给|弄给|被|叫)[^，。,；;\s]{0,6}(?:亲戚|关系户|干部|有钱人|自家人|家属)",
        priority=-1)
_term("not_status", "dibao", re_=r"低保[^，,。\s]{0,4}?(?:被)?(?:取消|停|退|撤|清退|退出)(?:了|掉了)"
      r"(?!(?:的话|吗|么|嘛|没有?[？?]|不[？?]))" + STATUS_RESTORED_AHEAD, neg="none",
      third_party=True, not_before=r"(?:如果|要是|假如|万一|会不会|怕|担心|害怕|是不是|听说)[^，,。]{0,4}$")
# The caller's own status given to somebody else (俺的低保叫村干部给了他亲戚); without 我/俺 it is a complaint
# about how statuses are handed out (低保都给了村干部的亲戚), not the caller's fact.
for _code, _word in (("dibao", "低保"), ("tekun", "(?:五保|特困)")):
    _term("not_status", _code,
          re_=rf"(?:我|俺|额|咱)(?:们)?(?:家|屋里)?的{_word}(?:也|都|就)?[^，,。！!？?；;\s]{{0,6}}?给了[^，,。！!？?；;\s]{{0,6}}?"
              r"(?:亲戚|别人|人家|家人|关系户|自家人|儿子|女儿|小舅子)",
          neg="none", priority=8)
# Spans that look like facts but are not: an either-or question, slogans and policy names.
_term("_skip", "skip", ["同心协力", "同心同德", "惠农政策", "惠农补贴"],
      re_=r"(?:城市|城镇|城里)(?:低保)?(?:还是|或者|和|跟|与)(?:农村)(?:低保)?|农村(?:低保)?(?:还是|或者|和|跟|与)(?:城市|城镇|城里)(?:低保)?",
      neg="none", priority=5)
_status("tekun", ["特困供养人员", "特困供养对象", "特困供养", "特困人员", "特困户", "特困对象", "特困老人", "特困",
                  "五保户", "五保老人", "五保", "集中供养", "分散供养", "分散供养特困人员"],
        not_after=_Q_AFTER + r"|供养标准|生活困难")
_status("dibao_marginal", ["低保边缘户", "低保边缘家庭", "低保边缘人口", "低保边缘人员", "低保边缘", "边缘低保户", "边缘户"],
        not_after=_Q_AFTER)
_status("orphan_institutional", ["机构内养育孤儿", "机构养育孤儿", "福利院的孤儿", "福利院里的孤儿", "孤儿院的孤儿",
                                 "福利院养的孤儿"])
# In an institution, said without a negation (没进福利院 / 不在孤儿院 says the child is not in one).
_IN_INSTITUTION = (r"(?<!没)(?<!不)(?<!未)(?<!没进)(?<!没去)(?<!没住)(?<!没送)(?<!不在)(?<!没在)(?<!不进)(?<!不去)"
                   r"(?<!没进了)(?<!没送到)(?<!没送去)(?<!不愿去)(?<!不想去)(?<!不让进)"
                   r"(?:儿童福利院|福利院|孤儿院|儿童村|福利机构|养育机构|机构里|机构内)")
_RAISED_AT_HOME = (r"跟着|跟我|跟俺|跟额|和我|我养|俺养|额养|我带|俺带|额带|拉扯|亲戚|爷爷|奶奶|外公|外婆|姥姥|姥爷|舅|叔|姑|"
                   r"姨|散居|在家|哥|姐|没进|没去|没送|不在福利院|不在孤儿院")
_status("orphan_institutional", ["孤儿"], requires=_IN_INSTITUTION,
        not_after=_Q_AFTER + r"|院|津贴|补贴|基本生活费")
_status("orphan_scattered", ["社会散居孤儿", "散居孤儿"], not_after=r"(?:津贴|补贴|基本生活费|标准)")
_status("orphan_scattered", ["孤儿"], requires=_RAISED_AT_HOME,
        not_after=_Q_AFTER + r"|院|津贴|补贴|基本生活费", priority=-1)
# A child whose parents have both died (孩子爹妈都没了, 娃父母双亡, 孙子他爹他妈都不在了) is an orphan, said in
# plain words; raised at home → scattered, in an institution → institutional. An adult's 我爹妈都没了 is none.
_CHILD = r"孩子|娃|孙子|孙女|外孙|侄子|侄女|小孩|小娃|孩娃|碎娃|小朋友"
_PARENTS_GONE = (r"(?:爹妈|爹娘|父母|爸妈|爸爸妈妈|爹和妈|爸和妈|他爸他妈|他爹他妈|她爸她妈|大大和妈|父母亲)(?:两个|俩)?"
                 r"(?:都|也|早都|早就|全|早)*(?:没了|不在了|去世了|走了|死了|过世了|没有了|不在人世了|病死了|亡故了)"
                 r"|父母双亡|双亲(?:都|早)?(?:不在了|去世了|亡故了)")
_status("orphan_scattered", re_=_PARENTS_GONE, requires=_CHILD, requires_also=_RAISED_AT_HOME,
        not_after=r"(?:以后|之后|后)?(?:的话|咋办|怎么办)", priority=-1)
_status("orphan_institutional", re_=_PARENTS_GONE, requires=_CHILD, requires_also=_IN_INSTITUTION,
        not_after=r"(?:以后|之后|后)?(?:的话|咋办|怎么办)")
_status("low_income_registered", ["低收入人口数据库", "低收入人口库", "低收入数据库", "低收入库", "低收入人口信息库",
                                  "低收入人口", "低收入户", "低收入家庭", "低收入监测", "低收入对象", "低收入人群",
                                  "低收入人员", "低收入名单"],
        not_after=r"(?:标准|政策|条件|怎么|咋|多少|是多少|吗)")
_status("unstable_poverty_alleviated", ["脱贫不稳定户", "脱贫不稳定家庭", "脱贫不稳定", "不稳定脱贫户", "脱贫户不稳定"])
# Said in plain words: out of poverty but not steadily (脱贫户，有点不稳定那种 / 脱贫了但不稳当 / 怕返贫). Having fallen
# back (又返贫了) is not this status; a steady one (脱贫了，挺稳定的) is nothing.
_status("unstable_poverty_alleviated",
        re_=r"脱贫(?:户|家庭|人口|了|的)?[^。！？!?；;]{0,10}?(?<!没有)(?<!不是)"
            r"(?:不稳定|不太稳定|不大稳定|不怎么稳定|不稳当|不太稳当|不稳|不牢靠|不牢固|不扎实|不保险|"
            r"怕返贫|容易返贫|可能返贫|有返贫(?:的)?风险|返贫风险)",
        not_after=r"(?:的话|吗|么|咋办|怎么办)", priority=-1)
_status("marginal_poverty_prone", ["边缘易致贫户", "边缘易致贫家庭", "边缘易致贫", "易致贫户", "边缘致贫户",
                                   "易返贫致贫户", "边缘易致贫人口"])
_status("sudden_severe_difficulty", ["突发严重困难户", "突发重大困难户", "突发严重困难家庭", "突发严重困难",
                                     "突发重大困难", "突发困难户", "突发严重生活困难"])
_status("vagrant", ["流浪乞讨人员", "流浪乞讨", "流浪人员", "流浪汉", "乞讨", "讨饭", "要饭", "流浪"],
        not_after=r"(?:救助站|标准|政策|怎么)")
_status("elderly_allowance", ["高龄津贴", "高龄补贴", "高龄老人津贴", "高龄补助", "高龄老人补贴"],
        re_=r"(?:领|拿|享受|有)(?:着|了)?高龄(?:津贴|补贴|补助)",
        not_after=r"(?:标准|政策|条件|怎么|咋|多少|是多少|能不能|吗)")

# A status applied for but not granted, or held once and taken away (低保一直没批下来, 低保申请了还没下来,
# 以前是低保户，后来退了): the caller is not on it now. The predicate follows the status in the same clause,
# or opens the next clause after only time words and adverbs (，后来退了 / ，现在不是了 / ，没批).
# Money words in between (低保金还没发下来) are a late payment, not a lost status.
_GAP_CHARS = r"[^，,。！!？?；;：:\s金钱款标准]"
_STATUS_LEAD = (r"(?:后来|现在|目前|如今|眼下|去年|前年|今年|年初|年底|上个月|这个月|上月|最近|前些天|前一阵|但是|可是|但|可|"
                r"又|结果|已经|已|也|都|早就|早都|早|就|被|给|叫人|让人|村上|村里|乡上|乡里|镇上|上面|民政|说|还|一直|至今|"
                r"到现在|再|人家|[0-9]{2,4}年(?:[0-9]{1,2}月份?)?|[0-9]{1,2}月份?)")
# (the reason somebody gave may come first: 低保申请了，人家说超标了不给批)
_REASON_SAID = r"(?:说|讲|嫌|因为)(?:是|咱|俺|我|额|我们|俺们)?[^，,。！!？?；;：:\s]{1,6}?(?:了|[，,])?"
STATUS_GAP = rf"(?:{_GAP_CHARS}{{0,12}}?|{_GAP_CHARS}{{0,5}}?[，,\s]+{_STATUS_LEAD}{{0,3}}(?:{_REASON_SAID})?)"
# 没给批 / 没给评上 / 没被认定上 / 不给俺办: refused by somebody (a pronoun may stand between).
_REFUSED = (r"(?:没有?|未|不)(?:给|被|让|叫)(?:(?:我|俺|额|咱|他|她)(?:们)?(?:家)?)?"
            r"(?:批|评|办|认定|纳入|录入|识别)(?:下来|准|过|上|下|成|进去|进来|进)?")
STATUS_FAILED = (rf"(?:{_REFUSED}|没有?批(?:下来|准|过|上|下)?|未(?:获)?批(?:准)?|批不下来|批不了|不给批|没给批|"
                 r"(?:还)?没有?下来|没有?通过|未通过|"
                 r"没有?评上|评不上|没给评|不给评|没有?办(?:下来|成|上)|办不下来|办不成|不给办|没给办|没有?纳入|未纳入|"
                 r"驳回|被拒|拒了|取消|撤销|撤了|停(?:了|掉|发|保|办)|退(?:了|出|掉)|清退|顶掉|拿掉|去掉|划掉|刷掉|刷下来|"
                 r"不是了|没有了|没了|不给了|断了|不发了|不享受了|不让吃了|吃不上了|顶替了|冒领了|占了|"
                 r"(?:不|没)(?:吃|领|拿|享受)了|(?:还在|正在|在)(?:审批|审核|办理|办|走流程|走程序|公示|等)|审(?:批|核)中|"
                 r"(?:还)?在?等(?:着)?(?:批|审批|审核|通知)|(?:清|踢|剔|移|划|弄|刷)(?:出去|出来|除|掉)|除名|"
                 r"没有?认定(?:上|下来)?|未认定|认定不上|没有?识别(?:上|出来)|没有?录入|"
                 r"(?:还|一直|也)?没有?(?:消息|动静|信儿|回音|回信|结果|批复|音讯|下文)|"
                 r"没有?(?:纳|评|弄|办|录)(?:进去|进来|进)|没有?(?:领|拿|享受|吃)上|(?:领|拿|享受|吃)不上|"
                 # never applied for (低保还没申请, 五保没报过): not held
                 r"没有?(?:去)?(?:申请|申报|报)(?:过)?|"
                 # ended, in a note (低保户（已退出）)
                 r"已(?:退出|取消|停发|清退|撤销|停|退|撤))"
                 r"(?=了|啦|呀|啊|呢|嘛|$|[，,。！!？?；;\s）)]|[0-9一两二三四五六七八九十半好几]+个?多?(?:月|年|天|礼拜))"
                 # 低保停了吗？/ 低保取消的话: a question or a supposition, not what happened
                 r"(?!(?:了|啦)?(?:的话|吗|么|嘛|没有?[？?]|不[？?]))"
                 + STATUS_RESTORED_AHEAD)
# Recognised by somebody (乡上给我们认定成突发严重困难户, 去年被评为低保户, 划成了边缘易致贫户): held. The 给 of
# 给我们认定成 is no question (unlike 给 in _Q_BEFORE); wanting or asking (想评上, 能不能认定成) still is.
STATUS_GRANTED_BEFORE = r"(?:认定|评|定|划|列|识别|确定)(?:成|为)(?:了)?(?:个|的)?"
STATUS_GRANTED_NOT_BEFORE = _Q_BEFORE.replace("|给|", "|")
STATUS_SUPPOSED_BEFORE = r"(?:如果|要是|假如|万一|会不会|怕|担心|害怕|是不是|听说)[^，,。]{0,4}$"
# The predicate before the status: 被取消了低保, 去年退了俺家的低保.
STATUS_REMOVED_BEFORE = (r"(?:(?:取消|停|退|清退|撤销|撤|顶替|停发|拿掉|去掉|划掉|刷掉)(?:了|掉了|掉)"
                         r"(?:我|我们|俺|额|咱|俺们|额们|咱们)?(?:家|屋里|的)*"
                         # never applied for it (还没申请低保, 从来没申请过五保)
                         r"|(?:还|从来|从|一直|也|都)?没有?(?:去)?(?:申请|申报)(?:过)?"
                         # not granted (没批下低保, 没给评上特困, 不给办五保, 没给俺批低保)
                         r"|(?:还|从来|一直|也|都)?(?:(?:没有?|未)(?:给|被|让|叫)?|不(?:给|让|叫))(?:(?:我|俺|额|咱)(?:们)?(?:家)?)?"
                         r"(?:批|评|办|认定|纳入|录入|识别)(?:下来|准|过|上|下|成|进|为)?(?:了)?)")
STATUS_GRANTED = (r"(?<![没不未])(?:评上了|批下来了|批了|批准了|通过了|办下来了|办上了|纳入了|吃上了|享受上了|"
                  # 今年刚评上 / 总算批下来: granted, said without 了
                  r"(?:刚刚|刚|才|总算|终于|已经)(?:评上|批下来|批准|办下来|办上|吃上|享受上))"
                  r"(?=呀|啊|呢|的|嘛|$|[，,。！!？?；;\s])")

# ---- household size said without a numeral-and-classifier ----
_term("household_size", 2, ["老两口", "我们老两口", "就我们两口子", "就俺们两口子", "就我和老伴", "就我跟老伴",
                            "我和老伴两个人", "就我们两个人"], neg="none", priority=2)
_term("household_size", 1, ["就我一个人", "就我一个", "我一个人过", "一个人过", "一个人生活", "一个人住", "独自一人",
                            "孤身一人", "孤零零一个人", "光棍一个", "单身一人", "独居", "就俺一个人", "就额一个人",
                            "就我自己", "一个人过日子", "自己一个人"], neg="none", priority=2)

# ---- residence ----
_term("residence", "urban", ["城市户口", "城镇户口", "非农户口", "居民户口", "城市户", "城镇户", "城里", "城市", "城镇",
                             "县城", "市里", "市区", "城区", "街道上", "城里人", "城里头"],
      neg="other", not_after=r"(?:低保标准|标准|低保月标准|和农村|跟农村|还是农村|或者农村)")
_term("residence", "urban", re_=rf"{_TOKEN_BEFORE}城{_TOKEN_AFTER}", neg="none")
_term("residence", "rural", ["农村户口", "农业户口", "农村户", "农村", "村里", "村上", "乡下", "乡里", "农户", "庄子上",
                             "庄子里", "山里", "村子里", "农村人", "乡下人", "村里头"],
      neg="other", not_after=r"(?:低保标准|标准|低保月标准|和城市|跟城市|还是城市|干部|的干部|领导|政府|书记|会计)")
_term("residence", "rural", re_=r"农民(?!工)|某村|[Xx×]+村|村民", neg="other")
_term("residence", "rural", re_=rf"{_TOKEN_BEFORE}农{_TOKEN_AFTER}", neg="none")

# ---- employment (the rank in core decides between several: startup > graduate > migrant > employed) ----
_LOST_WORK = (r"失业|没活|没了活|没有活|找不到活|没找到活|没工作|没有工作|没事干|停工|停产|倒闭|辞退|裁员|被裁|干不成|"
              # (在外地打工回不去: the worker is at work and cannot get home; that loses no work)
              r"(?<!打工)(?<!务工)(?<!上班)(?<!干活)(?<!打工，)(?<!务工，)(?<!上班，)回不去|"
              r"不要人|没人要|歇业|关门|关了门|工地(?:上|里)?(?:也|都)?(?:停了|停工|封了)|没了工作|丢了工作|工作丢了|下岗|"
              r"活停了|干不了|开不了工|没法干|无法返岗|返不了岗|"
              r"不能返岗|复不了工|无法复工|不能复工|无收入|没收入|没有收入|上不了班|没法上班|没工资|拿不到工资|"
              r"工资没发|欠薪|老板跑了|工钱|厂子(?:也|都)?停了|厂里(?:也|都)?停了|回不来|没挣上|挣不上钱|放假|"
              r"一分钱(?:都|也)?没|出不来")
_GRAD_CTX = r"大学|大专|本科|研究生|毕业生|大学生|毕业|专科|高职"
_term("employment", "unemployed_migrant_worker",
      ["失业农民工", "失业的农民工", "农民工失业", "外出务工失业", "务工失业", "打工失业"],
      neg="ignore", priority=2)
_term("employment", "unemployed_migrant_worker",
      ["农民工", "外出务工", "外来务工", "务工人员", "打工的", "打工", "打零工", "务工", "出门打工", "外地打工",
       "在外打工", "进城打工", "工地上干活", "下苦", "搞副业"],
      neg="ignore", requires=_LOST_WORK)
_term("employment", "unemployed_migrant_worker", re_=r"失业(?!保险|金|证|登记|补助|救助|人员救助|生活困难人员救助)",
      neg="ignore", not_before=r"(?:不是|没有|没)$")
_term("employment", "unemployed_graduate", ["未就业大学生", "待业大学生", "没就业的大学生", "失业大学生"],
      neg="ignore", priority=2)
# (初中毕业 / 高中毕业 / 中专毕业 is no graduate of the 20 measures; 师范 / 学院 / 职院 are colleges)
_SCHOOL_NOT_COLLEGE = r"(?<!初中)(?<!高中)(?<!中专)(?<!技校)(?<!小学)(?<!职高)(?<!中学)(?<!初三)(?<!高三)"
_term("employment", "unemployed_graduate",
      re_=r"(?:大学|大专|本科|研究生|专科|高职|学院|师范|职院|院校|师专)毕业|毕业生|大学生|刚毕业"
          rf"|{_SCHOOL_NOT_COLLEGE}毕业(?:了|以后|后|之后)"
          rf"|{_SCHOOL_NOT_COLLEGE}毕业(?=[0-9{CN_DIGITS}十半快都已有才差将到的])",
      neg="ignore", requires_whole_text=True,
      requires=r"没找到工作|找不到工作|没工作|没有工作|没就业|未就业|待业|没上班|在家待|没找到活|闲着|失业|没找上工作|"
               r"没找下工作|找不下工作|就不了业|没单位|没去上班|没有找到工作|没人要|没单位要|没被录用|没录取|没找到|"
               r"工作(?:还|也|都|一直)?没(?:有)?(?:找|着落)|没收入|没有收入|无收入|一分钱|没挣|"
               # at home since (一直在家, 在家闲着, 回家种地 / 在家帮着种地: no job found)
               r"一直在家|在家(?:里)?(?:呆|闲|帮|种地|务农)|回(?:家|老家|村里?)(?:帮着|帮忙)?(?:种地|务农)|赋闲|啃老",
      not_after=r"(?:救助|补助)",
      # not graduated yet (快毕业了, 明年毕业, 马上要毕业): no graduate
      not_before=r"(?:快|快要|马上|马上就|明年|后年|即将|将要|准备|等|还要|要|没|未)$")
_term("employment", "failed_startup_graduate",
      ["创业失败", "创业失利", "创业赔了", "创业亏了", "创业搞砸了", "创业黄了", "创业亏本", "创业赔本"], neg="ignore",
      priority=3)
_term("employment", "failed_startup_graduate",
      re_=r"(?:开店|开网店|开公司|做生意|搞养殖|开饭馆|开餐馆|做买卖|干个体)(?:也|都)?(?:赔了|亏了|黄了|倒闭了|失败了|赔光了|亏光了|没做成|干垮了)",
      neg="ignore", requires=_GRAD_CTX, priority=3)
# A business of one's own (开了个奶茶店, 开了家小超市, 搞养殖, 摆摊) that failed (赔光了, 全赔进去了, 干不下去了).
_OWN_BUSINESS = (r"(?:(?:开|干|办|弄|搞)了?(?:个|一个|家|一家|间|一间)?[^，,。！？!?\s]{0,4}?(?:店|馆|公司|超市|门面|铺子|厂|作坊|工作室|摊子|摊)"
                 r"|搞(?:了)?(?:个)?[^，,。！？!?\s]{0,3}?(?:养殖|种植|合作社|大棚)|做(?:了点|了)?(?:小)?生意|做买卖|摆摊|"
                 r"自己干|创业|干个体)")
_BUSINESS_FAILED = (r"(?:赔光了|赔了|亏了|亏光了|倒闭了|黄了|关门了|干垮了|赔进去了?|全赔|血本无归|亏本了?|赔本了?|"
                    r"干不下去了|开不下去了|撑不下去了|没做成|失败了|干黄了)")
_term("employment", "failed_startup_graduate",
      re_=rf"{_OWN_BUSINESS}[^。！？!?]{{0,20}}?{_BUSINESS_FAILED}",
      neg="ignore", requires=_GRAD_CTX, requires_whole_text=True, priority=3)
_term("employment", "employed", ["正常上班", "在上班", "有稳定工作", "上着班", "还在上班", "有份工作", "在单位上班",
                                 "在厂里上班"], neg="ignore", tense=True)
_term("employment", "other", ["退休了", "已经退休", "退休", "在家种地", "务农", "种地"], neg="ignore", priority=-1)

# ---- yes/no facts ----
_term("unemployment_insurance", True,
      re_=r"(?:交|缴|缴纳|参加|买|上|有|办)(?:了|过|着)?(?:[0-9一两二三四五六七八九十几好]+(?:个)?(?:多)?(?:年|个月|月)(?:的)?)?"
          r"(?:失业(?:保险|险)|失保)", neg="flip")
_term("unemployment_insurance", True,
      re_=r"(?:领取|领|拿|在领|领着|拿着|享受|有)(?:了|着|的是)?失业(?:保险)?(?:金|待遇)|失业(?:保险)?金(?:领着|在领|还在领)",
      neg="flip", not_after=r"(?:怎么|咋|多少|标准|吗)")
_term("unemployment_insurance", False,
      re_=r"(?:失业(?:保险|险)|失保)(?:也|都|还|一直|从来)?(?:没有|没|未|木有)(?:交|缴|缴纳|参加|买|上|办|领|覆盖)?(?:过)?", neg="none",
      priority=1)
_term("unemployment_insurance", True, re_=r"(?:失业(?:保险|险)|失保)(?:也|都|一直)?(?:交|缴|买|上|参加)(?:了|着)", neg="none")
# Agents' shorthand 失保 (失业保险): 无失保 / 没失保 / 未参失保 (有失保 and 交了失保 are above).
_term("unemployment_insurance", False, re_=r"(?:无|没有?|未)(?:交|缴|参加|参|买|上)?(?:过)?失保", neg="none", priority=1)
_term("unemployment_insurance", False,
      re_=r"失业保险(?:政策)?(?:也|都)?(?:覆盖不了|覆盖不到|无法覆盖|不覆盖|没覆盖|管不上|管不了|够不上|享受不了|领不了|领不到)",
      neg="none", priority=1)
_term("unemployment_insurance", False, ["未参保", "没参保", "没有参保", "没参加保险", "没有任何保险", "啥保险都没有",
                                        "什么保险都没有", "保险也没有", "没有保险", "没交保险", "没缴保险", "无失业保险", "无失业险",
                                        "未参加失业保险", "未缴失业保险"], neg="none", priority=1)
# 都没交啥失业保险 / 从来就没给我们交过保险 (said of a job: the insurance measure 5 asks about)
_term("unemployment_insurance", False,
      re_=r"没(?:有)?(?:给[^，,。！!？?\s]{0,4}?)?(?:交|缴|买|上|参加)(?:过)?(?:啥|什么|任何)(?:失业)?(?:保险|险)"
          r"|没(?:有)?给[^，,。！!？?\s]{0,4}?(?:交|缴|买|上)(?:过)?(?:失业)?(?:保险|险)", neg="none", priority=1)
_term("unemployment_insurance", False, re_=r"失业保险(?:不管|用不上)|失业(?:保险)?金(?:早就|已经|都|也)?(?:领完|停了|断了|到期|没了)",
      neg="none", priority=1)

_term("can_return_to_work", False,
      ["回不去上班", "回不去厂里", "回不去工地", "回不了厂", "回不了单位", "回不了工地", "返不了岗", "没法返岗", "无法返岗",
       "不能返岗", "返岗不了", "复不了工", "无法复工", "不能复工", "没法复工", "复工不了", "开不了工", "上不了班",
       "没法上班", "不能上班", "上不成班", "厂子停工", "厂里停工", "工地停工", "工地停了", "厂子停了", "厂子关了",
       "厂子倒闭", "厂子倒闭了", "没法回去干活", "回不去干活", "干不成活", "去不了工地", "出不去打工", "出不了门打工",
       "回不去打工", "去不了厂里", "返不了工", "没办法上班"], neg="none")
_term("can_return_to_work", False, re_=r"厂(?:子|里)(?:也|都)?(?:停工|停了|关了|倒闭|关门|黄了)了?|工地(?:上|里)?(?:也|都)?(?:停了|停工|封了)",
      neg="none")
# The workplace will not take them back (厂里不让回, 公司不让去了, 老板不叫回来上班).
_WORKPLACE = r"(?:厂|厂里|厂子|工厂|车间|工地|工地上|单位|公司|老板|店里|饭馆|餐馆|超市|矿上|煤矿|项目上|工头|包工头)"
_term("can_return_to_work", False,
      re_=rf"{_WORKPLACE}(?:里|上|那边|那头)?(?:也|都|暂时|还|一直|现在|说|今年|年前|年后|最近|这阵|这阵子|这段时间|疫情期间)*(?:不让|不叫|不准|不许|不要|不收)(?:人|我|俺|额|咱|我们|他|她)?"
          r"(?:回来|回去|回|去|来|上班|复工|返岗|进|干了|干)"
          rf"|{_WORKPLACE}(?:里|上|那边)?(?:也|都|暂时|现在|说|叫|让)*(?:不要人了|不用来了|别来了|不用回来了|不用去了)"
          r"|回不(?:去|了|来)(?:厂里|厂子|厂|单位|公司|工地|岗位|车间|矿上|店里)"
          r"|去不了(?:厂里|厂子|单位|公司|工地|矿上|店里)|上不了工|没法上工|上不成工|返不了工",
      neg="none", priority=1)
# A bare 回不去(了) is about work when the sentence is about work; 回不去家 / 回不了家 is being stranded (below).
_WORK_CTX = (r"打工|务工|上班|干活|工地|厂|单位|公司|岗位|复工|返岗|老板|没活|活儿|挣钱|工作|工资|农民工|车间|矿上|"
             r"下苦|零工|生意")
_term("can_return_to_work", False, re_=r"回不(?:去|了)(?:了|啦)?(?!家|老家|宁夏|学校|屋|村|娘家|来)", neg="none",
      requires=_WORK_CTX, not_before=r"(?:过年|春节|过节|回家|回老家|回屋里)[^，,。]{0,3}$"
                                     # 我在外地打工回不去: away at work, cannot get home (not: cannot get back to work)
                                     r"|在[^，,。！!？?]{0,8}(?:打工|务工|上班|干活|打零工)(?:的)?(?:也|都|还|就|一直)*$")
# Work has not restarted (年后一直没复工, 工地也没开工, 复工遥遥无期, 等通知再回).
_term("can_return_to_work", False,
      re_=r"(?:没|没有|还没|还没有|未|没能|迟迟没|迟迟未)(?:复工|开工|返岗|复产|上工)|"
          r"(?:复工|开工|返岗)(?:遥遥无期|没指望|没日子|没个准|还早|不知道啥时候|不知道什么时候|没消息)|"
          r"等(?:着)?通知(?:再|才能|才)?(?:回|复工|上班|开工|返岗)",
      neg="none")
_term("can_return_to_work", True,
      re_=r"(?:已经|都)?回(?:到)?(?:厂里|厂子|工地|单位|公司|岗位|原单位|车间|矿上)(?:上班|干活|上工|去)?了|回去(?:干活|上工)了|"
          r"复岗了|复工复产了|开工了|返工了",
      neg="none", priority=1)
_term("can_return_to_work", True, ["能返岗", "可以返岗", "已经返岗", "返岗了", "复工了", "已经复工", "能回去上班",
                                   "可以回去上班", "能复工", "可以复工", "回去上班了", "能上班"], neg="flip")

_term("covid_confirmed", True, ["确诊", "确诊了", "阳了", "阳性", "感染了新冠", "感染新冠", "得了新冠", "新冠患者",
                                "新冠肺炎患者", "得了新冠肺炎", "染上新冠", "新冠阳性", "核酸阳性", "确诊病例",
                                "新冠确诊"], neg="flip", not_after=r"(?:补贴|的标准|标准|怎么|咋)")
_term("covid_confirmed", False, ["阴性", "核酸阴性"], neg="none")

_term("quarantined_member", True, ["被隔离", "隔离了", "在隔离", "集中隔离", "隔离收治", "被收治", "拉去隔离",
                                   "拉走隔离", "居家隔离", "隔离点", "方舱", "被拉走隔离", "隔离治疗", "隔离着"],
      neg="flip")

_term("severe_disability", True, ["重度残疾", "重残", "重度残疾人", "一级残疾", "二级残疾", "一级残", "二级残",
                                  "残疾一级", "残疾二级", "一级伤残", "二级伤残", "一级残疾证", "二级残疾证",
                                  "残疾证一级", "残疾证二级", "重度残"],
      re_=r"[12]级残疾|残疾[12]级|一二级残疾|残疾证是[一二12]级|残疾(?:人|证)?[，,、 ]?(?:是)?[一二12]级", neg="flip")
_term("severe_disability", False, ["三级残疾", "四级残疾", "轻度残疾", "残疾三级", "残疾四级", "三级残", "四级残",
                                   "轻残", "中度残疾"], re_=r"[34]级残疾|残疾[34]级", neg="none")

# No disability at all is no severe disability (没有残疾, 不是残疾人); no certificate (没有残疾证) says nothing.
_term("severe_disability", False, re_=r"(?:没有|没|无|不是|不算)(?:啥|什么|任何)?残疾(?!证|人证|补贴|津贴|等级|鉴定|评定)",
      neg="none")

_term("severe_illness", True, ["重病", "大病", "癌症", "白血病", "尿毒症", "透析", "肿瘤", "脑梗", "脑出血", "脑溢血",
                               "严重疾病", "重大疾病", "病得很重", "病重", "肝硬化", "红斑狼疮", "肾衰竭", "肾衰",
                               "渐冻症", "重症", "绝症", "病危", "化疗", "恶性肿瘤"],
      re_=r"[肺胃肝肠乳食道宫颈骨血胰]癌|得了癌|患了癌|癌(?=症|了|晚期)", neg="flip",
      not_after=r"(?:保险|医保|救助|统筹|报销)")

_term("cannot_self_care", True, ["生活不能自理", "不能自理", "自理不了", "无法自理", "生活无法自理", "瘫痪在床",
                                 "瘫痪", "卧床不起", "常年卧床", "长期卧床", "瘫在床上", "失能", "离不开人",
                                 "需要人照顾", "需要人伺候", "得有人伺候", "吃喝拉撒都要人", "下不了床", "起不了床",
                                 "生活自理不了", "半身不遂", "全瘫", "偏瘫", "瘫了", "瘫在床上了", "瘫在炕上", "躺在炕上起不来",
                                 "躺在床上起不来", "做不了饭", "做不动饭", "做不成饭", "没法做饭", "饭都做不了",
                                 "穿衣吃饭都要人"],
      # 卧床多年 / 卧床三年了 (卧床休息 after an operation is not this)
      re_=r"卧床(?:多年|好多年|好几年|几年|[0-9一两二三四五六七八九十]+(?:多)?年|至今|在家)"
          # 吃饭上厕所都得人管 / 半边身子动不了: daily life needs another's hands
          r"|(?:吃饭|上厕所|穿衣|穿衣服|洗脸|翻身|解手)[^，,。！!？?\s]{0,6}?(?:都|也)?(?:得|要|需要|靠|离不了)(?:有)?人(?:管|伺候|帮|照顾|喂|扶|端)"
          r"|半边身子(?:都)?动不了|(?:身子|身体|腿脚)(?:都|也)?动不了了?", neg="flip")
_term("cannot_self_care", False, ["能自理", "生活能自理", "可以自理", "能照顾自己", "生活可以自理"], neg="flip",
      priority=-1)

_term("reemployed", True, ["找到工作了", "找到了工作", "找到活了", "重新就业", "再就业了", "实现就业", "实现了就业",
                           "有工作了", "上班了", "重新上班", "找上工作了", "找下工作了", "就业了"],
      neg="ignore", not_before=r"(?:没法|不能|还没|没有|没)$")

_term("rigid_expenses", True, ["刚性支出", "负担重", "负担太重", "负担很重", "负担过重", "负担特别重", "开销大",
                               "开销太大", "开销很大", "花销大", "花销太大", "支出大", "支出太大", "学费",
                               "药费太贵", "常年吃药", "长期吃药", "常年看病", "看病贵", "供不起", "花钱的地方多",
                               "医药费太高", "照顾病人", "负担不起", "压力太大", "开支大", "开支太大"],
      re_=r"供.{0,4}(?:上学|读书|念书)|上学.{0,3}花钱", neg="flip")

# Stranded (contract: a migrant worker without work and family support, or somebody stuck away from home by
# travel controls). Said outright: 滞留, 困在外地, 封控回不去, 回不来.
_term("stranded", True, ["滞留", "困在", "封在外地", "交通管控", "回不来", "举目无亲", "封控回不去", "困在外地"],
      re_=r"封(?:控|城|路)了?.{0,4}回不去", neg="flip")
# Somebody at home (瘫在床上, 在家, 小区封了) is not stranded, whatever else is wrong.
_AT_HOME = r"在家|待在家|呆在家|在屋里|炕上|床上|瘫|卧床|小区|楼里|楼上|封在家|关在家|困在家|村里封|封村|村子封|村封|庄子封"
# No family support is being stranded only for somebody away from home or out to work.
_AWAY = (r"外地|外面|外头|外边|在外|异地|他乡|外省|省外|打工|务工|农民工|工地|厂|出门|车站|回不去|回不来|回不了|老家|"
         r"宾馆|旅馆|服务区|高速|路上|滞留|干活|活干|零工")
_term("stranded", True, ["家里也帮不上", "家里帮不上", "家里帮不了", "家里也帮不了", "家里也顾不上", "家里没人管",
                         "得不到家里支持", "家里人也帮不上", "家里也没法帮", "家里也没人能帮", "没人能帮", "家里也没钱",
                         "家里也没办法", "家里也没能力", "家里也指望不上"],
      re_=r"(?:家里|屋里|屋里头|家里人|屋里人)(?:也|都)?(?:帮不上|帮不了|顾不上|没法帮|没钱|没办法|没能力|指望不上|管不了)",
      neg="flip", requires=_AWAY, avoid=_AT_HOME)
# Cannot get out or away: stranded when roads are shut or the person is away from home.
_term("stranded", True, ["走不了", "出不去", "出不来"], neg="flip",
      requires=r"封|管控|管制|外地|外面|外头|在外|异地|外省|打工|务工|路上|车站|高速|服务区|宾馆|旅馆|"
               r"困|冲断|冲垮|路断|断路|塌方|山里|山上|洪水|大雪|滞留|停运|车停|班车|火车|航班|票",
      avoid=_AT_HOME)
# Shut in at home (被困在家里): an emergency, not being stranded away from home.
_term("urgent", True, re_=r"被困在(?:自己)?(?:家|屋|炕|床|楼|小区)(?:里|上|头)*", neg="ignore", priority=2,
      not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会)$")
_term("_skip", "skip", re_=r"(?<!被)困在(?:自己)?(?:家|屋|炕|床|楼|小区)(?:里|上|头)*", neg="none", priority=2)

# A home that cannot be lived in any more (窑洞裂了缝，住不成了).
_term("urgent", True, re_=r"(?:住不成|住不了人|没法住人?|不能住人?)了", requires=r"房子|屋子|窑洞|屋|家|房",
      neg="ignore", not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会|以防|万一|快|快要)$")
# An acutely ill person and no money for the doctor (娃发高烧没钱去医院); 没钱看病 alone is a chronic complaint.
_term("urgent", True, re_=r"没(?:有)?钱(?:去|上|送)?(?:看病|医院|住院|治病|买药|看医生|抢救)|看不起病|送不起医院",
      requires=r"发烧|高烧|烧得|烧到|抽|昏|出血|流血|疼得|急病|病倒|快不行|起不来|喘不上|不省人事|摔",
      neg="ignore", not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会|以防|万一)$")
_term("urgent", True, ["没饭吃", "没有饭吃", "吃不上饭", "吃不起饭", "断粮", "断顿", "揭不开锅", "饿肚子", "挨饿",
                       "快饿死", "没吃的", "没有吃的", "没地方住", "没有地方住", "无处可住", "无家可归", "露宿",
                       "睡大街", "睡马路", "睡在街上", "睡桥洞", "住桥洞", "流落街头", "被赶出来", "困住了",
                       "没钱回家", "着火", "失火", "起火", "火灾", "房子烧了", "房子塌了",
                       "要出人命", "出人命", "想不开", "不想活", "活不下去", "寻死", "轻生", "自杀", "跳楼", "喝药",
                       "割腕", "有生命危险", "生命危险", "晕倒", "昏迷", "被打", "家暴", "救命", "快不行了",
                       "身无分文", "一分钱都没有", "分文没有", "没钱吃饭", "饿了好几天", "无处安身", "没处住",
                       "没地儿住", "一口吃的都没有", "锅都揭不开", "没米下锅", "饿得不行", "断了粮", "寻短见", "跳河",
                       "跳井", "上吊", "晕过去", "昏过去", "车祸", "拿刀", "有危险", "煤气中毒", "中毒", "要生了",
                       "难产", "大出血", "被拐", "走丢", "失踪", "身上没钱", "身上没有钱", "吃饭都成问题", "吃饭成问题",
                       "吃饭都困难", "没地方去", "无处可去", "没处去", "没处待"],
      re_=r"(?:住的地方|住处|房子)(?:也|都)?没了|连住的地方都没有|"
          # injured, poisoned, a home that cannot be lived in, sleeping rough, money gone
          r"(?:被|叫|让)(?:车|汽车|三轮车|摩托车|大车)(?:给)?(?:撞|轧|碾)(?!过)|喝了?(?:农药|敌敌畏|百草枯)|吃了?(?:老鼠药|安眠药)|"
          r"睡在?(?:车站|火车站|汽车站|桥底下|路边|外头|外面)|钱(?:也|都|全)?被偷了|饿了(?:[0-9一两二三四五六七八九十好几]+)天|(?:[0-9一两二三四五六七八九十好几]+)天(?:都|了)?没(?:吃饭|吃东西|吃上饭|吃的)"
          r"|被(?:洪水|大水|水)(?:冲了|冲走|冲垮|淹了)|洪水|泥石流|地震|房子(?:冲垮|垮)了", neg="ignore",
      not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会|以防|万一)$")

# Money gone is an emergency away from home or with no food left (在兰州回不来，钱都花光了); at home with
# 米面也不多了 it is hardship that temporary assistance answers, not a ticket.
_term("urgent", True, re_=r"钱(?:也|都|全)?(?:花光|用光|花完|用完)了", requires=_AWAY + r"|饭|吃的|断粮|住的|睡",
      neg="ignore", not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会|以防|万一)$")

# No food, said around the word (饭都吃不上了, 连口饭都吃不上, 吃的也没了).
_term("urgent", True, re_=r"(?:连)?(?:一)?(?:口)?饭(?:都|也)(?:吃不上|吃不起|没得吃|没吃的|没吃上|没人做|做不上)|"
                          r"吃的(?:都|也)(?:没了|没有了|没有)|没(?:有)?(?:一)?口吃的",
      neg="ignore", not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会|以防|万一|怕|担心)$")
# Somebody who cannot look after themselves (瘫在床上, 卧床, a small child) suddenly left with nobody to look after
# them: the carer taken away (照顾他的人被拉走隔离了), nobody to bring food (没人做饭), or 没人照顾 when the
# sentence says the carer was just taken away (隔离, 住院). A lasting 不能自理，没人照顾 is hardship, not an
# emergency; a worry about later (担心以后没人照顾) is none now.
_NEEDS_CARE = (r"瘫|卧床|不能自理|自理不了|无法自理|下不了床|起不来|起不了床|失能|离不开人|痴呆|失智|"
               r"全盲|双目失明|智力残疾|精神残疾|重度残疾|[一二1-2]级残疾|(?:才|只有|刚)[0-9一两二三四五六]+岁|婴儿|吃奶的|月子")
_CARER_TAKEN = r"拉走|拉去|带走|带去|叫走|隔离|住院|送医院|病倒|出事|去世|被抓|抓走|关起来"
_NOT_NOW = r"(?:担心|害怕|怕|以后|将来|万一|到时候|老了|要是|如果|假如|不是|不会|不至于)[^，,。！!？?]{0,6}$"
_term("urgent", True,
      # (only the carer: 被拉走隔离 stays the quarantine's words)
      re_=r"(?:照顾|伺候|照看|看护|护理|照料|管)(?:他|她|老人|老汉|老人家|娃|娃娃|孩子|他们|她们)?的"
          r"(?:人|儿子|女儿|闺女|儿媳|媳妇|老伴|老汉|婆姨|娃|孩子|保姆|护工|亲戚)"
          r"(?=(?:也|都)?(?:被|叫|让)?(?:拉走|拉去|带走|带去|叫走|接走|抓走|送去|隔离|住院|送医院|病倒|走了|不在|没了|出事|去世|倒下))|"
          r"没(?:有)?人(?:给)?(?:送饭|做饭|喂饭|端饭|送吃的)",
      requires=_NEEDS_CARE, neg="ignore", not_before=_NOT_NOW)
_term("urgent", True,
      re_=r"没(?:有)?人(?:照顾|照料|伺候|看护|护理|照看|管)|身边(?:一个人)?(?:都|也)?没(?:有)?人",
      requires=_NEEDS_CARE, requires_also=_CARER_TAKEN, neg="ignore", not_before=_NOT_NOW)
# A child left alone at home with nobody (孩子一个人在家没人管).
_term("urgent", True, re_=r"没(?:有)?人(?:照顾|照料|照看|看|管|做饭|给做饭)",
      requires=r"(?:孩子|娃娃|娃|小孩|孙子|孙女|碎娃)(?:们|俩|几个)?(?:一个人|自己|单独|独自)(?:一个人)?(?:在家|在屋里|留在家|在屋)",
      neg="ignore", not_before=_NOT_NOW)

# Said plainly not to be urgent (不急，先了解政策 / 不着急啊，就是问问): the urgency question is answered no.
_term("urgent", False, ["不急", "不着急", "不紧急", "不算急", "不太急", "不是急事", "不是很急", "没那么急", "不用急", "不赶时间",
                        "无紧急情况", "暂无急难", "无急难"],
      neg="none", priority=3, not_after=r"^(?:着|于|用|要)")

# Emergencies that also leave the caller stranded away from home.
_term("urgent", True, ["被困", "被困在", "回不了家", "回不去家", "被困在外地", "困在路上", "回不了老家", "回不去老家",
                       "回不了宁夏", "回不去宁夏"], neg="ignore",
      also={"stranded": True}, not_before=r"(?:不是|倒不是|还不至于|不至于|没到|还没到|不会)$", priority=1)

# ---- measures named by their content (numbers come from 第五条 etc. in core) ----
_MEASURE_TERMS = {
    "1": ["增发一次性生活补贴", "一次性生活补贴", "增发补贴"],
    "2": ["低保标准", "保障标准", "孤儿津贴", "孤儿基本生活费", "特困供养标准", "临时救助标准", "低保月标准",
          "民生实事"],
    "3": ["渐退期", "单人保", "单人户", "应保尽保", "低保渐退"],
    "4": ["价格临时补贴", "物价补贴", "价格补贴", "联动机制", "物价上涨补贴"],
    "5": ["失业补助", "失业救助", "失业人员救助", "失业生活困难人员救助", "失业临时救助"],
    "6": ["大学生救助", "大学生补助", "大学生临时救助", "未就业大学生救助", "大学生的救助"],
    "7": ["因疫", "疫情补贴", "新冠补贴", "确诊补贴", "因疫生活困难"],
    "8": ["因病救助", "大病救助", "医疗救助", "支出型救助", "因病生活困难"],
    "9": ["先行救助", "一事一议", "一案一策", "急难救助", "临时救助", "急难型"],
    "10": ["走访探视", "探访", "上门走访", "走访"],
    "11": ["照料服务", "集中供养服务", "照护服务"],
    "12": ["主动发现", "快速响应"],
    "13": ["信息共享", "监测预警"],
    "14": ["经办流程", "民政云", "审核确认流程"],
    "15": ["分类化", "差异化救助", "防护物资", "助医", "助餐", "上门服务"],
    "16": ["社会力量", "慈善", "心理疏导", "慈善总会"],
    "17": ["部门协同"],
    "18": ["政策督导", "信息公开"],
    "19": ["资金监管", "截留", "冒领", "挪用", "挤占", "关系保", "人情保", "吃拿卡要", "贪污", "虚报冒领", "克扣",
           "私分", "优亲厚友"],
    "20": ["容错纠错", "容错"],
}
for _id, _terms in _MEASURE_TERMS.items():
    _term("measure", _id, _terms, neg="none", priority=-2)
# Measures asked about in the caller's own words, without their names.
# 3: will dibao stop once someone works (渐退期), or now at all (疫情期间暂停低保退出); one person alone on dibao (单人保).
# (a question, so it outranks the lost-status reading of the same words: 低保会不会取消 states nothing)
_term("measure", "3",
      re_=r"低保[^，,。！!？?；;]{0,8}?(?:(?:会不会|是不是|要不要|还能不能|能不能继续)"
          r"[^，,。！!？?；;]{0,6}?(?:停|取消|退|断|不给|撤|保)(?:掉|发|保|出)?)(?:了|吗|呢|啊)*"
          # (right after 低保, leaving it to say the household holds it: 家里低保还给不给)
          r"|(?<=低保)(?:还给不给|还保不保|还有没有|还能不能吃|还让不让吃)(?:了|吗|呢|啊)*",
      neg="none", priority=9)
# (after 低保, so that 找到工作 stays reemployment and 家里的低保 stays held)
_term("measure", "3",
      re_=r"(?<=低保)[^，,。！!？?；;]{0,4}?(?:还能|还有|还给|还保|保不保|要不要|会不会|咋办|怎么办|停不停|退不退)",
      requires=r"(?:找到|找上|找下|有了|参加了?)工作|上班了|就业了|挣上钱了|挣钱了", neg="none", priority=-2)
_term("measure", "3",
      re_=r"单独(?:给|为|把)?[^，,。！!？?；;]{0,6}?(?:办|纳入|吃|评|享受|申请)(?:个|上)?低保"
          r"|(?:一个人|他自己|她自己|自己一个人)单独(?:办|纳入|吃|评|享受)",
      neg="none", priority=-2)
# 1: the 600 yuan one-off living subsidy named by its sum (那个六百块的补贴).
_term("measure", "1", re_=r"(?:600|六百)(?:块|元)?(?:钱)?(?:的)?(?:那个)?(?:一次性)?(?:生活)?(?:补贴|补助)", neg="none",
      priority=-2)
# Standards of any assistance are set by measure 2 (临时救助的标准, 散居孤儿津贴).
_term("measure", "2", re_=r"(?:低保|特困|特困供养|临时救助|城乡低保|城市低保|农村低保)(?:的|今年|现在|目前)?(?:保障)?标准"
                          r"|(?:社会散居|散居|机构内养育|机构养育)?孤儿(?:的)?(?:津贴|基本生活费)", neg="none", priority=-1)

# Questions about what a measure gives without money, or about one of its conditions, in callers' words
# (issue 12): the answer is the measure itself, whatever the form was asking. Each span is the short cue
# only (the rest is `requires`), so that it never swallows the facts around it (无收入3个月 不能返岗).
_ASKED = (r"吗|么|嘛|撒|咋办|怎么办|咋弄|咋样|怎样|如何|谁|有没有|有无|能不能|能否|可否|是否|可不可以|管不管|给不給|给不给|会不会|啥|什么|"
          r"才能|才可以|才算|多少|几|询问|咨询|想问|问问|想了解|了解一下|打听")
# 11: the carer cannot care any more (because of the epidemic): 及时指定其他人员予以照护.
_term("measure", "11",
      re_=r"(?:谁|有没有人|有人)(?:来|能|给|帮|去)?(?:照顾|照料|照护|伺候|护理|看护)|指定其他人员"
          r"|(?:换|派|找|安排)(?:个|一个)?(?:别的|其他)?人(?:来)?(?:照顾|照料|照护|伺候)",
      neg="none", priority=-2)
_term("measure", "11", re_=r"(?:照顾|照料|伺候|护理)(?:不了|不上|不成)", requires=_ASKED, neg="none", priority=-2)
# 15: meals, doctors and home services for those who cannot look after themselves (助医、助餐、上门服务).
_term("measure", "15", ["送饭", "助餐", "送餐", "上门服务", "送药", "送吃的", "上门看病", "助医"], requires=_ASKED,
      neg="none", priority=-2)
# 16: counselling (心理疏导) and visits or care through purchased services.
_term("measure", "16", re_=r"心理(?:疏导|辅导|咨询|医生|压力)|心里(?:压力大|难受|憋屈|过不去|不好受)|(?:说说话|聊聊天|谈谈心|谈心)",
      requires=_ASKED, neg="none", priority=-2)
# 4: prices went up (物价上涨挂钩联动机制, 价格临时补贴).
_term("measure", "4", re_=r"涨价|涨了|贵了|上涨|涨得", requires=r"东西|菜|肉|米|面|油|物价|价格|粮|煤|气",
      requires_also=_ASKED, neg="none", priority=-2)
# 8: the 20,000 yuan line of one's own policy-scope medical costs (达到2万元及以上).
_term("measure", "8", re_=r"(?:多少|几万)(?:钱)?(?:才|能|可以|算)", requires=r"看病|住院|医药费|医疗费|药费|自付|自费|自负|自己掏|花",
      neg="none", priority=-2)
_term("measure", "8", re_=r"(?:两万|2万|20000|二万)(?:块|元)?(?:钱)?(?:的)?(?:线|标准|门槛)", neg="none", priority=-2)
# 5: the three-month condition (连续3个月无收入来源) asked about.
_term("measure", "5", re_=r"几个月|多久|多长时间|多少个月", requires=r"没收入|没有收入|无收入|没活|没工作|没挣钱|不挣钱",
      requires_also=r"才|能|可以|算|吗|么|要|得|需要", neg="none", priority=-2)
_term("measure", "5", re_=r"(?:不够|不满|没满|没到)(?:三个月|3个月)", requires=_ASKED, neg="none", priority=-2)

# The same, for more measures and in agents' words (询问…是否, 反映…).
_term("measure", "8", re_=r"(?:满|到|够|达到|超过|过)(?:两万|2万|二万|20000)(?:元|块)?(?:钱)?(?:才|以上|及以上)", neg="none", priority=-2)
_term("measure", "10", re_=r"没(?:有)?人(?:来|去)?(?:看|看望|探望|走访|问)(?:过|一下)?(?:他|她|俺|我|额|老人|老汉)", neg="none", priority=-2)
_term("measure", "15", re_=r"上门(?:帮忙|做饭|照顾|服务|送)|做饭(?:都|也)?(?:困难|难|做不了)|做不了饭", requires=_ASKED, neg="none",
      priority=-2)
_term("measure", "16", ["开导", "疏导", "慰问"], requires=_ASKED, neg="none", priority=-2)
_term("measure", "13", re_=r"低收入(?:人口)?(?:监测|动态监测|信息库|库)|返贫|监测对象|防返贫", requires=_ASKED, neg="none", priority=-2)
_term("measure", "14", re_=r"(?:开|要|交)(?:很多|好多|多项|一堆|各种)?证明|证明(?:材料)?(?:太多|多得很|一大堆)|民主评议|简化|审核确认|办理流程|手续(?:太)?(?:多|麻烦)",
      requires=_ASKED, neg="none", priority=-2)
_term("measure", "17", re_=r"失业登记|人社(?:部门|局)?|人力资源(?:和)?社会保障|(?:核对|比对|核实)(?:信息)?", requires=_ASKED, neg="none", priority=-2)
_term("measure", "18", re_=r"(?:名单|低保户|救助)[^，,。！!？?；;]{0,8}?(?:公布|公开|公示)|(?:公布|公开|公示)[^，,。！!？?；;]{0,6}?(?:名单|低保)",
      neg="none", priority=-2)
_term("measure", "20", re_=r"(?:会不会|要不要|是否|会)(?:被)?问责|(?:多算|算错|发错|多发)[^，,。！!？?；;]{0,10}?(?:纠正|问责|处分)|免予问责",
      neg="none", priority=-2)
_term("measure", "12", re_=r"(?:急事|紧急情况|困难)[^，,。！!？?；;]{0,8}?(?:打哪个电话|找谁|找哪|打什么电话|咋求助|怎么求助|向谁求助)"
                           r"|(?:打哪个电话|找谁|找哪里)(?:求助|反映)", neg="none", priority=-2)
_term("measure", "9", re_=r"(?:万一|哪天|以后)[^，,。！!？?；;]{0,8}?没(?:有)?(?:吃的|饭吃|钱)[^。！!？?；;]{0,8}?(?:咋办|怎么办|找谁)", neg="none",
      priority=-2)
_term("measure", "3", re_=r"(?:是不是|会不会|要不要)[^，,。！!？?；;]{0,8}?低保[^，,。！!？?；;]{0,3}?(?:停|取消|退|断|撤)", neg="none", priority=9)

# Applying for dibao itself (能申请低保不, 能不能再申请低保): measure 3, 对符合低保条件的…及时纳入低保范围.
_term("measure", "3", re_=r"(?:能|能不能|可以|可不可以|能否|咋|怎么|如何|想)(?:再|重新)?(?:申请|申|办|评|吃|进)(?:个|上)?低保"
                          r"|低保(?:还)?(?:能不能|能否|可不可以|咋|怎么|如何)(?:再)?(?:申请|办|评)|(?:为啥|为什么|凭啥)(?:我家|俺家|额家)?(?:没有|没|不给)(?:评上|吃上)?低保",
      neg="none", priority=-2)

# ---- question-and-answer notes (有没有失业保险？没有 / 失业保险：无 / 能返岗吗 不能 / 低保？是) ----
# The answer after a question decides the polarity of what the question names.
QA_YES = ["是", "是的", "对", "对的", "有", "有的", "能", "可以", "是着呢", "对着呢", "有呢", "有着呢", "能行", "对头", "能回去", "交了", "已交", "缴了", "已缴", "参加了", "已参保",
          "参保了", "确诊了", "阳了", "在", "属实", "嗯", "Y", "y", "√", "√",
          # the question's own verb said back (领没领高龄津贴？领着呢 / 隔离了没？隔离了)
          "领着", "领了", "在领", "吃着", "在吃", "拿着", "享受着", "隔离了", "被隔离了", "复工了", "返岗了", "找到了",
          # still held (是不是低保户？以前是，现在还是)
          "还是", "现在还是", "现在也是", "一直是", "一直都是"]
QA_NO = ["没有", "没", "无", "否", "不是", "不", "不能", "不行", "没交", "未交", "没缴", "未缴", "没参加", "未参加", "没参保",
         "未参保", "不可以", "回不去", "回不去了", "去不了", "去不了了", "回不了", "上不了班", "没确诊", "都没有", "也没有", "都不是", "也不是", "没得", "木有", "N", "n",
         "×", "x", "X", "还没有", "还没", "没买", "不在", "不算", "不属于", "莫有", "没有呢", "不得行", "冇",
         "没领", "没吃", "没拿", "没隔离", "没找到", "还没找到", "没复工", "没返岗", "没阳", "没交过", "没缴过", "没买过",
         "没参加过", "没领过", "没吃过", "没有过", "从没有", "从来没有",
         # held once, not now (是不是低保户？以前是，现在不是了 / 后来退了)
         "不是了", "现在不是了", "现在不是", "已经不是了", "早就不是了", "现在没有了", "没有了", "后来退了", "退了",
         "停了", "取消了", "被取消了", "早就没了", "已取消", "已停", "已退出",
         # benefits drawn to the end (有没有失业金？领完了)
         "领完了", "领完", "到期了", "断了"]
# A clause asks (rather than states) when it ends in a question particle or holds an A-not-A form.
QA_QUESTION = r"(?:吗|么|嘛|不|没|没有|否|呢|没得|木有|莫|莫有)$|是否|有无|能否|可否|有没有|是不是|能不能|算不算|属不属于|^问|([^\s])[没不莫]\1"
# Bare topics an agent writes before the answer (the rules' own terms are topics too).
QA_TOPICS = [
    ("unemployment_insurance", True, r"失业保险金|失业保险|失业险|失业金|失保"),
    ("can_return_to_work", True, r"返岗|复工|返工|复岗|回去上班|回厂|回去干活|能回去"),
    ("covid_confirmed", True, r"确诊|感染|新冠"),
    ("quarantined_member", True, r"隔离"),
    ("cannot_self_care", False, r"(?:生活)?自理"),
    ("reemployed", True, r"再就业|找到工作|就业"),
    ("stranded", True, r"滞留"),
    # 有没有残疾？没有 → not severely disabled; 有 alone does not say how severe (有，一级 does: see QA_DEGREE).
    ("severe_disability", "no_only", r"残疾(?!证)"),
    # 有没有残疾证？有，二级: only the grade says anything (no certificate is not no disability).
    ("severe_disability", "degree_only", r"残疾证|残疾人证"),
    # 有没有病？没有 → no severe illness; 有 alone does not say how severe.
    ("severe_illness", "no_only", r"疾病|(?<![看治])病(?![历房假])"),
]
# The grade said after the answer (有，一级 / 是，三级的): grades 1–2 are 重度残疾.
QA_DEGREE = r"[，,、\s]*(?:是|有)?(?:残疾)?(?P<grade>[一二三四1234])级"
# What may stand between the question and its answer: a reporting verb (来电人称是, 对方表示无, 我说不是) and a
# past part of the answer (以前是，现在不是了).
QA_ANSWER_LEAD = (r"(?:(?:答|回答|答复|回复)|(?:我|俺|额|来电人|来电者|市民|群众|对方|他|她|本人)?(?:说|称|表示|答|回答|讲))?[:：]?\s*"
                  r"(?:(?:以前|原来|之前|过去|原先|早先)(?:是|有|吃过|领过|吃|领|享受|享受过|领着|吃着)(?:的|过)?[，,、\s]+)?"
                  # 现在取消了 / 已经不是了 / 现在还是: the answer as it stands now
                  r"(?:现在|目前|如今|已经|早就|早都)?")
# Speakers' labels in a pasted dialogue (坐席：有没有失业保险？来电人：没有): not the question.
QA_SPEAKER = r"^(?:来电人|来电者|来电|市民|群众|诉求人|坐席|客服|话务员|接线员|工作人员|答|回答|问|我|俺|额|他|她|A|Q|甲|乙)$"
QA_FIELDS = ("unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member", "severe_disability",
             "severe_illness", "cannot_self_care", "reemployed", "rigid_expenses", "stranded")

# Bare answers to "您现在是什么情况" (expected_field employment).
BARE_EMPLOYMENT = [
    (r"创业", "failed_startup_graduate"),
    (r"大学|毕业|大专|本科", "unemployed_graduate"),
    (r"打工|务工|农民工|干活|工地|零工|下苦", "unemployed_migrant_worker"),
    (r"上班|有工作|上着班", "employed"),
    # 其他 / 都不是 answer the question; 没有其他了 / 没别的 close the call ("nothing else")
    (r"退休|种地|务农|(?<!没有)(?<![没无])(?:其他|别的)|都不是", "other"),
]


# Words that are no rule of their own but should stay one jieba token.
JIEBA_EXTRA = ["失业保险", "失业保险金", "失业金", "一次性临时救助金", "临时救助金", "城乡低保", "返岗复工", "低收入人口",
               "脱贫户", "新冠肺炎", "残疾证", "生活不能自理", "宁政办规发", "社会救助", "民政局", "民政部门",
               "乡村振兴", "12345", "低保金", "大病保险", "基本医保", "婆姨", "老汉", "没麻达", "咋办", "额们",
               "俺们", "娃娃"]


def literal_terms() -> list[str]:
    """Every literal term of the rules above (for the jieba user dictionary)."""
    out = list(JIEBA_EXTRA)
    for spec in TERM_RULES:
        out.extend(t for t in spec["terms"] if len(t) >= 2)
    return out

# ---- a caller's words for what the measures' text says (extraction.measure_match) ----
# (said, the document's word): 开导开导 asks for measure 16's 心理疏导 without its name.
MEASURE_WORDS: tuple[tuple[str, str], ...] = (
    ("开导", "心理疏导"), ("说说话", "心理疏导"), ("聊聊天", "心理疏导"), ("心里头不痛快", "心理疏导"), ("想不开", "心理疏导"),
    ("做饭", "助餐"), ("送饭", "助餐"), ("吃饭", "助餐"), ("上门", "上门服务"), ("来家里", "上门"),
    ("来人看", "走访探视"), ("看看", "走访探视"), ("看望", "走访探视"), ("来看", "走访探视"), ("定期来", "走访探视"),
    ("隔段时间", "走访探视"), ("毕业", "大学生"), ("没找上工作", "未就业"), ("没找到工作", "未就业"), ("没工作", "未就业"),
    ("打工", "农民工"), ("没活干", "失业"), ("没活了", "失业"), ("工地停", "失业"), ("阳了", "新冠肺炎"), ("确诊", "新冠肺炎"),
    ("单独", "单人户"), ("一个人的那种", "单人户"), ("单另", "单人户"),
    ("查家里", "家庭经济状况核查"), ("查收入", "家庭经济状况核查"), ("查家庭", "家庭经济状况核查"), ("核查", "家庭经济状况核查"),
    ("另外派", "指定其他人员予以照护"), ("换个人", "指定其他人员予以照护"), ("别人照顾", "指定其他人员予以照护"),
    ("指定别人", "指定其他人员予以照护"), ("派个人", "指定其他人员予以照护"), ("照顾", "照料"), ("伺候", "照料"),
    ("涨价", "价格临时补贴"), ("涨了", "价格临时补贴"), ("菜价", "价格临时补贴"), ("物价", "价格临时补贴"),
    ("没收入", "无收入来源"), ("没有收入", "无收入来源"), ("主动上门", "主动发现"), ("主动", "主动发现"),
    ("找谁", "12345"), ("打哪个电话", "12345"), ("户口不在", "户籍地"), ("不是本地", "户籍地"),
    ("马上停", "渐退期"), ("不是马上", "渐退期"), ("慢慢退", "渐退期"), ("多久停", "渐退期"),
)
