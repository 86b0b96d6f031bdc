"""Small handmade ingest fixtures: valid codes computed with the check-character algorithms."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from riskgraph.identifiers import id_check_char, regno_check_digit, uscc_check_char

HOSTILE = "'}) MATCH (n) DETACH DELETE n //"
SCRIPT = "<script>alert(1)</script>"


def uscc(county: str = "410502", serial: int = 1) -> str:
    """A valid USCC registered in ``county``."""
    first17 = "91" + county + f"{serial:08d}"[-8:] + "M"
    first17 = first17[:17]
    return first17 + uscc_check_char(first17)


def bad_uscc(code: str) -> str:
    last = "0" if code[-1] != "0" else "1"
    return code[:-1] + last


def citizen_id(prefix: str = "410502", birth: str = "19800101", serial: int = 123) -> str:
    first17 = prefix + birth + f"{serial:03d}"
    return first17 + id_check_char(first17)


def regno(serial: int = 1) -> str:
    first14 = "41050" + f"{serial:09d}"
    return first14 + regno_check_digit(first14)


def write_csv(path: Path, header: list[str], rows: list[list[object]],
              encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


ENT_HEADER = ["企业名称", "统一社会信用代码", "企业类型", "法定代表人", "法定代表人证件号码",
              "注册资本", "实缴资本", "成立日期", "登记机关", "登记状态", "住所", "经营范围",
              "行业代码", "联系电话", "备注"]


def enterprise_row(code: str, name: str, **kw: object) -> list[object]:
    values = {"企业名称": name, "统一社会信用代码": code,
              "企业类型": "有限责任公司(自然人投资或控股)",
              "法定代表人": "张三", "法定代表人证件号码": citizen_id(), "注册资本": "1,000",
              "实缴资本": "", "成立日期": "2019/3/5", "登记机关": "安阳市文峰区市场监督管理局",
              "登记状态": "存续", "住所": "安阳市文峰区中华路1号", "经营范围": "投资咨询",
              "行业代码": "L7212", "联系电话": "0372-5951234", "备注": "x"}
    values.update({k.replace("_", ""): v for k, v in kw.items()})
    return [values[h] for h in ENT_HEADER]


def small_inbox(root: Path) -> dict[str, object]:
    """An inbox with registration (UTF-8-BOM, GBK), court (GB18030) and police (UTF-8).

    Returns the codes used so tests can assert on them.
    """
    a, b, c = uscc("410502", 1), uscc("410581", 2), uscc("410500", 3)
    bad = bad_uscc(uscc("410502", 4))
    reg = root / "20240101" / "registration"
    write_csv(reg / "市场监管_企业基本信息_20240101_全量.csv", ENT_HEADER, [
        enterprise_row(a, "安阳市甲投资咨询有限公司"),
        enterprise_row(b, f"林州乙{SCRIPT}有限公司", 登记机关="林州市市场监督管理局",
                       注册资本="500万", 成立日期="2020年1月5日", 经营范围=HOSTILE),
        enterprise_row(c, "安阳丙养老服务有限公司", 登记机关="安阳市市场监督管理局",
                       注册资本="100万美元", 成立日期="20210105", 住所="安阳市北关区红旗路2号"),
        enterprise_row(bad, "坏码公司", 成立日期="44931"),
        enterprise_row(a, "安阳市甲投资咨询有限公司"),  # exact duplicate
    ], encoding="utf-8-sig")
    write_csv(reg / "市场监管_股东及出资信息_20240101_全量.csv",
              ["统一社会信用代码", "股东名称", "股东类型", "股东证照号码", "认缴出资额",
               "出资比例"],
              [[a, "李四", "自然人股东", citizen_id("410502", "19850203", 77), "600", "60%"],
               [a, "林州乙有限公司", "企业法人", b, "400", "0.4"]], encoding="gbk")
    court = root / "20240101" / "court"
    write_csv(court / "法院_案件信息_全量.csv",
              ["案号", "案由", "立案日期", "审理法院", "标的金额", "案件状态", "结案日期"],
              [["(2023)豫0502民初1号", "民间借贷纠纷", "2023-03-01", "文峰区人民法院", "5万",
                "审理中", ""],
               ["(2023)豫0502民初2号", "外星纠纷", "2023-13-01", "文峰区人民法院", "abc",
                "审理中", ""]], encoding="gb18030")
    lisi_masked = "410502********" + citizen_id("410502", "19850203", 77)[-4:]
    write_csv(court / "法院_当事人_全量.csv",
              ["案号", "当事人名称", "当事人类型", "证件号码", "诉讼地位"],
              [["(2023)豫0502民初1号", "王某", "自然人", "410503********1111", "原告"],
               ["(2023)豫0502民初1号", "安阳市甲投资咨询有限公司", "法人", a, "被告"],
               ["(2023)豫0502民初1号", "李某", "自然人", lisi_masked, "第三人"]],
              encoding="gb18030")
    police = root / "20240101" / "police"
    write_csv(police / "公安_涉案线索_全量.csv",
              ["线索编号", "线索名称", "涉嫌罪名", "受理日期", "状态", "涉案金额", "涉及地区"],
              [["XS001", "甲公司线索", "非法吸收公众存款", "2023-05-01", "线索核查", "300",
                "410502;林州市"],
               ["XS002", "乙线索", "集资诈骗", "2023-05-02", "已立案", "1", "火星市"]])
    return {"a": a, "b": b, "c": c, "bad": bad, "lisi_masked": lisi_masked}


TAXPAYER_HEADER = ["纳税人识别号", "纳税人名称", "主管税务机关", "纳税人状态", "纳税信用等级",
                   "评价年度"]
DECLARATION_HEADER = ["纳税人识别号", "所属年度", "营业收入", "应纳税额", "已缴税额", "欠税余额",
                      "零申报月数", "社保缴纳人数"]


def taxpayer_row(code: str, year: int, status: str = "正常", grade: str = "B") -> list[object]:
    return [code, "企业甲", "国家税务总局安阳市文峰区税务局", status, grade, year]


def declaration_row(code: str, year: int, zero_months: int = 0, revenue: str = "120000"
                    ) -> list[object]:
    return [code, year, revenue, "3000", "3000", "0", zero_months, 5]


def tax_files(folder: Path, date: str, taxpayers: list[list[object]] | None,
              declarations: list[list[object]] | None, workbook: bool = False,
              kind: str = "全量") -> None:
    """A tax delivery (``kind`` 全量 or 增量) in ``folder`` (``inbox/<date>/tax``): the tables
    given, as CSVs or as the sheets of one workbook."""
    tables = [(name, header, rows) for name, header, rows in (
        ("纳税人信息", TAXPAYER_HEADER, taxpayers), ("申报汇总", DECLARATION_HEADER, declarations))
        if rows is not None]
    if not workbook:
        for name, header, rows in tables:
            write_csv(folder / f"税务_{name}_{date}_{kind}.csv", header, rows)
        return
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, header, rows in tables:
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append(row)
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / f"税务_税务数据_{date}_{kind}.xlsx")
