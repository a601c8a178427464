"""Throughput of weighted DPO against unweighted TRL DPO, in the same run, on the CPU.

Both trainers get the same randomly initialised Llama-architecture model (tens of millions of
parameters, loaded from one saved folder), the same tokenizer and the same pre-collated batches;
the weighted one also gets random per-pair weights. One optimizer step is timed the way the
Trainer runs it (``get_batch_samples`` + ``training_step`` + AdamW step), alternating the two
trainers round by round so that load from other processes on a shared machine hits both alike.
Peak memory is the peak resident set size while training (sampled every 2 ms from /proc, after a
warm-up step so optimizer state exists) and its growth over the RSS before the timed steps,
measured for each trainer in its own child process.

    PYTHONPATH=src python benchmarks/train.py            # defaults: ~23M parameters
    PYTHONPATH=src python benchmarks/train.py --rounds 5 --steps 4 --threads 2

Prints tokens per CPU-second and per wall-clock second of each, the ratio weighted/unweighted
(target >= 0.95), and the peak RSS. On a shared machine the CPU-time ratio is the one to read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the", "panel", "city", "people", "budget", "fair", "tax", "bus", "park", "library",
    "housing", "decide", "vote", "agree", "public", "together", "needs", "care", "rich", "poor",
    "young", "old", "future", "plan", "local", "open", "hours", "safe",
)  # fmt: skip


def make_rows(n: int, seed: int) -> list[dict]:
    import random

    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."

    return [
        {
            "prompt": text(10, 25) + "?",
            "chosen": text(15, 40),
            "rejected": text(15, 40),
            "weight": round(rng.uniform(0.1, 3.0), 3),
        }
        for _ in range(n)
    ]


def build_model(out: Path, rows: list[dict], args) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from pluralign.models.tiny import train_tokenizer

    texts = [r[k] for r in rows for k in ("prompt", "chosen", "rejected")]
    tok = train_tokenizer(texts, vocab_size=1000)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=max(args.vocab, len(tok)),
        hidden_size=args.hidden,
        intermediate_size=args.hidden * 8 // 3,
        num_hidden_layers=args.layers,
        num_attention_heads=args.hidden // 64,
        num_key_value_heads=args.hidden // 64,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
        max_position_embeddings=512,
    )
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def make_trainers(model_dir: Path, rows: list[dict], args, which=("weighted", "trl")):
    import datasets
    import transformers
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from pluralign.train.dpo_trainer import WeightedDPOTrainer
    from pluralign.train.rows import load_rows, paired_dataset

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = paired_dataset(load_rows(rows), conversational=True)
    trainers = {}
    for name in which:
        targs = DPOConfig(
            output_dir=tempfile.mkdtemp(),
            per_device_train_batch_size=args.batch,
            max_steps=1,
            report_to=[],
            use_cpu=True,
            bf16=False,
            gradient_checkpointing=False,
            save_strategy="no",
            disable_tqdm=True,
            learning_rate=1e-5,
            logging_steps=10**6,
        )
        if name == "weighted":
            trainers[name] = WeightedDPOTrainer(
                model=str(model_dir), args=targs, train_dataset=ds, processing_class=tok
            )
        else:
            trainers[name] = DPOTrainer(
                model=str(model_dir),
                args=targs,
                train_dataset=ds.remove_columns("weight"),
                processing_class=tok,
            )
        trainers[name].create_optimizer_and_scheduler(num_training_steps=10**6)
    return trainers


def batches_for(trainer, n_batches: int, batch: int) -> list[dict]:
    ds = trainer.train_dataset
    return [
        trainer.data_collator([ds[(i * batch + j) % len(ds)] for j in range(batch)])
        for i in range(n_batches)
    ]


def one_step(trainer, batch: dict, weighted: bool) -> None:
    model = trainer.model
    model.train()
    trainer.current_gradient_accumulation_steps = 1
    if weighted:
        samples, num_items = trainer.get_batch_samples(iter([batch]), 1, trainer.args.device)
        trainer.training_step(model, samples[0], num_items)
    else:
        trainer.training_step(model, batch, None)
    trainer.optimizer.step()
    trainer.optimizer.zero_grad(set_to_none=True)


def child(args) -> None:
    """Train one variant for the measured steps; print the RSS growth (KiB) as JSON."""
    import torch

    torch.set_num_threads(args.threads)
    rows = make_rows(args.pairs, 0)
    trainer = make_trainers(Path(args.model_dir), rows, args, which=(args.child,))[args.child]
    batches = batches_for(trainer, args.steps, args.batch)
    if args.child == "trl":
        batches = [{k: v for k, v in b.items() if k != "weight"} for b in batches]
    one_step(trainer, batches[0], args.child == "weighted")  # warm-up: optimizer state exists
    import gc

    gc.collect()
    base = _rss_kib()
    peak = [base]
    stop = threading.Event()

    def sample() -> None:  # the process-wide ru_maxrss peaks during setup, so sample the RSS
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_kib())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for b in batches:
        one_step(trainer, b, args.child == "weighted")
    stop.set()
    sampler.join()
    print(
        json.dumps(
            {
                "base_kib": base,
                "peak_kib": peak[0],
                "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def _rss_kib() -> int:
    """Current resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--pairs", type=int, default=32)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=3, help="timed optimizer steps per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--child", choices=("weighted", "trl"), help=argparse.SUPPRESS)
    p.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    import torch

    torch.set_num_threads(args.threads)
    rows = make_rows(args.pairs, 0)
    model_dir = build_model(Path(tempfile.mkdtemp()) / "bench-model", rows, args)
    trainers = make_trainers(model_dir, rows, args)
    n_params = sum(p.numel() for p in trainers["trl"].model.parameters())
    batches = batches_for(trainers["weighted"], args.steps, args.batch)
    plain = [{k: v for k, v in b.items() if k != "weight"} for b in batches]
    tokens_per_round = sum(int(b["attention_mask"].sum()) for b in batches)
    for name in ("weighted", "trl"):  # warm-up step each (allocator, lazy init)
        one_step(trainers[name], batches[0] if name == "weighted" else plain[0], name == "weighted")
    # Paired measurements: within each round both trainers run the same steps back to back (order
    # alternating), timed by wall clock and by this process's CPU time. On a machine shared with
    # other jobs the wall clock mostly measures the neighbours; CPU time measures our work.
    wall = {"weighted": [], "trl": []}
    cpu = {"weighted": [], "trl": []}
    for r in range(args.rounds):
        order = ("weighted", "trl") if r % 2 == 0 else ("trl", "weighted")
        for name in order:
            data = batches if name == "weighted" else plain
            w0, c0 = time.perf_counter(), time.process_time()
            for b in data:
                one_step(trainers[name], b, name == "weighted")
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)

    mem = {}
    for name in ("weighted", "trl"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--model-dir",
                str(model_dir),
                "--hidden",
                str(args.hidden),
                "--layers",
                str(args.layers),
                "--pairs",
                str(args.pairs),
                "--batch",
                str(args.batch),
                "--steps",
                str(args.steps),
                "--threads",
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ,
        )
        mem[name] = json.loads(out.stdout.strip().splitlines()[-1])

    tokens = tokens_per_round * args.rounds
    tps_cpu = {k: tokens / sum(v) for k, v in cpu.items()}
    tps_wall = {k: tokens / sum(v) for k, v in wall.items()}
    print(
        f"model: Llama {args.layers} layers x {args.hidden} hidden, {n_params / 1e6:.1f}M "
        f"parameters, random init; {args.pairs} pairs, batch {args.batch}, {tokens_per_round} "
        f"tokens per round of {args.steps} optimizer steps; {args.rounds} rounds alternating the "
        f"order; torch threads {args.threads}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    labels = {"trl": "TRL DPOTrainer (unweighted)", "weighted": "pluralign weighted DPO"}
    for name, label in labels.items():
        growth = (mem[name]["peak_kib"] - mem[name]["base_kib"]) / 1024
        print(
            f"{label:28s} {tps_cpu[name]:8.1f} tokens/CPU-s  {tps_wall[name]:8.1f} tokens/s wall  "
            f"peak RSS {mem[name]['peak_kib'] / 1024:.0f} MiB (+{growth:.0f} MiB in the steps)"
        )
    paired = [t / w for t, w in zip(cpu["trl"], cpu["weighted"], strict=True)]
    ratio = tps_cpu["weighted"] / tps_cpu["trl"]
    print(
        f"throughput ratio weighted/unweighted: {ratio:.3f} by CPU time (per-round: "
        f"{', '.join(f'{x:.3f}' for x in paired)}; median {statistics.median(paired):.3f}), "
        f"{tps_wall['weighted'] / tps_wall['trl']:.3f} by wall clock; target >= 0.95: "
        f"{'met' if ratio >= 0.95 else 'NOT met'}"
    )
    ratio_mem = mem["weighted"]["peak_kib"] / mem["trl"]["peak_kib"]
    print(f"peak RSS ratio weighted/unweighted: {ratio_mem:.3f}")


if __name__ == "__main__":
    main()
