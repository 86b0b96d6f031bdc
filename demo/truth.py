"""Truth files of the demo city (formats of docs/architecture.md, "Demo city files")."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from demo.world import World
from demo.writers import Truth

ENTITY_HEADER = (
    "uscc",
    "name",
    "county",
    "scheme_id",
    "role",
    "typology",
    "stage",
    "hard_negative",
)
SCHEME_HEADER = (
    "scheme_id",
    "typology",
    "stage",
    "core_uscc",
    "counties",
    "cities",
    "cross_region",
    "lead_region",
)


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def scheme_regions(world: World, sid_index: int) -> list[str]:
    """Counties a scheme spans: its members', the police's, and its investors' ID regions."""
    scheme = world.schemes[sid_index]
    counties = {world.firms[m].county for m in scheme.members}
    counties |= set(scheme.police_regions) | scheme.investor_regions
    return sorted(counties)


def write_truth(world: World, truth: Truth, out: Path) -> dict[str, object]:
    """Write entities, schemes, invalid rows, duplicates and expected counts; return the counts."""
    out.mkdir(parents=True, exist_ok=True)
    loaded = truth.nodes.get("Enterprise", set())
    entities = []
    for firm in sorted(world.firms, key=lambda f: f.key):
        if firm.key not in loaded:
            continue
        scheme = world.scheme_of(firm)
        entities.append(
            (
                firm.key,
                firm.name,
                firm.county,
                scheme.sid if scheme else "",
                firm.role,
                scheme.typology if scheme else "",
                scheme.stage if scheme else "",
                "true" if firm.hard_negative and scheme is None else "false",
            )
        )
    _write(out / "entities.csv", ENTITY_HEADER, list(entities))
    schemes = []
    for i, scheme in enumerate(world.schemes):
        counties = scheme_regions(world, i)
        cities = sorted({c[:4] + "00" for c in counties})
        core = world.firms[scheme.core]
        schemes.append(
            (
                scheme.sid,
                scheme.typology,
                scheme.stage,
                core.key,
                ";".join(counties),
                ";".join(cities),
                "true" if len(counties) > 1 else "false",
                core.county,
            )
        )
    _write(out / "schemes.csv", SCHEME_HEADER, list(schemes))
    _write(
        out / "invalid_rows.csv",
        ("delivery", "source", "file", "row", "column", "rule", "value"),
        list(truth.invalid),
    )
    _write(
        out / "duplicates.csv",
        ("delivery", "source", "file", "row", "duplicate_of_row"),
        list(truth.duplicates),
    )
    counts: dict[str, object] = {
        "nodes": {label: len(keys) for label, keys in sorted(truth.nodes.items())},
        "approx": {label: len(keys) for label, keys in sorted(truth.approx.items())},
    }
    (out / "expected_counts.json").write_text(
        json.dumps(counts, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return counts
