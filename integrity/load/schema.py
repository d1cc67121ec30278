"""The input tables of data-contract.md: names, Chinese aliases, required columns, kinds.

This module is the contract in code. Extend it (new optional columns, new aliases, new tables);
never rename a column, since users' files carry these headers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "text",  # free text, surrounding whitespace stripped
    "name",  # a person's or organisation's name, kept as written (normalised later)
    "id_number",  # resident ID number (18 or legacy 15 digits)
    "uscc",  # unified social credit code
    "date",
    "amount",  # yuan; a 万元 header scales it
    "count",  # non-negative integer
    "percent",  # 0-100 or "35%"
    "bool",  # 是/否, true/false, 1/0
    "category",  # 工程类 / 服务类 / 货物类
    "gender",  # 男 / 女
    "phone",
    "kin_term",  # a kin term of data-contract.md "Kin terms"; unknown is an error
    "star",  # a community's star level (沈阳): 五星 / 四星 / 三星, 5 / 4 / 3, ★★★★★
]


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    kind: Kind = "text"
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    zh_names: tuple[str, ...]  # the Chinese table name first, then accepted variants
    columns: tuple[Column, ...]
    # groups of columns of which at least one must be present and filled ("yes (or name)")
    one_of: tuple[tuple[str, ...], ...] = ()
    unique: tuple[str, ...] = ()
    extra_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def zh_name(self) -> str:
        return self.zh_names[0]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name: str, *aliases: str, kind: Kind = "text", required: bool = False) -> Column:  # noqa: N802 - a table-literal helper reads best short
    return Column(name, aliases, kind, required)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "staff",
            ("公职人员",),
            (
                C("staff_id", "人员编号", "工号", required=True),
                C("name", "姓名", kind="name", required=True),
                C(
                    "id_number",
                    "身份证号",
                    "公民身份号码",
                    "身份证号码",
                    "身份证",
                    "证件号码",
                    kind="id_number",
                ),
                C("birth_date", "出生日期", kind="date"),
                C("gender", "性别", kind="gender"),
                C("organisation", "单位", "工作单位"),
                C("position", "职务"),
                C("street", "街道", "所属街道", "所在街道"),
                C("community", "社区", "所属社区", "所在社区"),
                C("phone", "电话", "手机", "手机号", "联系电话", kind="phone"),
            ),
            unique=("staff_id",),
        ),
        Table(
            "relatives",
            ("亲属申报", "亲属申报表"),
            (
                C("staff_id", "人员编号", "工号", required=True),
                C("relative_name", "亲属姓名", kind="name", required=True),
                C(
                    "relation",
                    "关系",
                    "称谓",
                    "与本人关系",
                    "亲属关系",
                    kind="kin_term",
                    required=True,
                ),
                C("relative_id_number", "亲属身份证号", "亲属身份证号码", kind="id_number"),
                C("relative_phone", "亲属电话", "亲属联系电话", kind="phone"),
            ),
        ),
        Table(
            "family_links",
            ("户籍/婚姻登记关系", "户籍婚姻登记关系", "户籍关系", "婚姻登记关系", "亲属关系"),
            (
                C("person_name", "姓名", kind="name", required=True),
                C("person_id_number", "身份证号", kind="id_number"),
                C("relative_name", "亲属姓名", kind="name", required=True),
                C("relative_id_number", "亲属身份证号", kind="id_number"),
                C("relation", "关系", "称谓", kind="kin_term", required=True),
                C("source", "来源"),
            ),
        ),
        Table(
            "suppliers",
            ("供应商/企业登记信息", "供应商", "企业登记信息", "供应商企业登记信息"),
            (
                C(
                    "supplier_name",
                    "单位名称",
                    "企业名称",
                    "供应商名称",
                    kind="name",
                    required=True,
                ),
                C("uscc", "统一社会信用代码", "社会信用代码", "统一信用代码", kind="uscc"),
                C("legal_rep_name", "法定代表人", "法人代表", "法定代表人姓名", kind="name"),
                C(
                    "legal_rep_id_number",
                    "法定代表人身份证号",
                    "法定代表人身份证号码",
                    "法人代表身份证号",
                    kind="id_number",
                ),
                C("responsible_person", "负责人", kind="name"),
                C("phone", "联系电话", "电话", kind="phone"),
                C("address", "地址", "注册地址"),
                C("email", "邮箱", "电子邮箱"),
            ),
        ),
        Table(
            "supplier_people",
            ("企业关联人员",),
            (
                C("supplier_name", "单位名称", "企业名称", kind="name"),
                C("uscc", "统一社会信用代码", kind="uscc"),
                C("name", "姓名", kind="name", required=True),
                C("id_number", "身份证号", "身份证号码", "证件号码", kind="id_number"),
                C("role", "职务", "角色", "任职", required=True),
                C("share_ratio", "持股比例", "出资比例", kind="percent"),
            ),
            one_of=(("supplier_name", "uscc"),),
        ),
        Table(
            "catalogue",
            ("服务类项目库/优质项目库", "服务类项目库", "优质项目库", "项目库"),
            (
                C("level", "层级"),
                # extension: the entry's number, which a project's 项目库编号 names
                C("item_id", "项目库编号", "入库编号"),
                C("item_name", "项目名称", required=True),
                C("supplier_name", "承接单位", kind="name", required=True),
                C("uscc", "统一社会信用代码", kind="uscc"),
                C("valid_from", "入库日期", kind="date"),
                C("valid_to", "出库日期", kind="date"),
            ),
        ),
        Table(
            "projects",
            ("项目台账",),
            (
                C("project_id", "项目编号", required=True),
                C("name", "项目名称", required=True),
                C("category", "项目类别", "类别", "项目类型", kind="category", required=True),
                C(
                    "amount",
                    "金额",
                    "项目金额",
                    "合同金额",
                    "中标金额",
                    "成交金额",
                    kind="amount",
                    required=True,
                ),
                # extension: the government-funded part where a programme lets the excess
                # over the cap be self-funded (海沧 三（三）)
                C("funded_amount", "财政资金", "财政资金金额", kind="amount"),
                C("street", "街道"),
                C("community", "社区"),
                C("nominator_count", "点选人数", kind="count"),
                C("approved_date", "审定日期", kind="date"),
                C("award_date", "签约日期", "合同日期", "合同签订日期", kind="date"),
                C("acceptance_date", "验收日期", kind="date"),
                C("supplier_name", "承接单位", "供应商", "中标单位", "成交供应商", kind="name"),
                C("uscc", "统一社会信用代码", "社会信用代码", kind="uscc"),
                # extension: a declared 拆开申报、合并实施 package (罗湖), same value = one package
                C("declared_package", "合并实施批次", "拆分申报批次"),
                # data-contract.md "Programme columns and tables": what the programme-level
                # provisions read (a provision whose columns are absent is reported not checked)
                C("proposal_date", "征集日期", "申报日期", kind="date"),
                C("screening_date", "筛选日期", "初步筛选日期", kind="date"),
                C("council_date", "议事日期", "联席会议日期", kind="date"),
                C("publicity_start", "公示开始日期", kind="date"),
                C("publicity_end", "公示结束日期", kind="date"),
                C("review_date", "联合评审日期", "评审日期", kind="date"),
                C("decision_publicity_start", "审定公示开始日期", kind="date"),
                C("decision_publicity_end", "审定公示结束日期", kind="date"),
                C("filing_date", "备案日期", kind="date"),
                C("start_date", "开工日期", "开始服务日期", kind="date"),
                C("completion_date", "完工日期", kind="date"),
                C("self_funded", "自筹资金", kind="amount"),
                C("social_funds", "社会资金", "社会捐赠", kind="amount"),
                C("overhead_amount", "管理费", "间接费用", kind="amount"),
                C("catalogue_item", "项目库编号", kind="text"),
                C("households_consulted", "征求意见户数", kind="count"),
                C("objections", "异议户数", kind="count"),
                C("remarks", "备注", "说明"),
            ),
            unique=("project_id",),
        ),
        Table(
            "quotes",
            ("询价/比价记录", "询价比价记录", "询价记录", "比价记录"),
            (
                C("project_id", "项目编号", required=True),
                C("supplier_name", "报价单位", kind="name", required=True),
                C("uscc", "统一社会信用代码", kind="uscc"),
                C("amount", "报价金额", "报价", kind="amount"),
                C("selected", "是否中选", "是否中标", "是否成交", kind="bool"),
            ),
        ),
        Table(
            "participants",
            ("经办与评审人员",),
            (
                C("project_id", "项目编号", required=True),
                C("staff_id", "人员编号", "工号"),
                C("name", "姓名", kind="name"),
                C("role", "角色", "环节", required=True),
                C("recused", "是否回避", kind="bool"),
            ),
            one_of=(("staff_id", "name"),),
        ),
        Table(
            "communities",
            ("社区", "社区信息", "社区基本情况"),
            (
                C("street", "街道", required=True),
                C("community", "社区", required=True),
                C("year", "年度", kind="count"),
                C("households", "户数", "常住户数", "居民户数", kind="count"),
                C("star_level", "星级", kind="star"),
                C("quota", "配额", "年度资金", "资金配额", kind="amount"),
            ),
        ),
        Table(
            "street_quotas",
            ("街道配额", "街道资金配额"),
            (
                C("street", "街道", required=True),
                C("year", "年度", kind="count"),
                C("quota", "总配额", "配额", kind="amount", required=True),
            ),
        ),
    )
}

_UNIT_SUFFIX = re.compile(r"^(?P<base>.*?)[(（](?P<unit>万元|元)[)）]$")


def normalise_header(header: object) -> str:
    """A header as compared with the aliases: NFKC, no whitespace, lower case."""
    text = unicodedata.normalize("NFKC", str(header))
    return re.sub(r"\s+", "", text).lower()


def split_unit(header: str) -> tuple[str, float]:
    """``金额(万元)`` -> (``金额``, 10000); ``项目金额(元)`` -> (``项目金额``, 1)."""
    m = _UNIT_SUFFIX.match(header)
    if not m:
        return header, 1.0
    return m.group("base"), 10_000.0 if m.group("unit") == "万元" else 1.0


def table_for_name(name: str) -> Table | None:
    """The table a file stem or sheet name stands for (English or Chinese name)."""
    key = normalise_header(name)
    for table in TABLES.values():
        if key == table.name or key in {normalise_header(z) for z in table.zh_names}:
            return table
    return None


CATEGORY_CANONICAL: dict[str, str] = {
    "工程类": "工程类",
    "工程": "工程类",
    "服务类": "服务类",
    "服务": "服务类",
    "货物类": "货物类",
    "货物": "货物类",
    "实物类": "货物类",
    "实物": "货物类",
}


def canonical_category(value: object) -> str | None:
    """The contract's category (工程类 / 服务类 / 货物类) for a ledger's spelling of it
    (工程, 服务, 实物类, full-width or spaced forms); None when it names none. The loader and
    the pre-award check both read categories through this."""
    if not isinstance(value, str):
        return None
    return CATEGORY_CANONICAL.get(re.sub(r"\s", "", unicodedata.normalize("NFKC", value)))


# role words of supplier_people and participants, with the variants seen in real ledgers
SUPPLIER_ROLES: dict[str, str] = {
    "法定代表人": "法定代表人",
    "法人": "法定代表人",
    "法人代表": "法定代表人",
    "执行事务合伙人": "法定代表人",
    "负责人": "负责人",
    "股东": "股东",
    "董事": "董事",
    "董事长": "董事",
    "执行董事": "董事",
    "副董事长": "董事",
    "监事": "监事",
    "监事会主席": "监事",
    "经理": "经理",
    "总经理": "经理",
    "副经理": "经理",
    "财务负责人": "财务负责人",
    "联系人": "联系人",
}

PARTICIPANT_ROLES: dict[str, str] = {
    r: r for r in ("点选", "筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")
} | {"经办": "采购经办", "点选人": "点选", "评审专家": "评审", "验收人": "验收"}
