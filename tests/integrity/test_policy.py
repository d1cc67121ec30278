"""Policy profiles: all five load, unknown keys fail loudly, quotes are the documents' words."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from integrity.errors import PolicyError
from integrity.policy import DEFAULT_PROFILE, available_profiles, load_profile, profile_dir
from tests.conftest import SEEDS, SHARED_SEEDS

PROGRAMMES = ["haicang-2018", "longgang-2023", "luohu-2017", "nanshan-2020", "shenyang-2023"]


def test_the_five_programmes_are_available() -> None:
    assert available_profiles() == PROGRAMMES
    assert DEFAULT_PROFILE == "longgang-2023"


@pytest.mark.parametrize("name", PROGRAMMES)
def test_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.rules or profile.rules_not_applicable


@pytest.mark.parametrize(
    ("name", "caps"),
    [
        ("longgang-2023", {"工程类": 1_000_000, "服务类": 500_000, "货物类": 500_000}),
        ("haicang-2018", {"工程类": 400_000, "服务类": 200_000, "货物类": 200_000}),
        ("nanshan-2020", {"工程类": 1_000_000, "服务类": 500_000, "货物类": 500_000}),
        ("luohu-2017", {"工程类": 500_000, "服务类": 200_000}),
    ],
)
def test_caps_are_those_of_policies_md(name: str, caps: dict[str, int]) -> None:
    settings = load_profile(name).settings("over_cap")
    assert settings is not None
    assert dict(settings.caps) == caps  # type: ignore[attr-defined]


def test_national_law_is_marked_as_such() -> None:
    for name in PROGRAMMES:
        for settings in load_profile(name).rules.values():
            for c in settings.clauses:
                assert c.national == c.ref.startswith("《中华人民共和国"), (name, c.ref)


def test_shenyang_has_no_per_project_cap_and_says_why() -> None:
    profile = load_profile("shenyang-2023")
    assert profile.settings("over_cap") is None
    assert "未规定单项资金上限" in profile.rules_not_applicable["over_cap"]


def _plain(text: str) -> str:
    """Punctuation-insensitive form: the seeds are web text with half-width punctuation."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\W_]", "", text)


def _quotes(name: str) -> list[tuple[str, str]]:
    profile = load_profile(name)
    # national law (Clause.national) is quoted from the law, not the programme's document
    clauses = [
        (c.ref, c.text)
        for s in profile.rules.values()
        for c in [s.clause, *s.also]
        if not c.national
    ]
    return clauses + [(p.clause.ref, p.clause.text) for p in profile.provisions]


@pytest.mark.parametrize("name", PROGRAMMES)
def test_every_quote_is_in_the_seed_document(name: str) -> None:
    seed = _plain((SEEDS / load_profile(name).document.seed).read_text(encoding="utf-8"))
    for ref, text in _quotes(name):
        for fragment in text.split("……"):  # an elision joins two passages
            assert _plain(fragment) in seed, f"{ref}: “{fragment}” is not in the seed"


def test_the_copied_seeds_are_the_shared_ones() -> None:
    """fixtures/seeds is ../shared/seeds as the team keeps it (where a checkout has both)."""
    shared = sorted(SHARED_SEEDS.glob("*")) if SHARED_SEEDS.exists() else []
    for path in shared:
        assert (SEEDS / path.name).read_bytes() == path.read_bytes(), path.name
    assert len(list(SEEDS.glob("*.txt"))) == 5


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.toml"
    base = (profile_dir() / "luohu-2017.toml").read_text(encoding="utf-8")
    path.write_text(base.replace('name = "luohu-2017"', 'name = "custom"') + text, encoding="utf-8")
    return path


def test_a_custom_profile_file_is_a_new_district_without_code(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, ""))
    assert profile.name == "custom"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[rules.over_cap2]\ncaps = {}\n", "unknown rule"),
        ("\n[document2]\n", "document2"),
        ("\nthreshold = 3\n", "threshold"),
    ],
)
def test_unknown_keys_are_rejected(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_profile(_write(tmp_path, extra))


def test_a_typo_inside_a_rule_section_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    text = (profile_dir() / "longgang-2023.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("caps = {", "cap = {"), encoding="utf-8")
    with pytest.raises(PolicyError, match="over_cap"):
        load_profile(path)


def test_an_unknown_category_in_caps_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cat.toml"
    text = (profile_dir() / "longgang-2023.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('"货物类" = 500_000', '"咨询类" = 500_000'), encoding="utf-8")
    with pytest.raises(PolicyError):
        load_profile(path)


def test_unknown_profile_name_lists_the_available_ones() -> None:
    with pytest.raises(PolicyError, match="longgang-2023"):
        load_profile("futian-2099")
