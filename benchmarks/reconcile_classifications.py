"""How well job titles reconcile to the standard classifications (SOC 2020, ESCO, ISCO-08).

Used by ``reconcile_eval.py``. The labelled titles of ``data/soc_titles.csv`` each name their
expected SOC 2020 unit group; the figures are computed on a store where the whole SOC 2020 and
ESCO are imported (``--reference DIR`` holds the published files; without them only the unit
groups and occupations the seeds map to are candidates, and the figures say so).

- **SOC 2020, by type**: the first candidate of type ``soc2020`` (precision at 1) and the first
  three (recall at 3); its auto-match precision (share of ``match: true`` that are right) and
  abstention rate (share of titles without a match);
- **SOC 2020, through the project's concepts**: a title that matches a role concept with a
  curated SOC code takes that code, else the first SOC candidate: what the CSV batch offers;
- **ESCO and ISCO-08**: how many titles get an auto-match (no labelled ESCO answers yet).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SOC_FILE, ESCO_FILE, ISCO_FILE = "soc2020vol1.xlsx", "esco_occupations_en_1.2.0.csv", "esco_ISCOGroups_en_1.2.0.csv"
TARGET_SOC_P_AT_1 = 0.8


def import_reference(store: Path, reference: Path) -> bool:
    """Import SOC 2020 and ESCO from ``reference`` into the store at ``store``; false if the files are absent."""
    if not all((reference / name).is_file() for name in (SOC_FILE, ESCO_FILE, ISCO_FILE)):
        return False
    aiwf = str(Path(sys.executable).with_name("aiwf"))
    for command in (["soc2020", str(reference / SOC_FILE)],
                    ["esco", str(reference / ESCO_FILE), "--isco-groups", str(reference / ISCO_FILE)]):
        subprocess.run([aiwf, "--store", str(store), "import", *command], check=True, capture_output=True)
    return True


def evaluate(reconciler, soc_titles: list[dict[str, str]]) -> dict:
    """The figures above, over ``soc_titles`` (rows with ``title`` and ``soc2020``)."""
    n = len(soc_titles)
    direct = recall = via = matched = matched_right = 0
    auto = {"esco": 0, "isco": 0}
    errors = []
    for row in soc_titles:
        expected = row["soc2020"]
        found = reconciler.match(row["title"], types=["soc2020"], limit=3)
        first = found[0].soc2020 if found else None
        direct += first == expected
        recall += expected in {c.soc2020 for c in found}
        if found and found[0].match:
            matched += 1
            matched_right += first == expected
        concept = reconciler.match(row["title"], limit=1)
        through = concept[0].soc2020 if concept and concept[0].match and concept[0].soc2020 else first
        via += through == expected
        if through != expected:
            errors.append((row["title"], expected, through or "-"))
        for kind in auto:
            best = reconciler.match(row["title"], types=[kind], limit=1)
            auto[kind] += bool(best and best[0].match)
    return {
        "titles": n,
        "soc_units_known": sum(1 for e in reconciler.catalogue.entities.values() if e.kind.key == "soc2020"),
        "soc_precision_at_1": direct / n,
        "soc_recall_at_3": recall / n,
        "soc_auto_match_precision": matched_right / matched if matched else None,
        "soc_abstention_rate": 1 - matched / n,
        "soc_precision_at_1_through_concepts": via / n,
        "esco_auto_matched": auto["esco"] / n,
        "isco_auto_matched": auto["isco"] / n,
        "errors": errors,
    }


def report(figures: dict, *, show_errors: bool) -> str:
    """The figures as text, with the target for SOC 2020 precision at 1."""
    auto = figures["soc_auto_match_precision"]
    lines = [
        f"Classifications ({figures['titles']} SOC-labelled titles; {figures['soc_units_known']} SOC 2020 unit "
        "groups known to the reconciler)",
        f"  SOC 2020 by type: precision at 1 {figures['soc_precision_at_1']:.3f} (target {TARGET_SOC_P_AT_1}; "
        f"Cascot's published figure about 0.64), recall at 3 {figures['soc_recall_at_3']:.3f}",
        f"  SOC 2020 auto-match precision {'-' if auto is None else f'{auto:.3f}'}, "
        f"abstention {figures['soc_abstention_rate']:.3f}",
        f"  SOC 2020 through the project's concepts, else by type: precision at 1 "
        f"{figures['soc_precision_at_1_through_concepts']:.3f}",
        f"  auto-matched: ESCO occupation {figures['esco_auto_matched']:.3f}, ISCO-08 group "
        f"{figures['isco_auto_matched']:.3f} (no labelled ESCO or ISCO answers yet)",
    ]
    if show_errors:
        lines += [f"    {title!r}: expected {expected}, got {got}" for title, expected, got in figures["errors"]]
    return "\n".join(lines)
