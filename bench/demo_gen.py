"""Benchmark of the demo generator: ``python -m bench.demo_gen --scale S [--city C] [--seed N]``.

Generates into a temporary folder (or ``--out``) and prints one JSON line: wall and CPU time,
rows and files written, bytes on disk, node counts, and peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from demo.generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.demo_gen")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--city", default="410500")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="demo_gen_") as tmp:
        out = args.out or Path(tmp)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        summary = generate(out, args.city, args.scale, args.seed)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "scale": args.scale,
                "city": args.city,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "rows": summary.rows,
                "files": len(summary.files),
                "mb_on_disk": round(size / 2**20, 1),
                "peak_rss_mb": round(peak_mb),
                "nodes": summary.counts["nodes"],
                "schemes": summary.schemes,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
