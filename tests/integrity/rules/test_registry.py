from integrity.policy import RuleSettings, available_profiles, load_profile
from integrity.rules import REGISTRY


def test_every_rule_has_a_user_facing_docstring() -> None:
    for code, rule in REGISTRY.items():
        assert len(rule.doc) > 40, f"{code} has no docstring users can read"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.doc), f"{code}: explain it in Chinese"


def test_every_rule_has_typed_settings_and_a_title() -> None:
    for code, rule in REGISTRY.items():
        assert issubclass(rule.settings_model, RuleSettings), code
        assert rule.title and rule.needs, code


def test_every_profile_says_for_every_rule_whether_it_applies() -> None:
    for name in available_profiles():
        profile = load_profile(name)
        for code in REGISTRY:
            assert code in profile.rules or code in profile.rules_not_applicable, (name, code)
