"""The relationship graph: paths that combine a declaration with registry links, as sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.build import PERSON, RelationshipGraph, build_graph, node, shared_contacts
from integrity.identity.keys import with_identity_keys
from integrity.load.dataset import load_dataset
from tests.conftest import FIXTURES, WriteCsv

ZHANG, LI4, LI5, LI_FATHER = (
    "440307198005050015",
    "440307198206060025",
    "44030719780707003X",
    "440307195008080048",
)


def graph_of(root: Path) -> tuple[RelationshipGraph, dict[str, str]]:
    tables = with_identity_keys(load_dataset(root))
    staff = {
        r["staff_id"]: node(PERSON, r["person_key"]) for r in tables["staff"].to_dict("records")
    }
    return build_graph(tables), staff


def sentences(g: RelationshipGraph, person: str) -> dict[str, str]:
    out = {}
    for kp, org, data in g.kin_organisations(person):
        last = kp.hops[-1].dst if kp else person
        out[g.sentence(person, kp.hops if kp else (), g.role_hop(last, org, data))] = (
            kp.category if kp else "本人"
        )
    return out


@pytest.fixture
def declared_plus_registry(write_csv: WriteCsv) -> Path:
    write_csv(
        "staff.csv", ["人员编号", "姓名", "身份证号", "街道"], [["S1", "张三", ZHANG, "龙城街道"]]
    )
    write_csv(
        "relatives.csv",
        ["人员编号", "亲属姓名", "关系", "亲属身份证号"],
        [["S1", "李四", "妻子", LI4]],
    )
    # the registry knows the wife's family from her father's household
    write_csv(
        "family_links.csv",
        ["姓名", "身份证号", "亲属姓名", "亲属身份证号", "关系", "来源"],
        [
            ["李父", LI_FATHER, "李四", LI4, "女儿", "户籍"],
            ["李父", LI_FATHER, "李五", LI5, "儿子", "户籍"],
            ["李四", LI4, "李五", LI5, "哥哥", "户籍"],
        ],
    )
    return write_csv(
        "suppliers.csv",
        ["单位名称", "统一社会信用代码", "法定代表人", "法定代表人身份证号"],
        [["深圳市某某物业管理有限公司", "", "李五", LI5]],
    )


def test_declaration_then_registry_link_then_role(declared_plus_registry: Path) -> None:
    g, staff = graph_of(declared_plus_registry)
    said = sentences(g, staff["S1"])
    assert said == {
        "张三 —妻子→ 李四 —哥哥→ 李五 —法定代表人→ 深圳市某某物业管理有限公司": "近姻亲"
    }


def test_every_hop_names_its_source_row(declared_plus_registry: Path) -> None:
    g, staff = graph_of(declared_plus_registry)
    (kp,) = [kp for kp, _, _ in g.kin_organisations(staff["S1"]) if kp]
    assert [(h.source["file"], h.source["row"]) for h in kp.hops] == [
        ("relatives.csv", 2),
        ("family_links.csv", 4),
    ]
    assert kp.classification.detail == "配偶的兄弟姐妹"


def test_kin_path_between_two_people_and_the_inverse_reading(declared_plus_registry: Path) -> None:
    g, staff = graph_of(declared_plus_registry)
    li5 = node(PERSON, f"id:{LI5}")
    kp = g.kin_path(staff["S1"], li5)
    assert kp is not None and kp.category == "近姻亲" and len(kp.hops) == 2
    back = g.kin_path(li5, staff["S1"])
    assert back is not None and back.category == "近姻亲"  # the sister's husband
    assert back.classification.code in ("ls,h", "xs,h")


def test_avoidance_case_paths() -> None:
    g, staff = graph_of(FIXTURES / "cases" / "avoidance")
    assert "陈志强 —妻子→ 林晓燕 —法定代表人→ 深圳市晓燕建筑工程有限公司" in sentences(
        g, staff["S1"]
    )
    assert sentences(g, staff["S4"]) == {"周杰 —股东→ 深圳市众诚市政工程有限公司": "本人"}
    # the declared brother and the legal representative share a name, not an ID number
    assert sentences(g, staff["S5"]) == {}


def test_registry_only_relative_is_found() -> None:
    g, staff = graph_of(FIXTURES / "cases" / "undeclared_relation")
    assert sentences(g, staff["U1"]) == {
        "李志明 —哥哥→ 李志刚 —法定代表人→ 深圳市志刚建筑工程有限公司": "三代以内旁系血亲"
    }


def test_shared_contacts_meet_at_one_node() -> None:
    g, _ = graph_of(FIXTURES / "cases" / "collusive_quotes")
    shared = {c: [g.name(h) for h in holders] for c, holders in shared_contacts(g)}
    assert shared["contact:phone:13900000002"] == [
        "深圳市乙文化传播有限公司",
        "深圳市丙文化传播有限公司",
    ]
    address = "contact:address:深圳市龙岗区布澜路5号天安数码城D栋1508室"
    assert sorted(shared[address]) == ["深圳市丁家政服务有限公司", "深圳市戊家政服务有限公司"]
    assert not any("E栋" in c for c in shared)  # same building, different rooms: not shared
    quotes = [
        (g.name(s), d["amount"])
        for s, _, d in g.g.in_edges("project:Q1", data=True)
        if d["kind"] == "quote"
    ]
    assert len(quotes) == 3


def test_an_official_without_an_id_is_matched_by_name_and_birth_date(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", ["人员编号", "姓名", "出生日期"], [["S1", "张三", "1980-05-05"]])
    write_csv(
        "family_links.csv",
        ["姓名", "身份证号", "亲属姓名", "亲属身份证号", "关系"],
        [["张三", ZHANG, "李四", LI4, "妻子"]],
    )
    root = write_csv(
        "suppliers.csv",
        ["单位名称", "法定代表人", "法定代表人身份证号"],
        [["深圳市某某物业管理有限公司", "李四", LI4]],
    )
    g, staff = graph_of(root)
    assert staff["S1"] == node(PERSON, f"id:{ZHANG}")
    assert sentences(g, staff["S1"]) == {
        "张三 —妻子→ 李四 —法定代表人→ 深圳市某某物业管理有限公司": "配偶"
    }
