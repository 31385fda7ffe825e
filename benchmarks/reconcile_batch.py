"""How long `aiwf reconcile --csv` takes on a large extract: 100,000 rows by default.

    .venv/bin/python benchmarks/reconcile_batch.py --store var/store            # 100,000 rows
    .venv/bin/python benchmarks/reconcile_batch.py --store var/store --rows 1000000

The rows are the labelled titles of ``data/soc_titles.csv``, ``data/job_titles.csv`` and
``data/unrelated_titles.csv``, each also written with a band, a department or a different
case, so about 2,600 titles are distinct, as in a real extract, and repeated at random
(seeded) to fill the rows. The command is run exactly as a user runs it (a new process, the
store opened, the catalogue read, every distinct title matched once, the CSV written) and timed
from start to exit. Target: 100,000 rows in under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
VARIANTS = ("{}", "{} - Band 6", "Snr {}", "{} (Cancer Services)", "{} Band 8a", "{}".upper())
TARGET_SECONDS = 30.0


def titles() -> list[str]:
    """Every labelled title, in the variants a real extract has."""
    base: list[str] = []
    for name in ("soc_titles.csv", "job_titles.csv", "unrelated_titles.csv"):
        with (DATA / name).open(encoding="utf-8", newline="") as handle:
            base += [row["title"] for row in csv.DictReader(handle)]
    variants = {variant.format(title) if "{}" in variant else title.upper() for title in base for variant in VARIANTS}
    return sorted(variants)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a built store (aiwf build --store DIR)")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    pool = titles()
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "extract.csv", Path(tmp) / "out.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["staff_number", "job_title"])
            writer.writerows((n, rng.choice(pool)) for n in range(args.rows))
        aiwf = Path(sys.executable).with_name("aiwf")
        start = time.perf_counter()
        done = subprocess.run([str(aiwf), "--store", args.store, "reconcile", "--csv", str(source),
                               "--column", "job_title", "-o", str(target), "--no-progress"],
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        with target.open(encoding="utf-8", newline="") as handle:
            written = sum(1 for _ in csv.DictReader(handle))
    print(done.stderr.strip())
    print(f"rows {args.rows}, distinct titles in the pool {len(pool)}, written {written}")
    print(f"wall time {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s); target {TARGET_SECONDS:.0f} s "
          f"for 100,000 rows: {'met' if seconds * 100_000 / args.rows < TARGET_SECONDS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
