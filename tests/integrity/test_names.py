import pytest

from integrity.identity.names import (
    org_name,
    org_name_written,
    org_names,
    person_name,
    person_name_written,
    person_names,
    pinyin_key,
    split_surname,
)


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("張偉", "张伟"),
        ("张 伟", "张伟"),
        (" 李娜\u3000", "李娜"),
        ("劉建國", "刘建国"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("ＷＡＮＧ芳", "WANG芳"),
    ],
)
def test_person_names(written: str, normal: str) -> None:
    assert person_name(written) == normal


@pytest.mark.parametrize(
    ("name", "surname"),
    [
        ("欧阳子萱", "欧阳"),
        ("司马光", "司马"),
        ("诸葛亮", "诸葛"),
        ("上官婉儿", "上官"),
        ("王伟", "王"),
        ("欧阳", "欧"),
    ],
)
def test_compound_surnames(name: str, surname: str) -> None:
    assert split_surname(name)[0] == surname


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("曾明", "zeng ming"),
        ("单伟", "shan wei"),
        ("解放", "xie fang"),
        ("朴志勇", "piao zhi yong"),
        ("区国华", "ou guo hua"),
        ("张伟", "zhang wei"),
        ("张炜", "zhang wei"),
        ("欧阳子萱", "ou yang zi xuan"),
    ],
)
def test_pinyin_keys_with_surname_readings(name: str, key: str) -> None:
    assert pinyin_key(name) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市龙岗区阳光社会工作服务中心", "阳光社工服务中心（深圳）"),
        ("深圳市恒信市政工程有限责任公司", "恒信市政工程（深圳）有限公司"),
        ("深圳市恒信市政工程有限公司", "深圳恒信市政工程有限公司"),
        ("深圳市恒信市政工程股份有限公司", "恒信市政工程有限公司"),
    ],
)
def test_organisation_variants_meet(a: str, b: str) -> None:
    assert org_name(a) == org_name(b)


def test_different_organisations_stay_apart() -> None:
    assert org_name("深圳市恒信市政工程有限公司") != org_name("深圳市恒信装饰工程有限公司")


def test_many_names_at_once_are_each_name_alone() -> None:
    # one OpenCC call for a batch: the same result as name by name, phrases included
    names = [
        "張偉",
        "张 伟",
        "頭髮",
        "發展",
        "於明",
        "皇后",
        "后来",
        "瀋陽",
        "鍾離春",
        "麵包",
        "",
        "乾",
    ]
    written, comparable = person_names(names)
    assert written == [person_name_written(n) for n in names]
    assert comparable == [person_name(n) for n in names]
    assert person_names([]) == ([], [])


def test_org_names_in_one_call_are_each_names_forms() -> None:
    names = [
        "深圳市龙岗区阳光社会工作服务中心",
        "阳光社工服务中心（深圳）",
        "深圳市恒信市政工程有限责任公司",
        "深圳市 龍崗區 華聯物業管理有限公司",
        "（深圳）某某科技股份有限公司",
        "",
    ]
    written, cores = org_names(names)
    assert written == [org_name_written(n) for n in names]
    assert cores == [org_name(n) for n in names]
    assert cores[0] == cores[1] and written[0] != written[1]
