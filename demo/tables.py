"""The source tables of ``shared/spec/source-formats.md``: columns, value kinds, enums, and the
contract rules an invalid row of each table may break (rule ids of docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    """A column: Chinese header, value kind (drives rendering and checks), allowed values."""

    name: str
    kind: str
    enum: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Table:
    """A source table and the (column, rule) pairs its invalid rows are made from."""

    source: str
    name: str
    cols: tuple[Col, ...]
    rules: tuple[tuple[str, str], ...]
    unknown: tuple[str, ...] = ()

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)


REG_STATUS = ("存续", "在营", "开业", "注销", "吊销", "迁出", "撤销")
HOLDER_TYPES = ("自然人股东", "企业法人", "合伙企业", "其他")
TAX_STATUS = ("正常", "非正常户", "注销")
TAX_GRADES = ("A", "B", "M", "C", "D")
LIST_TYPES = (
    "失信被执行人",
    "经营异常名录",
    "严重违法失信名单",
    "重大税收违法失信主体",
    "行政处罚",
)
CASE_STATUS = ("已立案", "审理中", "已结案", "终结本次执行")
PARTY_TYPES = ("自然人", "法人", "非法人组织")
PARTY_ROLES = ("原告", "被告", "第三人", "申请执行人", "被执行人", "被告人")
CRIMES = ("非法吸收公众存款", "集资诈骗", "组织、领导传销活动", "其他")
CLUE_STATUS = ("线索核查", "已立案", "侦查终结", "移送起诉", "撤案")
SUBJECT_TYPES = ("单位", "个人")
SUBJECT_ROLES = ("嫌疑单位", "犯罪嫌疑人", "关联单位", "关联人员")
TIP_STATUS = ("待核查", "核查中", "属实", "不属实")
ALERT_KINDS = ("分散转入集中转出", "定期批量小额转出", "快进快出", "其他")
AD_MEDIA = ("报刊", "户外", "网络", "传单", "短视频")

_U = "uscc"
ENTERPRISE = Table(
    "registration",
    "企业基本信息",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("企业名称", "name"),
        Col("企业类型", "text"),
        Col("法定代表人", "name"),
        Col("法定代表人证件号码", "pid"),
        Col("注册资本", "capital"),
        Col("实缴资本", "wan"),
        Col("成立日期", "date"),
        Col("登记机关", "text"),
        Col("登记状态", "enum", REG_STATUS),
        Col("住所", "address"),
        Col("经营范围", "longtext"),
        Col("行业代码", "text"),
        Col("联系电话", "phone"),
    ),
    (
        ("统一社会信用代码", "uscc_check"),
        ("法定代表人证件号码", "id_check"),
        ("成立日期", "date_invalid"),
        ("注册资本", "amount_invalid"),
        ("登记状态", "enum_unknown"),
        ("统一社会信用代码", "required_missing"),
    ),
    ("状态不明", "待迁入", "正常营业"),
)
SHAREHOLDERS = Table(
    "registration",
    "股东及出资信息",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("股东名称", "name"),
        Col("股东类型", "enum", HOLDER_TYPES),
        Col("股东证照号码", "code"),
        Col("认缴出资额", "wan"),
        Col("出资比例", "ratio"),
        Col("实缴出资额", "wan"),
    ),
    (("股东证照号码", "id_check"), ("认缴出资额", "amount_invalid"), ("股东类型", "enum_unknown")),
    ("自然人", "法人股东", "个人"),
)
OFFICERS = Table(
    "registration",
    "主要人员",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("姓名", "name"),
        Col("证件号码", "pid"),
        Col("职务", "text"),
    ),
    (
        ("证件号码", "id_check"),
        ("统一社会信用代码", "uscc_check"),
        ("统一社会信用代码", "required_missing"),
    ),
)
CHANGES = Table(
    "registration",
    "变更记录",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("变更事项", "text"),
        Col("变更前内容", "longtext"),
        Col("变更后内容", "longtext"),
        Col("变更日期", "date"),
    ),
    (("变更日期", "date_invalid"), ("统一社会信用代码", "uscc_check")),
)
BRANCHES = Table(
    "registration",
    "分支机构",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("分支机构统一社会信用代码", _U),
        Col("分支机构名称", "name"),
        Col("登记机关", "text"),
    ),
    (("分支机构统一社会信用代码", "uscc_check"),),
)
TAXPAYERS = Table(
    "tax",
    "纳税人信息",
    (
        Col("纳税人识别号", _U, required=True),
        Col("纳税人名称", "name"),
        Col("主管税务机关", "text"),
        Col("纳税人状态", "enum", TAX_STATUS),
        Col("纳税信用等级", "enum", TAX_GRADES),
        Col("评价年度", "year"),
    ),
    (
        ("纳税人识别号", "uscc_check"),
        ("纳税信用等级", "enum_unknown"),
        ("纳税人识别号", "required_missing"),
    ),
    ("E", "AA", "未评"),
)
TAX_RETURNS = Table(
    "tax",
    "申报汇总",
    (
        Col("纳税人识别号", _U, required=True),
        Col("所属年度", "year"),
        Col("营业收入", "yuan"),
        Col("应纳税额", "yuan"),
        Col("已缴税额", "yuan"),
        Col("欠税余额", "yuan"),
        Col("零申报月数", "int"),
        Col("社保缴纳人数", "int"),
    ),
    (
        ("营业收入", "amount_invalid"),
        ("应纳税额", "amount_invalid"),
        ("纳税人识别号", "uscc_check"),
    ),
)
LISTINGS = Table(
    "credit",
    "信用名单",
    (
        Col("主体名称", "name"),
        Col("统一社会信用代码或证件号码", "code", required=True),
        Col("名单类型", "enum", LIST_TYPES),
        Col("列入日期", "date"),
        Col("列入原因", "longtext"),
        Col("决定机关", "text"),
        Col("移出日期", "date"),
    ),
    (("列入日期", "date_invalid"), ("名单类型", "enum_unknown")),
    ("黑名单", "重点关注名单"),
)
REPORTS = Table(
    "credit",
    "企业征信摘要",
    (
        Col("统一社会信用代码", _U, required=True),
        Col("报告日期", "date"),
        Col("贷款余额", "wan"),
        Col("逾期金额", "wan"),
        Col("对外担保余额", "wan"),
        Col("担保代偿笔数", "int"),
        Col("近12月查询次数", "int"),
    ),
    (
        ("报告日期", "date_invalid"),
        ("贷款余额", "amount_invalid"),
        ("统一社会信用代码", "uscc_check"),
    ),
)
CASES = Table(
    "court",
    "案件信息",
    (
        Col("案号", "caseno", required=True),
        Col("案由", "text"),
        Col("立案日期", "date"),
        Col("审理法院", "text"),
        Col("标的金额", "yuan"),
        Col("案件状态", "enum", CASE_STATUS),
        Col("结案日期", "date"),
    ),
    (
        ("立案日期", "date_invalid"),
        ("案件状态", "enum_unknown"),
        ("标的金额", "amount_invalid"),
        ("案号", "required_missing"),
    ),
    ("已归档", "待审"),
)
PARTIES = Table(
    "court",
    "当事人",
    (
        Col("案号", "caseno", required=True),
        Col("当事人名称", "name"),
        Col("当事人类型", "enum", PARTY_TYPES),
        Col("证件号码", "code"),
        Col("诉讼地位", "enum", PARTY_ROLES),
    ),
    (("证件号码", "id_check"), ("诉讼地位", "enum_unknown")),
    ("旁听人", "代理人"),
)
CLUES = Table(
    "police",
    "涉案线索",
    (
        Col("线索编号", "key", required=True),
        Col("线索名称", "text"),
        Col("涉嫌罪名", "enum", CRIMES),
        Col("受理日期", "date"),
        Col("立案日期", "date"),
        Col("状态", "enum", CLUE_STATUS),
        Col("涉案金额", "wan"),
        Col("集资参与人数", "int"),
        Col("涉及地区", "region"),
        Col("承办单位", "text"),
    ),
    (("涉及地区", "region_unknown"), ("涉及地区", "region_unknown"), ("受理日期", "date_invalid"),
     ("状态", "enum_unknown")),
    ("待定", "挂起"),
)
SUBJECTS = Table(
    "police",
    "涉案主体",
    (
        Col("线索编号", "key", required=True),
        Col("主体名称", "name"),
        Col("主体类型", "enum", SUBJECT_TYPES),
        Col("证件号码", "code"),
        Col("涉案角色", "enum", SUBJECT_ROLES),
    ),
    (("证件号码", "id_check"), ("涉案角色", "enum_unknown")),
    ("证人", "其他人员"),
)
TIPS = Table(
    "tips",
    "举报线索",
    (
        Col("举报编号", "key", required=True),
        Col("举报日期", "date"),
        Col("举报渠道", "text"),
        Col("被举报对象", "name"),
        Col("被举报对象代码", _U),
        Col("内容摘要", "longtext"),
        Col("涉及金额", "wan"),
        Col("核查状态", "enum", TIP_STATUS),
    ),
    (("举报日期", "date_invalid"), ("核查状态", "enum_unknown"), ("举报编号", "required_missing")),
    ("已转办", "待处理"),
)
ALERTS = Table(
    "bank",
    "账户异动",
    (
        Col("账户主体名称", "name"),
        Col("统一社会信用代码或证件号码", "code", required=True),
        Col("开户行", "text"),
        Col("监测期起", "date"),
        Col("监测期止", "date"),
        Col("异动特征", "enum", ALERT_KINDS),
        Col("转入笔数", "int"),
        Col("转入对手数", "int"),
        Col("转入金额", "yuan"),
        Col("转出笔数", "int"),
        Col("转出金额", "yuan"),
    ),
    (("监测期起", "date_invalid"), ("转入金额", "amount_invalid"), ("异动特征", "enum_unknown")),
    ("异常交易", "大额"),
)
FLOWS = Table(
    "bank",
    "资金往来汇总",
    (
        Col("付款方名称", "name"),
        Col("付款方代码", "code"),
        Col("收款方名称", "name"),
        Col("收款方代码", "code"),
        Col("期间起", "date"),
        Col("期间止", "date"),
        Col("笔数", "int"),
        Col("金额", "yuan"),
    ),
    (("付款方代码", "id_check"), ("金额", "amount_invalid"), ("期间起", "date_invalid")),
)
ADS = Table(
    "ads",
    "广告监测",
    (
        Col("监测编号", "key", required=True),
        Col("发布日期", "date"),
        Col("发布媒介", "enum", AD_MEDIA),
        Col("广告主名称", "name"),
        Col("广告主代码", _U),
        Col("广告内容", "longtext"),
        Col("发布地区", "region"),
    ),
    (("发布地区", "region_unknown"), ("发布地区", "region_unknown"), ("发布日期", "date_invalid"),
     ("发布媒介", "enum_unknown")),
    ("电视", "广播"),
)

ALL_TABLES = (
    ENTERPRISE,
    SHAREHOLDERS,
    OFFICERS,
    CHANGES,
    BRANCHES,
    TAXPAYERS,
    TAX_RETURNS,
    LISTINGS,
    REPORTS,
    CASES,
    PARTIES,
    CLUES,
    SUBJECTS,
    TIPS,
    ALERTS,
    FLOWS,
    ADS,
)
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
