"""Normalising Chinese person and organisation names, keeping what was written beside them.

Person names: NFKC, every kind of whitespace removed, middle-dot variants to U+00B7, traditional
to simplified with OpenCC ``t2s``. Simplifying merges some distinct names (於 and 于 are two
surnames), so a traditional/simplified difference is evidence to weigh, not identity: the
resolver compares both forms. Pinyin keys (tone-less, surname readings) catch homophone typos.

Organisation names: region prefixes, legal-form suffixes, bracket forms and common
abbreviations unified, so that 深圳市龙岗区阳光社会工作服务中心 and 阳光社工服务中心（深圳）
meet; the USCC, where present, decides.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")
_DOTS = re.compile(r"[•・．.∙‧·•]")
_SPACE = re.compile(r"\s+")

COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "夏侯", "令狐", "轩辕", "端木", "独孤", "南宫", "西门", "澹台", "公冶", "呼延", "赫连", "钟离",
)  # fmt: skip
# surnames read differently from the same character elsewhere
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "朴": "piao", "区": "ou", "仇": "qiu", "查": "zha",
    "盖": "ge", "种": "chong", "乐": "yue", "尉": "yu", "覃": "qin", "缪": "miao", "召": "shao",
    "员": "yun", "繁": "po", "长孙": "zhangsun", "尉迟": "yuchi", "万俟": "moqi",
}  # fmt: skip


# Approximate share of the population bearing each common surname (national household
# registration statistics, rounded; the top hundred cover about 85%). A surname not listed
# is taken as rare. Used to judge how common a full name is beyond what one dataset shows.
SURNAME_SHARE = {
    "王": 0.0712, "李": 0.0719, "张": 0.0683, "刘": 0.0538, "陈": 0.0454, "杨": 0.0308,
    "黄": 0.0226, "赵": 0.0229, "吴": 0.0203, "周": 0.0188, "徐": 0.0133, "孙": 0.0131,
    "马": 0.0123, "朱": 0.0117, "胡": 0.0114, "郭": 0.0106, "何": 0.0096, "高": 0.0095,
    "林": 0.0094, "罗": 0.0088, "郑": 0.0081, "梁": 0.0074, "谢": 0.0062, "宋": 0.0060,
    "唐": 0.0058, "许": 0.0055, "韩": 0.0054, "冯": 0.0054, "邓": 0.0053, "曹": 0.0052,
    "彭": 0.0051, "曾": 0.0050, "肖": 0.0049, "田": 0.0049, "董": 0.0046, "袁": 0.0043,
    "潘": 0.0041, "于": 0.0041, "蒋": 0.0040, "蔡": 0.0040, "余": 0.0039, "杜": 0.0038,
    "叶": 0.0038, "程": 0.0037, "苏": 0.0036, "魏": 0.0036, "吕": 0.0035, "丁": 0.0034,
    "任": 0.0033, "沈": 0.0032, "姚": 0.0032, "卢": 0.0031, "姜": 0.0030, "崔": 0.0029,
    "钟": 0.0029, "谭": 0.0028, "陆": 0.0027, "汪": 0.0027, "范": 0.0026, "金": 0.0025,
    "石": 0.0025, "廖": 0.0024, "贾": 0.0024, "夏": 0.0023, "韦": 0.0023, "付": 0.0023,
    "方": 0.0022, "白": 0.0021, "邹": 0.0021, "孟": 0.0021, "熊": 0.0020, "秦": 0.0020,
    "邱": 0.0020, "江": 0.0019, "尹": 0.0019, "薛": 0.0018, "闫": 0.0018, "段": 0.0018,
    "雷": 0.0017, "侯": 0.0017, "龙": 0.0016, "史": 0.0016, "陶": 0.0015, "黎": 0.0015,
    "贺": 0.0015, "顾": 0.0014, "毛": 0.0014, "郝": 0.0014, "龚": 0.0013, "邵": 0.0013,
    "万": 0.0013, "钱": 0.0012, "严": 0.0012, "覃": 0.0012, "武": 0.0012, "戴": 0.0012,
    "莫": 0.0011, "孔": 0.0011, "向": 0.0011, "汤": 0.0011, "常": 0.0010, "温": 0.0010,
}  # fmt: skip
RARE_SURNAME_SHARE = 0.0005

# The commonest full names, each borne by about 200,000 to 300,000 people (national name
# statistics, rounded): no dataset is large enough to show how common they are, so their
# share is floored here.
COMMON_FULL_NAMES = {
    **dict.fromkeys(("张伟", "王伟", "王芳", "李伟", "李娜"), 2.0e-4),
    **dict.fromkeys(
        (
            "张敏", "李静", "王静", "刘伟", "王秀英", "张丽", "李秀英", "王丽", "张静", "张秀英",
            "李强", "王敏", "李敏", "王磊", "刘洋", "王艳", "王勇", "李军", "张勇", "李杰",
            "张杰", "张磊", "王强", "李娟", "王军", "张艳", "张涛", "王涛", "李明", "李艳",
            "王超", "李勇", "王娟", "刘杰", "王秀兰", "李霞", "刘敏", "张军", "李丽", "张强",
            "王平", "王刚", "王杰", "李桂英", "刘芳", "陈静", "陈伟", "刘洋", "杨帆", "王鹏",
        ),
        1.5e-4,
    ),
}  # fmt: skip


def surname_share(surname: str) -> float:
    return SURNAME_SHARE.get(surname, RARE_SURNAME_SHARE)


@lru_cache(maxsize=500_000)
def person_name_written(name: str) -> str:
    """A person's name as written, cleaned: NFKC, no whitespace, one middle dot; the script
    (traditional or simplified) kept, so that a difference in it stays visible."""
    text = unicodedata.normalize("NFKC", name)
    text = _SPACE.sub("", text)
    return _DOTS.sub("·", text)


@lru_cache(maxsize=500_000)
def person_name(name: str) -> str:
    """The comparable form of a person's name: 張 偉 -> 张伟, 阿依古丽•买买提 -> 阿依古丽·买买提."""
    return str(_T2S.convert(person_name_written(name)))


def person_names(names: list[str]) -> tuple[list[str], list[str]]:
    """(as written, comparable) for many names: :func:`person_name_written` and
    :func:`person_name` of each, with one OpenCC call for all of them (a cleaned name holds
    no line break, and no phrase spans one)."""
    written = [person_name_written(n) for n in names]
    if not written:
        return [], []
    simplified = str(_T2S.convert("\n".join(written))).split("\n")
    if len(simplified) != len(written):  # never expected; one by one then
        simplified = [person_name(n) for n in names]
    return written, simplified


# A transliterated name written with a middle dot (Uyghur, Kazakh and other names:
# 吐尔逊·喀迪尔, a person's name and the father's) has no Han surname: its first character is no
# family name, and its parts come from small pools, so the same full name recurs among
# different people about as often as the commonest Han full names (张伟, 王芳).
TRANSLITERATED_NAME_SHARE = 2.0e-4


def is_transliterated(name: str) -> bool:
    return "·" in name


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given name), compound surnames recognised: 欧阳子萱 -> (欧阳, 子萱); a
    transliterated name has none: 吐尔逊·喀迪尔 -> ("", 吐尔逊·喀迪尔)."""
    if is_transliterated(name):
        return "", name
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@lru_cache(maxsize=500_000)
def pinyin_key(name: str) -> str:
    """Tone-less pinyin of a normalised name, with surname readings: 单伟 -> 'shan wei'."""
    surname, given = split_surname(name)
    # character by character (a given name is not a phrase); each surname, given name and
    # character computed once (given names recur across surnames)
    if not surname:  # a transliterated name: its syllables as written
        return _given_pinyin(given)
    head = _surname_pinyin(surname)
    return f"{head} {_given_pinyin(given)}" if given else head


@lru_cache(maxsize=50_000)
def _surname_pinyin(surname: str) -> str:
    return SURNAME_READINGS.get(surname) or " ".join(_char_pinyin(c) for c in surname)


@lru_cache(maxsize=200_000)
def _given_pinyin(given: str) -> str:
    return " ".join(_char_pinyin(c) for c in given)


@lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    return "".join(lazy_pinyin(char, style=Style.NORMAL))


# --------------------------------------------------------------------------- organisations

_REGION = re.compile(
    r"^(?:广东省)?(?:深圳市|厦门市|沈阳市|深圳)?(?:龙岗区|南山区|罗湖区|福田区|宝安区|龙华区|坪山区|"
    r"光明区|盐田区|大鹏新区|海沧区|思明区|湖里区|集美区|同安区|翔安区|和平区|沈河区|皇姑区|大东区|"
    r"铁西区|浑南区|于洪区|沈北新区|苏家屯区)?"
)
_BRACKET_REGION = re.compile(r"[(（](?:深圳|厦门|沈阳|广东|中国|深圳市)[)）]")
_LEGAL_FORMS = (
    ("股份有限公司", "有限公司"),
    ("有限责任公司", "有限公司"),
    ("有限公司", "有限公司"),
)
_ABBREVIATIONS = (
    ("社会工作服务中心", "社工服务中心"),
    ("社会工作", "社工"),
    ("服务中心", "服务中心"),
)


@lru_cache(maxsize=500_000)
def org_name_written(name: str) -> str:
    """An organisation's name as written, give or take width, spaces, script and brackets:
    深圳市龙岗区阳光社会工作服务中心 and 深圳市阳光社会工作服务中心 stay two names (two
    organisations may share a core, :func:`org_name`, and differ only in the region)."""
    return _unbracketed(_org_simplified(name))


@lru_cache(maxsize=500_000)
def org_name(name: str) -> str:
    """The comparable core of an organisation's name.

    深圳市龙岗区阳光社会工作服务中心 and 阳光社工服务中心（深圳） both give 阳光社工服务中心;
    深圳市恒信市政工程有限责任公司 gives 恒信市政工程有限公司.
    """
    return _core(_org_simplified(name))


def org_names(names: list[str]) -> tuple[list[str], list[str]]:
    """(:func:`org_name_written`, :func:`org_name`) of many names, with one OpenCC call for
    all of them (a name cleaned of whitespace holds no line break, and no phrase spans one)."""
    cleaned = [_SPACE.sub("", unicodedata.normalize("NFKC", n)) for n in names]
    if not cleaned:
        return [], []
    simplified = str(_T2S.convert("\n".join(cleaned))).split("\n")
    if len(simplified) != len(cleaned):  # never expected; one by one then
        simplified = [_org_simplified(n) for n in names]
    return [_unbracketed(t) for t in simplified], [_core(t) for t in simplified]


def _org_simplified(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    return str(_T2S.convert(_SPACE.sub("", text)))


def _unbracketed(text: str) -> str:
    return text.replace("(", "").replace(")", "")


def _core(simplified: str) -> str:
    text = _BRACKET_REGION.sub("", simplified)
    text = _unbracketed(text)
    text = _REGION.sub("", text, count=1)
    for long, short in _LEGAL_FORMS:
        if text.endswith(long):
            text = text[: -len(long)] + short
            break
    for long, short in _ABBREVIATIONS:
        text = text.replace(long, short)
    return text
