"""Classification quality on the labelled connector corpus: recall and precision.

Columns and types come from real connectors' packaged stream schemas, values from
seeded generators, labels by hand (tests/corpus/classify/corpus.txt). Greenhouse and
Pipedrive are held out: the rules were written looking at the other six only.

Run: uv run python bench/classify.py [--rows 50] [--mistakes]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus.classify.score import Score, run


def report(name: str, score: Score, mistakes: bool) -> None:
    print(f"\n## {name}: {len(score.cases)} columns")
    print(
        f"recall {score.recall:.3f}  precision {score.precision:.3f}  "
        f"level exact (personal columns) {score.level_accuracy:.3f}"
    )
    print(f"{'category':34} {'columns':>7} {'flagged':>7} {'at label':>8}")
    for category, (columns, flagged, exact) in score.by_category().items():
        print(f"{category:34} {columns:7d} {flagged:7d} {exact:8d}")
    print(f"{'proposed level':34} {'columns':>7} {'right':>7} {'precision':>9}")
    for level, (columns, right) in score.by_level().items():
        print(f"{level:34} {columns:7d} {right:7d} {right / columns:9.3f}")
    if mistakes:
        for line in score.mistakes():
            print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50, help="sampled values per column")
    parser.add_argument("--mistakes", action="store_true")
    args = parser.parse_args()
    for split in ("train", "heldout"):
        report(split, run(split, args.rows), args.mistakes)
    report("all", run(None, args.rows), False)


if __name__ == "__main__":
    main()
