"""Kinship algebra: kin terms to paths of basic relations, and paths to the legal categories.

A path is a tuple of steps, each one basic relation from the person before it: parent, child,
spouse or sibling, with the sex of the person reached and, for siblings, whether older or
younger. Composing is concatenation; simplifying rewrites adjacent steps (the brother's father
is the father; the father's son is oneself or a brother) and may give several alternatives;
classifying a simplified path gives the category of 公务员回避规定 that avoidance turns on:

  本人 · 配偶 · 直系血亲 · 三代以内旁系血亲 · 近姻亲 · 非近亲属

with the generations to the common ancestor, a detail (e.g. 旁系超出三代) and the Chinese
terms for it. The codes are those of relationship.js (f m h w s d ob lb os ls xb xs), the
oracle the tests hold this module to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from graph.terms import NOT_KIN, NUMBERED, NUMBERED_BASE, TERMS

Kind = Literal["parent", "child", "spouse", "sibling"]
Sex = Literal["男", "女"] | None
Age = Literal["older", "younger"] | None
Category = Literal["本人", "配偶", "直系血亲", "三代以内旁系血亲", "近姻亲", "非近亲属"]


CATEGORIES: tuple[Category, ...] = (
    "本人",
    "配偶",
    "直系血亲",
    "三代以内旁系血亲",
    "近姻亲",
    "非近亲属",
)
# the order in which a set of alternatives is summed up: the closest possibility first
CLOSENESS = {c: i for i, c in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class Step:
    kind: Kind
    sex: Sex = None
    age: Age = None
    fictive: bool = False  # adoptive or step relation (拟制血亲), counted as blood

    @property
    def code(self) -> str:
        if self.kind == "sibling":
            return _CODE[(self.kind, self.sex, self.age)]
        base = _CODE[(self.kind, self.sex, None)]
        return base + {"older": "&o", "younger": "&l", None: ""}[self.age]

    @property
    def fictive_code(self) -> str:
        """The code with ``*`` for an adoptive or step relation (养父 f*, 继子 s*)."""
        return self.code + ("*" if self.fictive else "")


Path = tuple[Step, ...]

_CODE: dict[tuple[Kind, Sex, Age], str] = {
    ("parent", "男", None): "f",
    ("parent", "女", None): "m",
    ("parent", None, None): "p",
    ("child", "男", None): "s",
    ("child", "女", None): "d",
    ("child", None, None): "c",
    ("spouse", "男", None): "h",
    ("spouse", "女", None): "w",
    ("spouse", None, None): "sp",
    ("sibling", "男", "older"): "ob",
    ("sibling", "男", "younger"): "lb",
    ("sibling", "男", None): "xb",
    ("sibling", "女", "older"): "os",
    ("sibling", "女", "younger"): "ls",
    ("sibling", "女", None): "xs",
    ("sibling", None, "older"): "o",
    ("sibling", None, "younger"): "l",
    ("sibling", None, None): "x",
}
_STEP_OF_CODE = {code: Step(*key) for key, code in _CODE.items()}


def step(code: str) -> Step:
    return _STEP_OF_CODE[code]


def path_of(codes: str) -> Path:
    """'w,ob' -> the path; '' is oneself."""
    return tuple(step(c) for c in codes.split(",") if c)


def code_of(path: Path) -> str:
    return ",".join(s.code for s in path)


# --------------------------------------------------------------------------- vocabulary

# the terms themselves are in graph/terms.py (a table of a few hundred entries)
_TERMS, _NUMBERED, _NUMBERED_BASE = TERMS, NUMBERED, NUMBERED_BASE

# age modifiers on a step (&o older, &l younger) turn a cousin's child step into an age
_MODIFIED = re.compile(r"^(?P<code>[a-z]+)(?P<mod>&[ol]|\*)?$")


class UnknownKinTermError(ValueError):
    """A kin term that is not in the vocabulary: never guessed."""

    def __init__(self, term: str) -> None:
        super().__init__(f"未知的亲属称谓 “{term}” / unknown kin term '{term}'")
        self.term = term


def _parse_codes(codes: str) -> Path:
    steps: list[Step] = []
    for token in filter(None, codes.split(",")):
        m = _MODIFIED.match(token)
        if m is None:
            raise ValueError(token)
        s = _STEP_OF_CODE[m.group("code")]
        mod = m.group("mod")
        if mod == "*":
            s = Step(s.kind, s.sex, s.age, fictive=True)
        elif mod:
            # a cousin written 堂兄: the age compares the relative with the speaker
            s = Step(s.kind, s.sex, "older" if mod == "&o" else "younger")
        steps.append(s)
    return tuple(steps)


def parse_code(codes: str) -> Path:
    """'w,ob' or 'f,xb,s&o' (relationship.js codes, ``*`` for adoptive or step) -> a path."""
    return _parse_codes(codes)


def term_paths(term: str) -> tuple[Path, ...]:
    """The paths a single kin term stands for (several for 表哥: 姑表, 舅表, 姨表)."""
    key = re.sub(r"\s", "", term)
    if key in NOT_KIN:
        return ()
    if key in _TERMS:
        return tuple(_parse_codes(c) for c in _TERMS[key])
    m = _NUMBERED.match(key)
    if m:
        return (_parse_codes(_NUMBERED_BASE[m.group("base")]),)
    # birth-order prefixes on a known term: 二舅妈, 大姐夫, 三婶, 小叔叔
    if len(key) > 2 and key[0] in "大二三四五六七八九十小老幺" and key[1:] in _TERMS:
        return tuple(_parse_codes(c) for c in _TERMS[key[1:]])
    raise UnknownKinTermError(term)


def is_known_term(term: str) -> bool:
    """A term, or a chain of terms joined by 的, that the vocabulary knows."""
    try:
        chain_paths(term)
    except UnknownKinTermError:
        return False
    return True


def chain_paths(chain: str) -> tuple[Path, ...]:
    """A chain '老婆的哥哥的儿子' (or one term) as the composed paths, before simplifying."""
    parts = [p for p in re.split(r"的|之", re.sub(r"\s", "", chain)) if p]
    if not parts:
        raise UnknownKinTermError(chain)
    paths: list[Path] = [()]
    for part in parts:
        paths = [a + b for a in paths for b in term_paths(part)]
    return tuple(dict.fromkeys(paths))


# --------------------------------------------------------------------------- simplifying


def _opposite(sex: Sex) -> Sex:
    return None if sex is None else ("女" if sex == "男" else "男")


def _compatible(a: Sex, b: Sex) -> bool:
    return a is None or b is None or a == b


def _sexes(path: Path, speaker: Sex) -> list[Sex]:
    """The sex of each person along the path, the speaker first, inferred where it can be."""
    sexes: list[Sex] = [speaker]
    for s in path:
        if s.kind == "spouse" and s.sex is None:
            sexes.append(_opposite(sexes[-1]))
        else:
            sexes.append(s.sex)
    return sexes


def _consistent(path: Path, speaker: Sex) -> bool:
    """A spouse of the same sex as the person before (a man's 老公) does not exist here."""
    sexes = _sexes(path, speaker)
    return all(
        not (
            s.kind == "spouse" and sexes[i] is not None and s.sex is not None and s.sex == sexes[i]
        )
        for i, s in enumerate(path)
    )


Replacement = tuple[Step, ...]


def _parent_child(a: Step, b: Step, before: Sex) -> list[Replacement]:
    """The father's son: oneself, or a brother (full siblings assumed)."""
    own = [()] if _compatible(b.sex, before) else []
    return [*own, (Step("sibling", b.sex, None, a.fictive or b.fictive),)]


def _child_parent(a: Step, b: Step, before: Sex) -> list[Replacement]:
    """The son's mother: oneself (same sex) or one's spouse."""
    own: list[Replacement] = [()] if _compatible(b.sex, before) else []
    if _compatible(b.sex, _opposite(before)):
        own.append((Step("spouse", b.sex or _opposite(before)),))
    return own


def _parent_spouse(a: Step, b: Step, before: Sex) -> list[Replacement]:
    """The father's wife is the mother."""
    sex = b.sex or _opposite(a.sex)
    if a.sex is not None and sex == a.sex:
        return []
    return [(Step("parent", sex, None, a.fictive),)]


def _sibling_sibling(a: Step, b: Step, before: Sex) -> list[Replacement]:
    """The brother's brother: a brother, or oneself when the ages allow it."""
    age = a.age if a.age == b.age else None
    own = [()] if _compatible(b.sex, before) and age is None else []
    return [*own, (Step("sibling", b.sex, age, a.fictive or b.fictive),)]


def _keep_second(kind: Kind, a: Step, b: Step) -> list[Replacement]:
    """The brother's father is the father; the son's sister is a daughter."""
    return [(Step(kind, b.sex, None, a.fictive or b.fictive),)]


def _sibling_parent(a: Step, b: Step, before: Sex) -> list[Replacement]:
    return _keep_second("parent", a, b)


def _child_sibling(a: Step, b: Step, before: Sex) -> list[Replacement]:
    return _keep_second("child", a, b)


RewriteRule = Callable[[Step, Step, Sex], list[Replacement]]
_RULES: dict[tuple[Kind, Kind], RewriteRule] = {
    ("parent", "child"): _parent_child,
    ("child", "parent"): _child_parent,
    ("parent", "spouse"): _parent_spouse,
    ("sibling", "sibling"): _sibling_sibling,
    ("sibling", "parent"): _sibling_parent,
    ("child", "sibling"): _child_sibling,
    ("spouse", "child"): _child_sibling,  # the wife's son: one's own son
    ("spouse", "spouse"): lambda a, b, before: [()],
}


def _rewrite(path: Path, i: int, sexes: list[Sex], distinct: bool) -> list[Path] | None:
    """Alternatives for the pair path[i], path[i+1], or None when the pair stays. With
    ``distinct`` every person along the path is known to be someone else (links between
    identified people), so no pair folds back onto the person it starts from."""
    rule = _RULES.get((path[i].kind, path[i + 1].kind))
    if rule is None:
        return None
    middles = rule(path[i], path[i + 1], sexes[i])
    if distinct:
        middles = [m for m in middles if m]
    return [(*path[:i], *middle, *path[i + 2 :]) for middle in middles]


@lru_cache(maxsize=200_000)
def simplify(path: Path, speaker: Sex = None, distinct: bool = False) -> tuple[Path, ...]:
    """Every simplest form the path may take, closest first; none if it cannot exist.

    ``distinct``: the people along the path are known to be different people, as when the
    path is composed of links between identified persons.
    """
    if not _consistent(path, speaker):
        return ()
    sexes = _sexes(path, speaker)
    for i in range(len(path) - 1):
        alternatives = _rewrite(path, i, sexes, distinct)
        if alternatives is not None:
            results: dict[Path, None] = {}
            for alt in alternatives:
                for r in simplify(alt, speaker, distinct):
                    results[r] = None
            return tuple(results)
    return (path,)


# --------------------------------------------------------------------------- classifying


@dataclass(frozen=True)
class Classification:
    """The legal category of one simplified path, with what a referral says about it."""

    path: Path
    category: Category
    detail: str = ""
    generations: tuple[int, int] | None = None  # to the common ancestor: from ego, from relative
    terms: tuple[str, ...] = ()
    fictive: bool = False

    @property
    def code(self) -> str:
        return code_of(self.path)


def _shape(path: Path) -> str:
    return "".join(
        {"parent": "P", "child": "C", "spouse": "W", "sibling": "S"}[s.kind] for s in path
    )


_BLOOD = re.compile(r"^(?P<up>P*)(?P<sib>S?)(?P<down>C*)$")


def _blood(shape: str) -> tuple[int, int] | None:
    """(ego, relative) generations to the common ancestor of a blood path, or None."""
    m = _BLOOD.match(shape)
    if m is None:
        return None
    up, sib, down = len(m.group("up")), len(m.group("sib")), len(m.group("down"))
    if not sib:
        return (up, 0) if not down else (0, down)  # simplified: never both up and down
    return up + 1, down + 1


def _collateral_within_three(gen: tuple[int, int] | None) -> bool:
    # the common ancestor counts as the first generation: within three generations means
    # both are at most its grandchildren (伯叔姑舅姨、兄弟姐妹、堂表兄弟姐妹、侄子女、甥子女)
    return gen is not None and gen[0] >= 1 and gen[1] >= 1 and max(gen) <= 2 and _is_collateral(gen)


def _is_collateral(gen: tuple[int, int]) -> bool:
    return gen[0] > 0 and gen[1] > 0


def _category(shape: str) -> tuple[Category, str, tuple[int, int] | None]:
    """(category, detail, generations) of a simplified path's shape."""
    fixed: dict[str, Category] = {"": "本人", "W": "配偶"}
    if shape in fixed:
        return fixed[shape], "", None
    gen = _blood(shape)
    if gen is not None and not _is_collateral(gen):
        return "直系血亲", "超出列举的祖父母、孙子女" if max(gen) > 2 else "", gen
    if gen is not None:
        within = _collateral_within_three(gen)
        return ("三代以内旁系血亲", "", gen) if within else ("非近亲属", "旁系超出三代", gen)
    # affinity: a spouse step joins two blood paths
    if shape in _AFFINAL:
        return "近姻亲", _AFFINAL[shape], None
    if shape.endswith("W") and _collateral_within_three(_blood(shape[:-1])):
        return "近姻亲", "三代以内旁系血亲的配偶", None
    return "非近亲属", "其他姻亲", None


def classify_simple(path: Path) -> Classification:
    """The category of a path that :func:`simplify` has already reduced."""
    category, detail, gen = _category(_shape(path))
    fictive = any(s.fictive for s in path)
    if fictive and category not in ("本人", "配偶"):
        detail = "；".join(filter(None, [detail, "含拟制血亲（收养或继养）"]))
    return Classification(path, category, detail, gen, terms_for(path), fictive)


# the close in-laws of the legal list, by the shape of their simplified path
_AFFINAL = {
    "WP": "配偶的父母",
    "WS": "配偶的兄弟姐妹",
    "WSW": "配偶的兄弟姐妹的配偶",
    "CW": "子女的配偶",
    "CWP": "子女配偶的父母",
}


@dataclass(frozen=True)
class KinAnswer:
    """What a chain of kin terms means: the category, or the alternatives if it is ambiguous."""

    chain: str
    speaker: Sex
    alternatives: tuple[Classification, ...]
    note: str = ""

    @property
    def category(self) -> Category | None:
        """The closest category the chain may be, None if it cannot exist. A chain that may
        lead back to the speaker (爸爸的儿子) names someone else when it can: a relative."""
        cats = [a.category for a in self.alternatives]
        if not cats:
            return None
        others = [c for c in cats if c != "本人"]
        return min(others or cats, key=CLOSENESS.__getitem__)

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(dict.fromkeys(a.category for a in self.alternatives))

    @property
    def ambiguous(self) -> bool:
        return len(self.categories) > 1

    @property
    def impossible(self) -> bool:
        """No person can be so related: the chain contradicts the sexes (a man's 老公)."""
        return not self.alternatives

    def to_dict(self) -> dict[str, object]:
        def one(c: Classification) -> dict[str, object]:
            return {
                "code": c.code,
                "category": c.category,
                "detail": c.detail,
                "generations": list(c.generations) if c.generations else None,
                "terms": list(c.terms),
                "fictive": c.fictive,
            }

        best = [a for a in self.alternatives if a.category == self.category]
        out: dict[str, object] = {
            "chain": self.chain,
            "speaker_sex": self.speaker,
            "category": self.category,
            "detail": best[0].detail if best else self.note,
            "generations": list(best[0].generations) if best and best[0].generations else None,
            "terms": list(dict.fromkeys(t for a in best for t in a.terms)),
            "codes": [a.code for a in self.alternatives],
            "ambiguous": self.ambiguous,
            "fictive": any(a.fictive for a in best),
        }
        if self.impossible:
            out["impossible"] = True
        if self.ambiguous:
            out["alternatives"] = [one(a) for a in self.alternatives]
        return out


def classify_path(
    path: Path, speaker: Sex = None, *, distinct: bool = False
) -> tuple[Classification, ...]:
    return tuple(dict.fromkeys(classify_simple(p) for p in simplify(path, speaker, distinct)))


def closest_other(alternatives: tuple[Classification, ...]) -> Classification | None:
    """The closest alternative that is somebody else: a relative reached through links
    between people is not the person the path starts from. None if none exists."""
    others = [a for a in alternatives if a.category != "本人"]
    if not others:
        return None
    return min(others, key=lambda a: (CLOSENESS[a.category], len(a.path)))


def kin(chain: str, speaker: Sex = None) -> KinAnswer:
    """What ``chain`` ('老婆的哥哥', '岳父', '爸爸的儿子') is to the speaker."""
    alternatives: dict[Classification, None] = {}
    for path in chain_paths(chain):
        for c in classify_path(path, speaker):
            alternatives[c] = None
    ordered = sorted(alternatives, key=lambda c: (CLOSENESS[c.category], c.code))
    parts = [p for p in re.split(r"的|之", re.sub(r"\s", "", chain)) if p]
    if any(p in NOT_KIN for p in parts):
        note = "前配偶、干亲、未婚夫妻等不属于法定亲属关系"
    else:
        note = "" if ordered else "该关系链与本人性别不符，不成立"
    return KinAnswer(chain, speaker, tuple(ordered), note)


# --------------------------------------------------------------------------- ages

# How many years after the speaker a relative one step away may be born (generous bounds: a
# mother of 13 or of 65 is the edge; spouses and siblings within 30 years of each other).
# Adoptive and step relations (拟制血亲) may be almost any age apart in the same direction.
_BIRTH_GAP: dict[tuple[Kind, Age, bool], tuple[int, int]] = {
    ("parent", None, False): (-65, -13),
    ("child", None, False): (13, 65),
    ("spouse", None, False): (-30, 30),
    ("sibling", "older", False): (-30, 0),
    ("sibling", "younger", False): (0, 30),
    ("sibling", None, False): (-30, 30),
    ("parent", None, True): (-75, 0),
    ("child", None, True): (0, 75),
    ("sibling", "older", True): (-40, 0),
    ("sibling", "younger", True): (0, 40),
    ("sibling", None, True): (-40, 40),
}


@lru_cache(maxsize=4096)
def birth_gap(code: str) -> tuple[int, int] | None:
    """The years after the speaker that the relative of ``code`` is born (the father: 13 to
    65 years before; the younger sister: up to 30 after; the grandmother, one step after
    another: 26 to 130 years before, so never after the official), or None for a code this
    does not know. A relative's age implied by a registry or declaration row where his or
    her own birth date is missing: a declared son cannot be born before his father."""
    try:
        path = parse_code(code)
    except (KeyError, ValueError):
        return None
    if not path:
        return None
    lo = hi = 0
    for s in path:
        gap = _BIRTH_GAP.get((s.kind, s.age if s.kind == "sibling" else None, s.fictive))
        if gap is None:
            return None
        lo, hi = lo + gap[0], hi + gap[1]
    return lo, hi


# --------------------------------------------------------------------------- terms for paths


@lru_cache(maxsize=1)
def _terms_by_code() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for term, codes in _TERMS.items():
        for c in codes:
            path = _parse_codes(c)
            out.setdefault(",".join(s.fictive_code for s in path), []).append(term)
    return {k: tuple(v) for k, v in out.items()}


def terms_for(path: Path) -> tuple[str, ...]:
    """The vocabulary's terms for exactly this path (several synonyms), else none."""
    return _terms_by_code().get(",".join(s.fictive_code for s in path), ())


def describe(path: Path) -> str:
    """A path in words: its term if it has one, else the chain of basic terms."""
    terms = terms_for(path)
    if terms:
        return terms[0]
    if not path:
        return "本人"
    return "的".join(_step_words(s) for s in path)


# one step without a term of its own: a sibling of known age but unknown sex
_STEP_WORDS = {"o": "哥哥或姐姐", "l": "弟弟或妹妹"}


def _step_words(s: Step) -> str:
    terms = terms_for((s,))
    if terms:
        return terms[0]
    if s.fictive:  # an adoptive or step relation without a term of its own (继父母)
        return _step_words(Step(s.kind, s.sex, s.age)) + "（拟制）"
    return _STEP_WORDS.get(s.code, s.code)


__all__ = [
    "CATEGORIES",
    "Classification",
    "KinAnswer",
    "Path",
    "Step",
    "UnknownKinTermError",
    "birth_gap",
    "chain_paths",
    "classify_path",
    "classify_simple",
    "closest_other",
    "code_of",
    "describe",
    "is_known_term",
    "kin",
    "parse_code",
    "path_of",
    "simplify",
    "step",
    "term_paths",
    "terms_for",
]
