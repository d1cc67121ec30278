"""Kinship: each clause of the legal list, the classic traps, terms, chains and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from graph.kinship import (
    Step,
    UnknownKinTermError,
    birth_gap,
    chain_paths,
    describe,
    is_known_term,
    kin,
    parse_code,
    simplify,
    term_paths,
)
from integrity.cli import app

# (chain, speaker sex, category, detail contains)
LEGAL_LIST = [
    # 夫妻关系
    ("配偶", None, "配偶", ""),
    ("老婆", "男", "配偶", ""),
    ("丈夫", "女", "配偶", ""),
    # 直系血亲: 祖父母、外祖父母、父母、子女、孙子女、外孙子女, and further up or down
    ("祖父", None, "直系血亲", ""),
    ("外婆", None, "直系血亲", ""),
    ("父亲", None, "直系血亲", ""),
    ("女儿", None, "直系血亲", ""),
    ("孙子", None, "直系血亲", ""),
    ("外孙女", None, "直系血亲", ""),
    ("爸爸的爸爸的爸爸", None, "直系血亲", "超出列举"),  # the great-grandparent
    ("儿子的儿子的儿子", None, "直系血亲", "超出列举"),
    # 三代以内旁系血亲: 伯叔姑舅姨、兄弟姐妹、堂兄弟姐妹、表兄弟姐妹、侄子女、甥子女
    ("伯父", None, "三代以内旁系血亲", ""),
    ("叔叔", None, "三代以内旁系血亲", ""),
    ("姑姑", None, "三代以内旁系血亲", ""),
    ("舅舅", None, "三代以内旁系血亲", ""),
    ("姨妈", None, "三代以内旁系血亲", ""),
    ("哥哥", None, "三代以内旁系血亲", ""),
    ("妹妹", None, "三代以内旁系血亲", ""),
    ("堂弟", None, "三代以内旁系血亲", ""),
    ("表姐", None, "三代以内旁系血亲", ""),
    ("侄女", None, "三代以内旁系血亲", ""),
    ("外甥", None, "三代以内旁系血亲", ""),
    # 近姻亲: 配偶的父母、配偶的兄弟姐妹及其配偶、子女的配偶及子女配偶的父母、三代以内旁系血亲的配偶
    ("岳父", None, "近姻亲", "配偶的父母"),
    ("婆婆", None, "近姻亲", "配偶的父母"),
    ("小姨子", None, "近姻亲", "配偶的兄弟姐妹"),
    ("老婆的哥哥", "男", "近姻亲", "配偶的兄弟姐妹"),
    ("连襟", None, "近姻亲", "配偶的兄弟姐妹的配偶"),
    ("老公的弟弟的老婆", "女", "近姻亲", "配偶的兄弟姐妹的配偶"),
    ("儿媳", None, "近姻亲", "子女的配偶"),
    ("女婿", None, "近姻亲", "子女的配偶"),
    ("亲家母", None, "近姻亲", "子女配偶的父母"),
    ("儿子的老婆的爸爸", "男", "近姻亲", "子女配偶的父母"),
    ("嫂子", None, "近姻亲", "三代以内旁系血亲的配偶"),
    ("姑父", None, "近姻亲", "三代以内旁系血亲的配偶"),
    ("表哥的老婆", None, "近姻亲", "三代以内旁系血亲的配偶"),  # the spouse of a cousin
    ("外甥女的老公", None, "近姻亲", "三代以内旁系血亲的配偶"),
]

TRAPS = [
    ("老婆的舅舅", "男", "非近亲属", "其他姻亲"),  # the spouse's uncle is not a close in-law
    ("配偶的表姐", None, "非近亲属", "其他姻亲"),  # nor the spouse's cousin
    ("爸爸的爸爸的弟弟的儿子的儿子", "男", "非近亲属", "旁系超出三代"),  # a second cousin
    ("堂侄", None, "非近亲属", "旁系超出三代"),
    ("侄孙", None, "非近亲属", "旁系超出三代"),
    ("爸爸的爸爸的爸爸", None, "直系血亲", "超出列举的祖父母、孙子女"),  # great-grandparent
    ("孙子的老婆", None, "非近亲属", "其他姻亲"),  # not in the enumerated list
    ("老婆的爷爷", "男", "非近亲属", "其他姻亲"),
    ("老婆的姐姐的儿子", "男", "非近亲属", "其他姻亲"),
]


@pytest.mark.parametrize(("chain", "sex", "category", "detail"), LEGAL_LIST + TRAPS)
def test_categories(chain: str, sex: str | None, category: str, detail: str) -> None:
    answer = kin(chain, sex)  # type: ignore[arg-type]
    assert answer.category == category, answer.to_dict()
    assert detail in str(answer.to_dict()["detail"])


@pytest.mark.parametrize(
    ("chain", "generations"),
    [
        ("父亲", [1, 0]),
        ("哥哥", [1, 1]),
        ("叔叔", [2, 1]),
        ("堂妹", [2, 2]),
        ("外甥", [1, 2]),
        ("爸爸的爸爸的弟弟的儿子的儿子", [3, 3]),
        ("曾孙", [0, 3]),
    ],
)
def test_generations_to_the_common_ancestor(chain: str, generations: list[int]) -> None:
    assert kin(chain).to_dict()["generations"] == generations


@pytest.mark.parametrize(
    ("chain", "sex", "codes"),
    [
        ("爸爸的儿子", "男", ["", "xb"]),  # oneself or a brother
        ("爸爸的儿子", "女", ["xb"]),  # a woman is not her father's son
        ("哥哥的爸爸", None, ["f"]),  # the brother's father is the father
        ("爸爸的老婆", None, ["m"]),
        ("儿子的妈妈", "男", ["w"]),
        ("儿子的妹妹", None, ["d"]),
        ("哥哥的哥哥", None, ["ob"]),
        ("老婆的老公", "男", [""]),
    ],
)
def test_simplifying(chain: str, sex: str | None, codes: list[str]) -> None:
    assert sorted(kin(chain, sex).to_dict()["codes"]) == sorted(codes)  # type: ignore[arg-type]


def test_ambiguous_chains_list_the_alternatives() -> None:
    answer = kin("爸爸的儿子", "男").to_dict()
    assert answer["ambiguous"] is True
    assert answer["category"] == "三代以内旁系血亲"  # a declared relative is someone else
    assert {a["category"] for a in answer["alternatives"]} == {"本人", "三代以内旁系血亲"}


def test_impossible_chain_for_the_speakers_sex() -> None:
    answer = kin("老公", "男").to_dict()
    assert answer["category"] is None and answer["impossible"] is True


@pytest.mark.parametrize(
    ("term", "codes"),
    [
        ("大舅子", ["w,ob"]),
        ("丈人", ["w,f"]),
        ("姥姥", ["m,m"]),
        ("亲家公", ["c,sp,f"]),
        ("妯娌", ["h,xb,w"]),
        ("儿媳妇", ["s,w"]),
        ("二舅妈", ["m,xb,w"]),
        ("三叔", ["f,lb"]),
        ("表哥", ["f,xs,s&o", "m,xb,s&o", "m,xs,s&o"]),
    ],
)
def test_vocabulary(term: str, codes: list[str]) -> None:
    assert [",".join(s.code for s in p) for p in term_paths(term)] == codes


def test_adoptive_and_step_relations_count_as_blood() -> None:
    answer = kin("养父").to_dict()
    assert answer["category"] == "直系血亲" and answer["fictive"] is True
    assert "拟制血亲" in str(answer["detail"])
    assert kin("继子的老婆").category == "近姻亲"


def test_unknown_terms_are_errors_not_guesses() -> None:
    with pytest.raises(UnknownKinTermError):
        chain_paths("老婆的师父")


def test_no_legal_kinship_is_a_known_term_that_makes_no_link() -> None:
    # a former spouse, a 干亲, a fiancée: a declaration may name them; the law does not
    for term in ("前妻", "干爹", "未婚妻", "老婆的前夫"):
        assert is_known_term(term)
        assert chain_paths(term) == ()
        answer = kin(term, "男")
        assert answer.category is None and "不属于法定亲属关系" in answer.note


@pytest.mark.parametrize(
    ("term", "category"),
    [
        ("老伴", "配偶"),
        ("后妈", "直系血亲"),
        ("岳父母", "近姻亲"),
        ("妻弟", "近姻亲"),
        ("叔伯", "三代以内旁系血亲"),
        ("姨夫", "近姻亲"),  # 三代以内旁系血亲的配偶
        ("表嫂", "近姻亲"),
        ("侄媳妇", "近姻亲"),
        ("孙媳妇", "非近亲属"),  # a grandchild's spouse is not on the list
        ("表姑", "非近亲属"),  # the father's cousin: the common ancestor four generations up
        ("太爷爷", "直系血亲"),
    ],
)
def test_colloquial_terms(term: str, category: str) -> None:
    assert kin(term, "男").category == category


def test_simplify_is_cached_and_says_what_a_path_may_be() -> None:
    """The father's son is oneself or a brother; known to be two people, only a brother;
    asked again, the answer comes from the cache."""
    path = chain_paths("爸爸的儿子")[0]
    brother = (Step(kind="sibling", sex="男", age=None, fictive=False),)
    assert simplify(path, "男") == ((), brother)
    assert simplify(path, "男", True) == (brother,)
    hits = simplify.cache_info().hits
    assert simplify(path, "男") is simplify(path, "男")
    assert simplify.cache_info().hits == hits + 2


runner = CliRunner()


def test_cli_json_one_object() -> None:
    result = runner.invoke(app, ["kin", "老婆的哥哥", "--sex", "男", "--json"])
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert {"chain", "category", "detail", "terms"} <= answer.keys()
    assert answer["category"] == "近姻亲" and "大舅子" in answer["terms"]


def test_cli_reads_chains_from_stdin() -> None:
    result = runner.invoke(app, ["kin", "--json", "-"], input="岳父\n师父\n\n表哥的老婆\n")
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert [x.get("category") for x in lines] == ["近姻亲", None, "近姻亲"]
    assert "unknown kin term" in lines[1]["error"]
    assert result.exit_code == 0


def test_cli_text_and_unknown_term_exit_code() -> None:
    ok = runner.invoke(app, ["kin", "外甥"])
    assert ok.exit_code == 0 and "三代以内旁系血亲" in ok.output
    bad = runner.invoke(app, ["kin", "师父"])
    assert bad.exit_code == 1 and "未知的亲属称谓" in bad.output


def test_steps_without_a_term_of_their_own_are_said_in_words() -> None:
    # the sex-neutral steps a contradicted registry row becomes (never a bare code)
    assert describe(parse_code("o")) == "哥哥或姐姐"
    assert describe(parse_code("f,l")) == "父亲的弟弟或妹妹"
    assert describe(parse_code("p*")) == "父母（拟制）"


@pytest.mark.parametrize(
    ("term", "sex", "category"),
    [
        ("叔公", "男", "非近亲属"),  # the grandfather's brother: the common ancestor 3 up
        ("伯公", "男", "非近亲属"),
        ("舅公", "男", "非近亲属"),
        ("姑婆", "女", "非近亲属"),
        ("姨婆", "女", "非近亲属"),
        ("阿公", "男", "直系血亲"),
        ("阿嫲", "男", "直系血亲"),
        ("阿婆", "男", "直系血亲"),
        ("老豆", "男", "直系血亲"),
        ("家公", "女", "近姻亲"),
        ("家婆", "女", "近姻亲"),
        ("外父", "男", "近姻亲"),
        ("新抱", "女", "近姻亲"),
        ("细佬", "男", "三代以内旁系血亲"),
        ("家姐", "女", "三代以内旁系血亲"),
        ("老婆的细佬", "男", "近姻亲"),
        ("阿姆", "男", "近姻亲"),
    ],
)
def test_cantonese_and_hakka_terms(term: str, sex: str, category: str) -> None:
    """Shenzhen's declarations write 粤语 and 客家 terms: known, not "unknown kin term"."""
    assert kin(term, sex).category == category  # type: ignore[arg-type]


def test_a_godparent_is_no_relative() -> None:
    assert kin("契爷", "男").category is None  # 契爷: fictive kin, known but no link


def test_an_answer_in_full() -> None:
    """What the CLI and the API print for a chain, every key: the closest legal category
    first, every alternative when the chain has several readings, and why none when none."""
    assert kin("爸爸的儿子", "男").to_dict() == {
        "chain": "爸爸的儿子",
        "speaker_sex": "男",
        "category": "三代以内旁系血亲",
        "detail": "",
        "generations": [1, 1],
        "terms": ["兄弟"],
        "codes": ["", "xb"],
        "ambiguous": True,
        "fictive": False,
        "alternatives": [
            {"code": "", "category": "本人", "detail": "", "generations": None,
             "terms": ["本人", "自己"], "fictive": False},
            {"code": "xb", "category": "三代以内旁系血亲", "detail": "", "generations": [1, 1],
             "terms": ["兄弟"], "fictive": False},
        ],
    }  # fmt: skip
    assert kin("老公", "男").to_dict() == {
        "chain": "老公",
        "speaker_sex": "男",
        "category": None,
        "detail": "该关系链与本人性别不符，不成立",
        "generations": None,
        "terms": [],
        "codes": [],
        "ambiguous": False,
        "fictive": False,
        "impossible": True,
    }
    father = kin("哥哥的爸爸").to_dict()
    assert father["codes"] == ["f"] and father["category"] == "直系血亲"
    assert father["generations"] == [1, 0] and "impossible" not in father
    assert "alternatives" not in father and father["terms"][:2] == ["父亲", "爸爸"]


@pytest.mark.parametrize(
    ("chain", "codes"),
    [
        ("哥哥的爸爸", ["f"]),  # a sibling's parent is the parent
        ("姐姐的妈妈", ["m"]),
        ("儿子的妹妹", ["d"]),  # a child's sibling is a child
        ("女儿的哥哥", ["s"]),
        ("老婆的儿子", ["s"]),  # a spouse's child is one's own child (step-children aside)
        ("老公的女儿", ["d"]),
    ],
)
def test_the_second_step_kept(chain: str, codes: list[str]) -> None:
    assert kin(chain).to_dict()["codes"] == codes


def test_an_unknown_term_names_itself() -> None:
    with pytest.raises(UnknownKinTermError) as caught:
        chain_paths("老婆的师父")
    assert caught.value.term == "师父"
    assert "师父" in str(caught.value)


def test_a_term_outside_the_law_says_why_it_makes_no_link() -> None:
    for chain in ("前妻", "老婆的前夫", "干 爹"):
        answer = kin(chain).to_dict()
        assert answer["detail"] == "前配偶、干亲、未婚夫妻等不属于法定亲属关系", chain
        assert answer["category"] is None and answer["impossible"] is True


def test_spaces_are_dropped_and_zhi_reads_as_de() -> None:
    assert kin("老婆 的 哥哥").to_dict()["codes"] == ["w,ob"]
    assert kin("老婆之哥哥").to_dict()["codes"] == ["w,ob"]
    assert kin(" 老婆 的 哥 哥 ").chain == " 老婆 的 哥 哥 "  # the chain as written is kept


def test_a_path_from_its_codes_and_back() -> None:
    from graph.kinship import code_of, path_of  # noqa: PLC0415

    assert path_of("w,ob") == (Step("spouse", "女"), Step("sibling", "男", "older"))
    assert path_of("") == ()  # oneself
    assert code_of(path_of("w,ob,f")) == "w,ob,f"


def test_the_years_of_a_path_are_its_steps_added() -> None:
    assert birth_gap("f") == (-65, -13)
    # 祖母: the father's mother, never born after the official
    assert birth_gap("f,m") == (-130, -26)
    # 岳父: the wife's father (a spouse within 30 years either way)
    assert birth_gap("w,f") == (-95, 17)
    assert birth_gap("s,s") == (26, 130)
    assert birth_gap("nonsense") is None
