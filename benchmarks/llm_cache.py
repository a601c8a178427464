"""Cold vs warm synthesis through the request cache, against ``pluralign serve`` with a tiny model.

    PYTHONPATH=src:tests/llm python benchmarks/llm_cache.py [--clauses 4] [--n 3]

Runs ``synth questions`` + ``synth revise`` twice into fresh output files with one cache folder:
the first run (cold) answers every request on the served model, the second (warm) only reads
SQLite. Prints the requests the server received and the wall time of each run, and the ratio
cold / warm. The peer is the same pipeline without cache hits, measured in the same process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clauses", type=int, default=4)
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=24)
    args = ap.parse_args()

    from conftest_llm import ServerThread, build_tiny_model

    from pluralign.constitution.document import Clause
    from pluralign.llm.config import ProviderSettings
    from pluralign.llm.local import LocalModel
    from pluralign.llm.provider import open_provider
    from pluralign.llm.serve import create_app
    from pluralign.llm.synth import (
        GenerationSettings,
        load_questions,
        synth_questions,
        synth_revisions,
    )

    tmp = Path(tempfile.mkdtemp(prefix="pluralign-bench-"))
    ckpt = build_tiny_model(tmp / "model")
    app = create_app(LocalModel(ckpt), "tiny")
    clauses = [
        Clause(f"c{i}", f"The assistant should follow principle number {i}.")
        for i in range(args.clauses)
    ]
    settings = GenerationSettings(temperature=0.9, max_tokens=args.max_tokens, seed=0)
    times, served = {}, {}
    with ServerThread(app) as srv:
        for tag in ("cold", "warm"):
            before = app.state.requests
            t0 = time.perf_counter()
            cfg = ProviderSettings(base_url=srv.base_url, model="tiny", cache_dir=tmp / "cache")
            with open_provider(cfg) as prov:
                synth_questions(
                    prov,
                    clauses,
                    tmp / tag / "q.jsonl",
                    args.n,
                    settings,
                    dedup="tfidf",
                    show_progress=False,
                )
                qs = load_questions(tmp / tag / "q.jsonl")
                synth_revisions(
                    prov, clauses, qs, tmp / tag / "pairs.jsonl", settings, show_progress=False
                )
            times[tag] = time.perf_counter() - t0
            served[tag] = app.state.requests - before
    for tag in ("cold", "warm"):
        print(f"{tag}: {served[tag]} requests served, {times[tag]:.2f} s")
    print(f"cold / warm wall time: {times['cold'] / times['warm']:.1f}x")


if __name__ == "__main__":
    main()
