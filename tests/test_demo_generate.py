"""The demo generator: determinism, file formats, identifiers, and that the truth is true.

The checker here is deliberately independent of the generator: it reads the files with pandas
and applies the source-format rules (check characters, dates, amounts, enums, regions, required
keys) with the shared helpers of ``riskgraph.identifiers`` and ``riskgraph.divisions``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from demo.generate import generate
from riskgraph.divisions import divisions
from riskgraph.identifiers import (
    is_masked_id,
    is_valid_citizen_id,
    is_valid_regno,
    is_valid_uscc,
)

CITY = "410500"
MISSING = {"", "-", "无", "/"}
USCC, PID, CODE, DATE, AMOUNT, REGION = "uscc", "pid", "code", "date", "amount", "region"

# table → {column: kind or tuple of allowed values}; required key columns in REQUIRED.
SPEC: dict[str, dict[str, object]] = {
    "企业基本信息": {
        "统一社会信用代码": USCC,
        "企业名称": None,
        "企业类型": None,
        "法定代表人": None,
        "法定代表人证件号码": PID,
        "注册资本": AMOUNT,
        "实缴资本": AMOUNT,
        "成立日期": DATE,
        "登记机关": None,
        "登记状态": ("存续", "在营", "开业", "注销", "吊销", "迁出", "撤销"),
        "住所": None,
        "经营范围": None,
        "行业代码": None,
        "联系电话": None,
    },
    "股东及出资信息": {
        "统一社会信用代码": USCC,
        "股东名称": None,
        "股东类型": ("自然人股东", "企业法人", "合伙企业", "其他"),
        "股东证照号码": CODE,
        "认缴出资额": AMOUNT,
        "出资比例": None,
        "实缴出资额": AMOUNT,
    },
    "主要人员": {"统一社会信用代码": USCC, "姓名": None, "证件号码": PID, "职务": None},
    "变更记录": {
        "统一社会信用代码": USCC,
        "变更事项": None,
        "变更前内容": None,
        "变更后内容": None,
        "变更日期": DATE,
    },
    "分支机构": {
        "统一社会信用代码": USCC,
        "分支机构统一社会信用代码": USCC,
        "分支机构名称": None,
        "登记机关": None,
    },
    "纳税人信息": {
        "纳税人识别号": USCC,
        "纳税人名称": None,
        "主管税务机关": None,
        "纳税人状态": ("正常", "非正常户", "注销"),
        "纳税信用等级": ("A", "B", "M", "C", "D"),
        "评价年度": None,
    },
    "申报汇总": {
        "纳税人识别号": USCC,
        "所属年度": None,
        "营业收入": AMOUNT,
        "应纳税额": AMOUNT,
        "已缴税额": AMOUNT,
        "欠税余额": AMOUNT,
        "零申报月数": None,
        "社保缴纳人数": None,
    },
    "信用名单": {
        "主体名称": None,
        "统一社会信用代码或证件号码": CODE,
        "名单类型": (
            "失信被执行人",
            "经营异常名录",
            "严重违法失信名单",
            "重大税收违法失信主体",
            "行政处罚",
        ),
        "列入日期": DATE,
        "列入原因": None,
        "决定机关": None,
        "移出日期": DATE,
    },
    "企业征信摘要": {
        "统一社会信用代码": USCC,
        "报告日期": DATE,
        "贷款余额": AMOUNT,
        "逾期金额": AMOUNT,
        "对外担保余额": AMOUNT,
        "担保代偿笔数": None,
        "近12月查询次数": None,
    },
    "案件信息": {
        "案号": None,
        "案由": None,
        "立案日期": DATE,
        "审理法院": None,
        "标的金额": AMOUNT,
        "案件状态": ("已立案", "审理中", "已结案", "终结本次执行"),
        "结案日期": DATE,
    },
    "当事人": {
        "案号": None,
        "当事人名称": None,
        "当事人类型": ("自然人", "法人", "非法人组织"),
        "证件号码": CODE,
        "诉讼地位": ("原告", "被告", "第三人", "申请执行人", "被执行人", "被告人"),
    },
    "涉案线索": {
        "线索编号": None,
        "线索名称": None,
        "涉嫌罪名": ("非法吸收公众存款", "集资诈骗", "组织、领导传销活动", "其他"),
        "受理日期": DATE,
        "立案日期": DATE,
        "状态": ("线索核查", "已立案", "侦查终结", "移送起诉", "撤案"),
        "涉案金额": AMOUNT,
        "集资参与人数": None,
        "涉及地区": REGION,
        "承办单位": None,
    },
    "涉案主体": {
        "线索编号": None,
        "主体名称": None,
        "主体类型": ("单位", "个人"),
        "证件号码": CODE,
        "涉案角色": ("嫌疑单位", "犯罪嫌疑人", "关联单位", "关联人员"),
    },
    "举报线索": {
        "举报编号": None,
        "举报日期": DATE,
        "举报渠道": None,
        "被举报对象": None,
        "被举报对象代码": USCC,
        "内容摘要": None,
        "涉及金额": AMOUNT,
        "核查状态": ("待核查", "核查中", "属实", "不属实"),
    },
    "账户异动": {
        "账户主体名称": None,
        "统一社会信用代码或证件号码": CODE,
        "开户行": None,
        "监测期起": DATE,
        "监测期止": DATE,
        "异动特征": ("分散转入集中转出", "定期批量小额转出", "快进快出", "其他"),
        "转入笔数": None,
        "转入对手数": None,
        "转入金额": AMOUNT,
        "转出笔数": None,
        "转出金额": AMOUNT,
    },
    "资金往来汇总": {
        "付款方名称": None,
        "付款方代码": CODE,
        "收款方名称": None,
        "收款方代码": CODE,
        "期间起": DATE,
        "期间止": DATE,
        "笔数": None,
        "金额": AMOUNT,
    },
    "广告监测": {
        "监测编号": None,
        "发布日期": DATE,
        "发布媒介": ("报刊", "户外", "网络", "传单", "短视频"),
        "广告主名称": None,
        "广告主代码": USCC,
        "广告内容": None,
        "发布地区": REGION,
    },
}
REQUIRED = {
    "企业基本信息": "统一社会信用代码",
    "股东及出资信息": "统一社会信用代码",
    "主要人员": "统一社会信用代码",
    "变更记录": "统一社会信用代码",
    "分支机构": "统一社会信用代码",
    "纳税人信息": "纳税人识别号",
    "申报汇总": "纳税人识别号",
    "企业征信摘要": "统一社会信用代码",
    "案件信息": "案号",
    "当事人": "案号",
    "涉案线索": "线索编号",
    "涉案主体": "线索编号",
    "举报线索": "举报编号",
    "广告监测": "监测编号",
    "信用名单": "统一社会信用代码或证件号码",
    "账户异动": "统一社会信用代码或证件号码",
}
NAME_RE = re.compile(r"^[^_]+_(?P<table>[^_]+)_(?P<date>\d{8})_(?P<kind>全量|增量)\.(csv|xlsx)$")


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_date(text: str) -> date | None:
    """None when the text is no valid date in any of the spec's forms."""
    for pattern in (
        r"^(\d{4})-(\d{1,2})-(\d{1,2})$",
        r"^(\d{4})/(\d{1,2})/(\d{1,2})$",
        r"^(\d{4})(\d{2})(\d{2})$",
        r"^(\d{4})年(\d{1,2})月(\d{1,2})日$",
    ):
        m = re.match(pattern, text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    if re.match(r"^\d{5}(\.0)?$", text):
        return date(1899, 12, 30) + timedelta(days=int(float(text)))
    return None


def is_amount(text: str) -> bool:
    m = re.match(r"^([0-9,]*\.?[0-9]+)(万元|万|亿元|亿|元)?(美元|港元|欧元|日元)?$", text)
    if not m:
        return False
    try:
        float(m[1].replace(",", ""))
    except ValueError:
        return False
    return True


def is_region(text: str) -> bool:
    reg = divisions()
    for part in re.split(r"[;；、]", text):
        part = part.strip()
        if re.fullmatch(r"\d{6}", part):
            if reg.get(part) is None:
                return False
        elif reg.parse_region(part, CITY) is None:
            return False
    return True


def cell_ok(kind: object, raw: str) -> bool:
    value = norm(raw)
    if value in MISSING:
        return True
    if isinstance(kind, tuple):
        return value in kind
    compact = "".join(value.split())
    if kind == USCC:
        return is_valid_uscc(compact) or is_valid_regno(compact)
    if kind == PID:
        return is_masked_id(compact) or is_valid_citizen_id(compact)
    if kind == CODE:
        return (
            is_masked_id(compact)
            or is_valid_citizen_id(compact)
            or is_valid_uscc(compact)
            or is_valid_regno(compact)
        )
    if kind == DATE:
        return parse_date(compact) is not None
    if kind == AMOUNT:
        return is_amount(compact)
    if kind == REGION:
        return is_region(value)
    return True


def read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "gb18030"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def tables_of(out: Path) -> list[tuple[str, str, str, str, pd.DataFrame]]:
    """(delivery, source, file name, table, frame) for every table of every file."""
    found = []
    for path in sorted((out / "inbox").glob("*/*/*")):
        delivery, source = path.parts[-3], path.parts[-2]
        if path.suffix == ".xlsx":
            for sheet, frame in pd.read_excel(
                path, sheet_name=None, dtype=str, keep_default_na=False
            ).items():
                found.append((delivery, source, path.name, str(sheet), frame))
        else:
            match = NAME_RE.match(path.name)
            assert match, path.name
            found.append((delivery, source, path.name, match["table"], read_csv(path)))
    return found


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, CITY, 0.1, 7)
    return out


@pytest.fixture(scope="module")
def frames(city: Path) -> list[tuple[str, str, str, str, pd.DataFrame]]:
    return tables_of(city)


@pytest.fixture(scope="module")
def invalid(city: Path) -> dict[tuple[str, int], str]:
    with (city / "truth" / "invalid_rows.csv").open(encoding="utf-8") as handle:
        return {(r["file"], int(r["row"])): r["rule"] for r in csv.DictReader(handle)}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        generate(tmp_path / name, CITY, 0.05, 11)
        files = sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())
        digests.append(
            {
                str(p.relative_to(tmp_path / name)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in files
            }
        )
    assert digests[0] == digests[1]
    assert any(k.endswith(".xlsx") for k in digests[0])


def test_files_follow_the_spec(
    city: Path, frames: list[tuple[str, str, str, str, pd.DataFrame]]
) -> None:
    deliveries = sorted(p.name for p in (city / "inbox").iterdir())
    assert deliveries == ["20261031", "20261115"]
    full_sources = {p.name for p in (city / "inbox" / "20261031").iterdir()}
    assert full_sources == {
        "registration",
        "tax",
        "credit",
        "court",
        "police",
        "tips",
        "bank",
        "ads",
    }
    for delivery, _source, name, table, frame in frames:
        assert table in SPEC, (name, table)
        assert set(frame.columns) == set(SPEC[table]), (name, table)
        match = NAME_RE.match(name)
        assert match and match["date"] == delivery
        assert match["kind"] == ("全量" if delivery == "20261031" else "增量")
    encodings = set()
    for path in (city / "inbox").rglob("*.csv"):
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            encodings.add("utf-8-sig")
            continue
        try:
            raw.decode("utf-8")
            encodings.add("utf-8")
        except UnicodeDecodeError:
            encodings.add("gb")
    assert encodings == {"utf-8", "utf-8-sig", "gb"}
    sheets = {(name, table) for _, _, name, table, _ in frames if name.endswith(".xlsx")}
    assert any(n.endswith("信用数据_20261031_全量.xlsx") and t == "企业征信摘要" for n, t in sheets)


def test_every_invalid_row_is_listed(
    frames: list[tuple[str, str, str, str, pd.DataFrame]], invalid: dict[tuple[str, int], str]
) -> None:
    flagged: dict[tuple[str, int], str] = {}
    for _, _, name, table, frame in frames:
        spec = SPEC[table]
        key = REQUIRED.get(table)
        for i, record in enumerate(frame.to_dict("records")):
            bad = [col for col, kind in spec.items() if not cell_ok(kind, str(record[col]))]
            if key and norm(str(record[key])) in MISSING:
                bad.append(key)
            if bad:
                flagged[(name, i + 2)] = ",".join(bad)
    assert set(flagged) == set(invalid), (
        sorted(set(flagged) - set(invalid))[:10],
        sorted(set(invalid) - set(flagged))[:10],
    )
    assert len(invalid) > 30
    assert {
        "uscc_check",
        "id_check",
        "date_invalid",
        "enum_unknown",
        "amount_invalid",
        "required_missing",
        "region_unknown",
    } <= set(invalid.values())


def test_identifiers_and_divisions(
    frames: list[tuple[str, str, str, str, pd.DataFrame]], invalid: dict[tuple[str, int], str]
) -> None:
    reg = divisions()
    allowed = {CITY} | {c.code for c in reg.counties(CITY)}
    for n in reg.neighbours(CITY):
        allowed |= {n.code} | {c.code for c in reg.counties(n.code)}
    seen_ids = seen_usccs = 0
    for _, _, name, table, frame in frames:
        for i, record in enumerate(frame.to_dict("records")):
            if (name, i + 2) in invalid:
                continue
            for col, kind in SPEC[table].items():
                value = "".join(norm(str(record[col])).split())
                if len(value) != 18 or kind not in (USCC, PID, CODE) or is_masked_id(value):
                    continue
                if kind == USCC:
                    assert is_valid_uscc(value), (name, i + 2, col, value)
                    if table == "企业基本信息":
                        assert value[2:8] in allowed, value
                elif kind == PID:
                    assert is_valid_citizen_id(value), (name, i + 2, col, value)
                else:
                    assert is_valid_citizen_id(value) != is_valid_uscc(value), (name, i + 2, value)
                seen_usccs += is_valid_uscc(value)
                seen_ids += is_valid_citizen_id(value)
    assert seen_ids > 1000 and seen_usccs > 1000


def test_duplicates_are_exact(
    city: Path, frames: list[tuple[str, str, str, str, pd.DataFrame]]
) -> None:
    sheets: dict[str, list[pd.DataFrame]] = {}
    for _, _, name, _, frame in frames:
        sheets.setdefault(name, []).append(frame)
    by_file = {name: found[0] for name, found in sheets.items() if len(found) == 1}
    with (city / "truth" / "duplicates.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        frame = by_file[row["file"]]
        copy, original = int(row["row"]) - 2, int(row["duplicate_of_row"]) - 2
        assert copy > original
        assert list(frame.iloc[copy]) == list(frame.iloc[original])


def test_truth_files(
    city: Path,
    frames: list[tuple[str, str, str, str, pd.DataFrame]],
    invalid: dict[tuple[str, int], str],
) -> None:
    truth = city / "truth"
    entities = pd.read_csv(truth / "entities.csv", dtype=str, keep_default_na=False)
    assert list(entities.columns) == [
        "uscc",
        "name",
        "county",
        "scheme_id",
        "role",
        "typology",
        "stage",
        "hard_negative",
    ]
    schemes = pd.read_csv(truth / "schemes.csv", dtype=str, keep_default_na=False)
    assert list(schemes.columns) == [
        "scheme_id",
        "typology",
        "stage",
        "core_uscc",
        "counties",
        "cities",
        "cross_region",
        "lead_region",
    ]
    assert len(schemes) == 5
    assert set(entities["role"]) == {"core", "periphery", "none"}
    assert set(entities.loc[entities.role == "core", "uscc"]) == set(schemes["core_uscc"])
    assert set(entities["hard_negative"]) == {"true", "false"}
    assert (entities.loc[entities.scheme_id != "", "hard_negative"] == "false").all()
    counts = json.loads((truth / "expected_counts.json").read_text(encoding="utf-8"))
    nodes = counts["nodes"]
    assert nodes["Enterprise"] == len(entities)
    keys: dict[str, set[str]] = {"Enterprise": set(), "CourtCase": set(), "Tip": set(), "Ad": set()}
    columns = {
        "企业基本信息": ("Enterprise", "统一社会信用代码"),
        "案件信息": ("CourtCase", "案号"),
        "举报线索": ("Tip", "举报编号"),
        "广告监测": ("Ad", "监测编号"),
    }
    for _, _, name, table, frame in frames:
        if table not in columns:
            continue
        label, col = columns[table]
        for i, value in enumerate(frame[col]):
            if (name, i + 2) not in invalid:
                key = "".join(norm(str(value)).split())
                keys[label].add(key if len(key) != 15 else "REG:" + key)
    for label, found in keys.items():
        assert nodes[label] == len(found), label
    inbox_members = entities[entities.scheme_id != ""]
    assert 0.003 < len(inbox_members) / len(entities) < 0.03
