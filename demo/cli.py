"""``riskgraph demo …``: the synthetic demo city."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

demo_app = typer.Typer(help="The synthetic demo city.", no_args_is_help=True)


@demo_app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder to write inbox/ and truth/ into.")],
    city: Annotated[
        str | None,
        typer.Option(
            "--city", help="Division code of the city (default: RISKGRAPH_CITY or 410500)."
        ),
    ] = None,
    scale: Annotated[
        float, typer.Option("--scale", help="1 ≈ 20,000 enterprises and 30,000 persons.")
    ] = 1.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; same seed and args give identical files.")
    ] = 7,
) -> None:
    """Write DIR/inbox/<YYYYMMDD>/<source>/… (two deliveries) and DIR/truth/…."""
    from demo.generate import generate
    from riskgraph.paths import writable_folder
    from riskgraph.settings import load_settings

    settings = load_settings()  # bad settings: exit 2 before anything is written, as elsewhere
    writable_folder(out, "output folder", "pass a folder you may write (it is made when "
                    "missing)")
    started = time.perf_counter()
    summary = generate(out, (city or settings.city).strip(), scale, seed)
    nodes = summary.counts["nodes"]
    assert isinstance(nodes, dict)
    typer.echo(
        f"wrote {len(summary.files)} files, {summary.rows} rows "
        f"({nodes.get('Enterprise', 0)} enterprises, "
        f"{nodes.get('Person', 0)} persons, {summary.schemes} schemes) to {out} "
        f"in {time.perf_counter() - started:.1f}s"
    )
