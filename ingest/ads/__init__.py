"""ads — 广告监测: monitored advertisements, their advertiser and region."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import F, rows
from ingest.spec import TableSpec

SOURCE = "ads"

MEDIA = ("报刊", "户外", "网络", "传单", "短视频")
MEDIA_LOOKUP = {"报纸": "报刊", "杂志": "报刊", "互联网": "网络", "宣传单": "传单",
                "视频": "短视频"}

ADS = (
    F("监测编号", "ad_id", "key", required=True, not_null=True),
    F("发布日期", "date", "date"),
    F("发布媒介", "media", "enum", values=MEDIA, lookup=MEDIA_LOOKUP),
    F("广告主名称", "advertiser", required=True),
    F("广告主代码", "advertiser_code", "uscc"),
    F("广告内容", "content"),
    F("发布地区", "regions", "region"),
)


def build_ads(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    items: list[dict[str, Any]] = [
        {"name": r["advertiser"], "code": r["advertiser_code"], "row": row, "kind": "org",
         "key": r["ad_id"], "counterparts": []} for row, r in data]
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        ctx.writes.node("Ad", r["ad_id"], ctx.record_props(row, {
            "date": r["date"], "media": r["media"], "advertiser": r["advertiser"],
            "content": r["content"], "regions": list(r["regions"] or [])}), mode="record")
        if subject[0] in ("Enterprise", "Party"):
            ctx.writes.rel("ADVERTISED_IN", subject, ("Ad", r["ad_id"]),
                           ctx.record_props(row, {}))
        for code in r["regions"] or []:
            ctx.writes.rel("INVOLVES_REGION", ("Ad", r["ad_id"]), ("Region", code),
                           ctx.record_props(row, {}))
    return ctx.writes


TABLES = (TableSpec(SOURCE, "广告监测", ADS, key=("ad_id",), build=build_ads, order=10),)
