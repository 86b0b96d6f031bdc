"""Map the BDCI 2020 illegal-fundraising tables onto riskgraph-style features.

Read from a folder laid out like ``../shared/real-data/bdci2020_illegal_fundraising`` (the data is
never copied into the repository). Produces one row per enterprise with

* indicator strengths in [0, 1] (the ids in :data:`INDICATORS`), the same kind of evidence the
  product's indicators read from registration, annual-report, tax, news and court sources;
* raw registration / annual-report / tax / news / court fields for the tree model, with
  categoricals label-encoded by a :class:`Encoders` fitted on the training folder only;
  per-enterprise aggregates of the annual reports (mean / last / trend over years, years
  reported, publication state, missing fields), tax (rows, amounts, categories, date span) and
  news (counts by sentiment); frequency encodings of high-cardinality categoricals (counted
  without labels, over the training and holdout folders together when both are given);
  missingness counts and capital ratios.

No feature is derived from the anonymised ``id``; the ``label`` column of the base table is
never a feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskgraph.errors import DataError

REFERENCE_YEAR = 2020
"""The data was extracted in 2020 (latest opfrom_year); ages count from then."""

FILES = {
    "base": "base_info_reconstructed.csv",
    "annual": "annual_report_info.csv",
    "tax": "tax_info.csv",
    "news": "news_info.csv",
    "other": "other_info.csv",
    "labels": "entprise_info.csv",
}

# Indicator ids and the hand-set prior weights, chosen by domain reasoning (not fitted):
# capital and fund-vehicle signals weigh most; weak or noisy proxies weigh least.
HANDSET_WEIGHTS: dict[str, float] = {
    "capital_gap": 0.35,  # subscribed capital far above paid-in (认缴远高于实缴)
    "outsized_capital": 0.30,  # registered capital of 10 million yuan and more
    "young_outsized_capital": 0.50,  # a young firm with outsized capital
    "risky_industry": 0.50,  # finance, investment / leasing & business services, real estate
    "key_sector_type": 0.40,  # partnerships (fund vehicles), cooperatives, non-company persons
    "many_changes": 0.30,  # many change records (shareholders, scope, address …)
    "annual_no_staff": 0.30,  # annual report shows no staff
    "annual_not_published": 0.10,  # annual report withheld from the public
    "annual_outward_investment": 0.25,  # reports investments in other firms (layering)
    "tax_anomaly": 0.25,  # files tax but zero or tiny amounts
    "negative_news": 0.40,  # share of negative news
    "judgments": 0.35,  # court judgments naming the firm
}
INDICATORS: tuple[str, ...] = tuple(HANDSET_WEIGHTS)

BASE_NUMERIC = [
    "oplocdistrict",
    "industryco",
    "enttype",
    "enttypeitem",
    "opfrom_year",
    "opfrom_month",
    "state",
    "adbusign",
    "townsign",
    "regtype",
    "empnum",
    "compform",
    "parnum",
    "exenum",
    "venind",
    "enttypeminu",
    "protype",
    "regcap",
    "reccap",
    "forreccap",
    "forregcap",
    "congro",
    "enttypegb",
    "change_info_rowcount",
]
BASE_CATEGORICAL = ["industryphy", "opform", "orgid", "jobid"]
COUNT_COLUMNS = [
    "oploc",
    "industryco",
    "enttypegb",
    "enttypeitem",
    "enttypeminu",
    "orgid",
    "jobid",
    "opform",
    "regcap",
]
"""Categoricals (and the capital amount) that get a frequency encoding: firms per value."""

_RISKY_INDUSTRY = {"J": 1.0, "L": 1.0, "K": 0.7, "I": 0.3, "F": 0.3}
# 4500 partnership (incl. limited partnerships, the usual fund vehicle), 9100 farmers'
# cooperative, 2100 non-company enterprise legal person.
_KEY_ENTTYPE = {4500: 1.0, 9100: 0.7, 2100: 0.5}


@dataclass
class Encoders:
    """Label encodings of categorical fields, fitted on the training folder only."""

    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: list[str]) -> Encoders:
        cats = {}
        for c in columns:
            values = frame[c].dropna().astype(str)
            cats[c] = sorted(values.unique().tolist())
        return cls(cats)

    def transform(self, frame: pd.DataFrame, column: str) -> pd.Series:
        mapping = {v: i for i, v in enumerate(self.categories[column])}
        codes = frame[column].astype("string").map(mapping)
        return pd.to_numeric(codes, errors="coerce").astype(float)  # unseen/missing -> NaN


@dataclass
class BdciData:
    """Features, labels and the column roles of one BDCI folder."""

    features: pd.DataFrame
    labels: np.ndarray
    ids: pd.Series
    indicators: tuple[str, ...]
    raw: list[str]

    @property
    def all_features(self) -> list[str]:
        return [*self.indicators, *self.raw]


def _read(folder: Path, key: str, required: bool = True) -> pd.DataFrame | None:
    path = folder / FILES[key]
    if not path.exists():
        if required:
            raise DataError(f"{path} is missing", "point to a folder with the BDCI 2020 files")
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}", "check the file") from exc


def load_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The BDCI tables of ``folder`` (annual/tax/news/other may be absent: empty then)."""
    folder = Path(folder)
    base = _read(folder, "base")
    assert base is not None
    if "id" not in base.columns:
        raise DataError(f"{folder / FILES['base']} has no id column", "use the BDCI layout")
    tables = {"base": base}
    for key in ("annual", "tax", "news", "other"):
        t = _read(folder, key, required=False)
        tables[key] = t if t is not None else pd.DataFrame({"id": pd.Series(dtype=str)})
    labels = _read(folder, "labels", required=False)
    if labels is None:
        if "label" not in base.columns:
            raise DataError(f"no labels in {folder}", f"add {FILES['labels']}")
        labels = base[["id", "label"]]
    tables["labels"] = labels
    return tables


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _annual(annual: pd.DataFrame) -> pd.DataFrame:
    a = annual.copy()
    for c in [
        "ANCHEYEAR",
        "STATE",
        "EMPNUM",
        "FUNDAM",
        "PUBSTATE",
        "EMPNUMSIGN",
        "WEBSITSIGN",
        "FORINVESTSIGN",
        "STOCKTRANSIGN",
        "COLGRANUM",
        "RETSOLNUM",
        "UNENUM",
        "COLEMPLNUM",
        "UNEEMPLNUM",
        "RETEMPLNUM",
    ]:
        a[c] = _num(a, c)
    a["no_staff"] = (a["EMPNUM"] == 0).astype(float)
    a["not_published"] = (a["PUBSTATE"] == 3).astype(float)
    a["invest"] = (a["FORINVESTSIGN"] == 1).astype(float)
    a["stock_transfer"] = (a["STOCKTRANSIGN"] == 1).astype(float)
    a["website"] = (a["WEBSITSIGN"] == 1).astype(float)
    busst = a["BUSSTNAME"] if "BUSSTNAME" in a.columns else pd.Series(pd.NA, index=a.index)
    a["not_open"] = busst.isin(["停业", "歇业", "清算"]).astype(float)
    a["busst_missing"] = busst.isna().astype(float)
    report_fields = [c for c in a.columns if c.isupper() and c not in ("ANCHEYEAR", "STATE")]
    a["fields_missing"] = a[report_fields].isna().sum(axis=1).astype(float)
    a = a.sort_values(["id", "ANCHEYEAR"], kind="mergesort")
    g = a.groupby("id")
    first, last = g.first(), g.last()  # first/last non-missing value of each field, by year
    years = g["ANCHEYEAR"]
    span = years.max() - years.min() + 1
    out = pd.DataFrame(
        {
            "ar_years": g.size().astype(float),
            "ar_last_year": years.max(),
            "ar_first_year": years.min(),
            "ar_year_gaps": span - years.nunique(),
            "ar_empnum_mean": g["EMPNUM"].mean(),
            "ar_empnum_max": g["EMPNUM"].max(),
            "ar_empnum_last": last["EMPNUM"],
            "ar_empnum_trend": last["EMPNUM"] - first["EMPNUM"],
            "ar_fundam_max": g["FUNDAM"].max(),
            "ar_fundam_mean": g["FUNDAM"].mean(),
            "ar_fundam_missing": g["FUNDAM"].apply(lambda s: float(s.isna().all())),
            "ar_no_staff_share": g["no_staff"].mean(),
            "ar_not_published_share": g["not_published"].mean(),
            "ar_pubstate_mean": g["PUBSTATE"].mean(),
            "ar_pubstate_last": last["PUBSTATE"],
            "ar_invest_share": g["invest"].mean(),
            "ar_stock_transfer_share": g["stock_transfer"].mean(),
            "ar_stock_sign_missing": g["STOCKTRANSIGN"].apply(lambda s: float(s.isna().mean())),
            "ar_invest_sign_missing": g["FORINVESTSIGN"].apply(lambda s: float(s.isna().mean())),
            "ar_website_share": g["website"].mean(),
            "ar_not_open_share": g["not_open"].mean(),
            "ar_busst_missing_share": g["busst_missing"].mean(),
            "ar_fields_missing_mean": g["fields_missing"].mean(),
            "ar_empnumsign_mean": g["EMPNUMSIGN"].mean(),
            "ar_state_mean": g["STATE"].mean(),
            "ar_colgranum_mean": g["COLGRANUM"].mean(),
            "ar_unenum_mean": g["UNENUM"].mean(),
            "ar_colemplnum_mean": g["COLEMPLNUM"].mean(),
            "ar_uneemplnum_mean": g["UNEEMPLNUM"].mean(),
            "ar_retemplnum_mean": g["RETEMPLNUM"].mean(),
        }
    )
    return out


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce", format="mixed")


def _tax(tax: pd.DataFrame) -> pd.DataFrame:
    t = tax.copy()
    t["amount"] = _num(t, "TAX_AMOUNT")
    t["basis"] = _num(t, "TAXATION_BASIS")
    t["rate"] = _num(t, "TAX_RATE")
    t["deduction"] = _num(t, "DEDUCTION")
    for c in ("TAX_CATEGORIES", "TAX_ITEMS"):
        if c not in t.columns:
            t[c] = pd.NA
    cats = t["TAX_CATEGORIES"].astype("string").fillna("")
    t["income_tax"] = cats.str.contains("所得税").astype(float)
    t["personal_income_tax"] = cats.eq("个人所得税").astype(float)
    t["stamp_tax"] = cats.eq("印花税").astype(float)
    t["land_tax"] = cats.str.contains("土地|房产|契税").astype(float)
    t["start"] = _dates(t, "START_DATE")
    t["end"] = _dates(t, "END_DATE")
    t["days"] = (t["end"] - t["start"]).dt.days.astype(float)
    t["period"] = t["start"].dt.year * 12 + t["start"].dt.month
    g = t.groupby("id")
    span = (g["end"].max() - g["start"].min()).dt.days.astype(float)
    return pd.DataFrame(
        {
            "tax_rows": g.size().astype(float),
            "tax_amount_sum": g["amount"].sum(min_count=1),
            "tax_amount_mean": g["amount"].mean(),
            "tax_amount_max": g["amount"].max(),
            "tax_amount_std": g["amount"].std(),
            "tax_zero_share": g["amount"].apply(lambda s: float((s == 0).mean())),
            "tax_basis_sum": g["basis"].sum(min_count=1),
            "tax_rate_mean": g["rate"].mean(),
            "tax_deduction_sum": g["deduction"].sum(min_count=1),
            "tax_categories": g["TAX_CATEGORIES"].nunique().astype(float),
            "tax_items": g["TAX_ITEMS"].nunique().astype(float),
            "tax_income_share": g["income_tax"].mean(),
            "tax_personal_income_share": g["personal_income_tax"].mean(),
            "tax_stamp_share": g["stamp_tax"].mean(),
            "tax_land_share": g["land_tax"].mean(),
            "tax_span_days": span,
            "tax_period_days_mean": g["days"].mean(),
            "tax_periods": g["period"].nunique().astype(float),
            "tax_first_year": g["start"].min().dt.year.astype(float),
            "tax_last_year": g["end"].max().dt.year.astype(float),
        }
    )


def _news(news: pd.DataFrame) -> pd.DataFrame:
    n = news.copy()
    tone = (
        n["positive_negtive"] if "positive_negtive" in n.columns else pd.Series("", index=n.index)
    )
    n["neg"] = tone.eq("消极").astype(float)
    n["pos"] = tone.eq("积极").astype(float)
    n["neutral"] = tone.eq("中立").astype(float)
    # Relative dates ("xx小时前") are recent: NaT here, counted separately.
    date = _dates(n, "public_date")
    n["year"] = date.dt.year.astype(float)
    n["relative"] = date.isna().astype(float)
    g = n.groupby("id")
    return pd.DataFrame(
        {
            "news_count": g.size().astype(float),
            "news_neg": g["neg"].sum(),
            "news_pos": g["pos"].sum(),
            "news_neutral": g["neutral"].sum(),
            "news_neg_share": g["neg"].mean(),
            "news_pos_share": g["pos"].mean(),
            "news_first_year": g["year"].min(),
            "news_last_year": g["year"].max(),
            "news_years": g["year"].nunique().astype(float),
            "news_relative": g["relative"].sum(),
        }
    )


def _other(other: pd.DataFrame) -> pd.DataFrame:
    o = other.copy()
    for c in ("legal_judgment_num", "brand_num", "patent_num"):
        o[c] = _num(o, c)
    g = o.groupby("id")
    return pd.DataFrame(
        {
            "judgment_num": g["legal_judgment_num"].max(),
            "brand_num": g["brand_num"].max(),
            "patent_num": g["patent_num"].max(),
            "other_present": g.size().astype(float).clip(upper=1.0),
        }
    )


def _indicators(f: pd.DataFrame) -> pd.DataFrame:
    """Indicator strengths in [0, 1] from the joined raw fields."""
    regcap, reccap = f["regcap"], f["reccap"]
    age = (REFERENCE_YEAR - f["opfrom_year"]).clip(lower=0)
    capital = ((np.log10(regcap.clip(lower=1e-3)) - 2.0) / 2.0).clip(0.0, 1.0).fillna(0.0)
    youth = ((10.0 - age) / 7.0).clip(0.0, 1.0).fillna(0.0)  # 1 up to 3 years, 0 from 10
    gap = (1.0 - reccap / regcap.where(regcap > 0)).clip(0.0, 1.0)
    ind = pd.DataFrame(index=f.index)
    # Only meaningful where paid-in capital is reported; a tiny subscription is no signal.
    ind["capital_gap"] = (gap * (regcap >= 100).astype(float)).fillna(0.0)
    ind["outsized_capital"] = capital
    ind["young_outsized_capital"] = capital * youth
    ind["risky_industry"] = f["industryphy_raw"].map(_RISKY_INDUSTRY).fillna(0.0).astype(float)
    ind["key_sector_type"] = f["enttype"].map(_KEY_ENTTYPE).fillna(0.0).astype(float)
    ind["many_changes"] = (f["change_info_rowcount"].fillna(0.0) / 10.0).clip(0.0, 1.0)
    ind["annual_no_staff"] = f["ar_no_staff_share"].fillna(0.0)
    ind["annual_not_published"] = f["ar_not_published_share"].fillna(0.0)
    ind["annual_outward_investment"] = f["ar_invest_share"].fillna(0.0)
    tax_sum = f["tax_amount_sum"]
    tiny = (1.0 - np.log10(tax_sum.clip(lower=1.0)) / 3.0).clip(0.0, 1.0)  # 0 yuan 1, 1000+ 0
    ind["tax_anomaly"] = tiny.where(f["tax_rows"] > 0, 0.0).fillna(0.0)
    # Confidence grows with the number of articles: one negative article of one is 0.5.
    conf = (f["news_count"].fillna(0.0) / 2.0).clip(0.0, 1.0)
    ind["negative_news"] = (f["news_neg_share"].fillna(0.0) * conf).clip(0.0, 1.0)
    ind["judgments"] = 1.0 - np.exp(-f["judgment_num"].fillna(0.0) / 3.0)
    return ind[list(INDICATORS)].astype(float)


def build_features(
    tables: dict[str, pd.DataFrame],
    encoders: Encoders | None = None,
    counts: Mapping[str, pd.Series] | None = None,
) -> tuple[BdciData, Encoders]:
    """Features of one folder's tables. Pass the training folder's ``encoders`` (and
    ``counts`` from :func:`category_counts_of` over both folders) when building a holdout, so
    that codes and frequencies mean the same in both."""
    base = tables["base"].drop(columns=["label"], errors="ignore").drop_duplicates("id")
    base = base.reset_index(drop=True)
    if encoders is None:
        encoders = Encoders.fit(base, [c for c in BASE_CATEGORICAL if c in base.columns])
    f = pd.DataFrame({"id": base["id"]})
    for c in BASE_NUMERIC:
        f[c] = _num(base, c)
    for c in BASE_CATEGORICAL:
        f[c] = encoders.transform(base, c) if c in base.columns else np.nan
    f["industryphy_raw"] = base["industryphy"].astype("string") if "industryphy" in base else ""
    opto_raw = base["opto"] if "opto" in base else pd.Series(pd.NA, index=base.index)
    opto = pd.to_datetime(opto_raw, errors="coerce")
    f["opto_year"] = opto.dt.year.astype(float)
    f["opto_month"] = opto.dt.month.astype(float)
    f["has_opto"] = opto_raw.notna().astype(float)
    # Length of the fixed operating term (经营期限), in years.
    f["term_years"] = (
        f["opto_year"] + f["opto_month"] / 12 - (f["opfrom_year"] + f["opfrom_month"] / 12)
    )
    f["age"] = (REFERENCE_YEAR - f["opfrom_year"]).astype(float)
    f["reccap_reported"] = f["reccap"].notna().astype(float)
    f["reccap_ratio"] = f["reccap"] / f["regcap"].where(f["regcap"] > 0)
    f["log_regcap"] = np.log1p(f["regcap"].clip(lower=0))
    f["capital_unpaid"] = (f["regcap"] - f["reccap"]).clip(lower=0)
    f["empnum_per_capital"] = f["empnum"] / f["regcap"].where(f["regcap"] > 0)
    f["regcap_round"] = (f["regcap"] % 100 == 0).astype(float).where(f["regcap"].notna())
    f["base_missing"] = base.isna().sum(axis=1).astype(float).to_numpy()
    # Frequency encodings (no labels involved): e.g. many firms at one (hashed) premises, a
    # registration officer (jobid) or authority (orgid) that registers many such firms.
    freq = counts if counts is not None else category_counts(base)
    for c in COUNT_COLUMNS:
        values = _key(base, c)
        f[f"{c}_firms"] = pd.to_numeric(values.map(freq.get(c, {})), errors="coerce").astype(float)
    # The hashed premises text is hashed in blocks: its length grows with the address length.
    oploc = base["oploc"].astype("string") if "oploc" in base else pd.Series(pd.NA, index=f.index)
    f["oploc_len"] = oploc.str.len().astype(float)

    f = f.set_index("id")
    for part in (
        _annual(tables["annual"]),
        _tax(tables["tax"]),
        _news(tables["news"]),
        _other(tables["other"]),
    ):
        f = f.join(part, how="left")
    f["ar_reported"] = f["ar_years"].notna().astype(float)
    f["tax_reported"] = f["tax_rows"].notna().astype(float)
    f["news_reported"] = f["news_count"].notna().astype(float)
    f["sources_present"] = (
        f["ar_reported"] + f["tax_reported"] + f["news_reported"] + f["other_present"].fillna(0.0)
    )
    ind = _indicators(f)
    raw = [c for c in f.columns if c != "industryphy_raw"]
    features = pd.concat([ind, f[raw]], axis=1)

    labels_t = tables["labels"].drop_duplicates("id").set_index("id")["label"]
    y = labels_t.reindex(features.index)
    if y.isna().any():
        raise DataError(f"{int(y.isna().sum())} enterprises have no label", "check the labels")
    data = BdciData(
        features=features.reset_index(drop=True),
        labels=y.to_numpy(dtype=int),
        ids=pd.Series(features.index, name="id"),
        indicators=INDICATORS,
        raw=raw,
    )
    return data, encoders


def load_folder(
    folder: str | Path,
    encoders: Encoders | None = None,
    counts: Mapping[str, pd.Series] | None = None,
) -> tuple[BdciData, Encoders]:
    """Read and featurise one BDCI folder."""
    return build_features(load_tables(folder), encoders, counts)


def _key(base: pd.DataFrame, column: str) -> pd.Series:
    if column not in base.columns:
        return pd.Series(pd.NA, index=base.index, dtype="string")
    values = base[column]
    if pd.api.types.is_float_dtype(values):  # 6760.0 and 6760 are one category
        values = values.map(
            lambda v: pd.NA if pd.isna(v) else str(int(v)) if float(v).is_integer() else str(v)
        )
    return values.astype("string")


def category_counts(*bases: pd.DataFrame) -> dict[str, pd.Series]:
    """Firms per value of every column of :data:`COUNT_COLUMNS` over the given base tables."""
    return {
        c: pd.concat([_key(b, c) for b in bases]).value_counts(dropna=True) for c in COUNT_COLUMNS
    }


def category_counts_of(*folders: str | Path) -> dict[str, pd.Series]:
    """:func:`category_counts` over the base tables of several folders (no labels involved)."""
    return category_counts(*[pd.read_csv(Path(f) / FILES["base"]) for f in folders])
