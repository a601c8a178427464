"""How long a user waits for ``pluralign --help`` (target: < 0.3 s), against its peers.

    python benchmarks/cli_startup.py [--runs 15]

Each command runs ``--runs`` times in a fresh interpreter, interleaved so load changes hit all
alike; the figure is the median wall time. Peers in the same run: ``python -c pass`` (the
interpreter alone) and ``python -c "import typer"`` (the CLI library alone, which pluralign
cannot go below), plus ``pluralign panel select --help`` (one stage's command) and a usage error.
Printed: each median, and pluralign's overhead over bare typer. Hold the measurement lock and
note ``uptime`` for absolute seconds (see /work/HELPERS.md); the ratios hold under load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import typer": [sys.executable, "-c", "import typer"],
    "pluralign --help": [sys.executable, "-m", "pluralign", "--help"],
    "pluralign panel select --help": [sys.executable, "-m", "pluralign", "panel", "select",
                                      "--help"],
    "pluralign nope (usage error)": [sys.executable, "-m", "pluralign", "nope"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100"}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, value in medians.items():
        print(f"{name:32s} median {value:.3f} s   min {min(times[name]):.3f} s")
    typer_alone = medians["import typer"]
    print(f"pluralign --help over bare typer: +{medians['pluralign --help'] - typer_alone:.3f} s "
          f"(x{medians['pluralign --help'] / typer_alone:.2f})")


if __name__ == "__main__":
    main()
