"""The embedded SmolLM2-135M-Instruct on the CPU: training, generation, loading and serving, each
against its peer in the same run.

    PYTHONPATH=src python benchmarks/real_model.py                  # everything (~10 min, 2 cores)
    PYTHONPATH=src python benchmarks/real_model.py --only serve --prefill padded  # the old prefill

1. **Training** (``train``): LoRA weighted DPO of pluralign (completion-only LM head, reference
   log-probabilities computed once, identical pairs merged, each pair folded with its reverse)
   against stock TRL ``DPOTrainer``, like for like: the same pairs (the prompt bank's, each
   repeated ``--repeat`` times as a panel's members repeat them), the same ``--max-length``, the
   same LoRA (pluralign's defaults: r=8, alpha 16, no dropout, every linear layer), batch size,
   steps, learning rate, beta and seed; TRL keeps its default reference (the disabled adapter at
   every step: its ``precompute_ref_log_probs`` would run the reference over every pair of the
   data before the first step). Each time includes its reference pass. Printed: pairs/s and
   tokens/s (prompt + reply tokens of chosen and rejected), the time one epoch of the data takes
   (pluralign's epoch runs over the merged rows), and what differs.
2. **Generation** (``gen``): greedy answers to ``--prompts`` prompts, one at a time vs one
   batch (left-padded, KV cache), ``--new-tokens`` each: generated tokens/s; the two outputs are
   compared token for token.
3. **Loading** (``load``): the GGUF through transformers (what every load would cost without the
   cache), the one-time conversion into a fresh cache folder, and a load of the converted
   checkpoint.
4. **Serving** (``serve``): ``pluralign serve``'s app on a loopback port; ``--prompts`` chat
   requests sent by one client, then by 8 clients at once, each sending its next request as soon
   as its answer is back (continuous batching: a request joins the running batch at its next step
   and is answered when its own row ends). Both arms run in one process with the same
   ``--threads`` (2 by default; the generating thread's count is printed). Printed per arm:
   completion tokens / wall seconds, the decoding steps and mean rows per step, and the seconds
   spent decoding, prefilling (with the number of prefills) and neither (HTTP, waiting).

Targets (issue 17): training throughput >= stock TRL's; batched generation >= 4x one at a time;
serve at 8 concurrent >= 4x one at a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QUESTIONS = [
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "Should an AI assistant pretend to be my boyfriend?",
    "Give me one tip for a job interview.",
    "Explain photosynthesis to a child.",
    "Is it okay to lie to protect a friend's feelings?",
    "What should I cook tonight?",
    "How do I politely decline an invitation?",
    "Why is the sky blue?",
    "Suggest a name for a cat.",
    "What is a good way to learn a language?",
    "How can a city make buses fairer?",
    "Summarise the plot of Romeo and Juliet.",
    "What is 17 times 3?",
    "Tell me a fact about octopuses.",
    "Should schools start later in the morning?",
]


def bank_rows(repeat: int) -> list[dict]:
    """Each prompt-bank pair in both orders (the agreeing response chosen, and the reverse),
    each repeated ``repeat`` times with varied weights: a panel's choices."""
    from pluralign.data.prompt_bank import load_bank

    rows = []
    for i, p in enumerate(load_bank()):
        agree, disagree = p.by_stance("agree"), p.by_stance("disagree")
        if not agree or not disagree:
            continue
        for k in range(repeat):
            good, bad = (agree[0], disagree[0]) if k % 4 else (disagree[0], agree[0])
            rows.append({"prompt": p.prompt, "chosen": good.text, "rejected": bad.text,
                         "weight": 0.5 + ((i + k) % 5) / 4})
    return rows


def _tokens(rows, tokenizer) -> float:
    """Mean prompt + reply tokens of chosen and rejected per pair (chat template applied)."""
    from pluralign.train.margins import encode_completion

    total = 0
    for r in rows:
        for reply in (r["chosen"], r["rejected"]):
            p, c = encode_completion(tokenizer, r["prompt"], reply)
            total += len(p) + len(c)
    return total / len(rows)


def bench_train(args, ckpt: Path) -> None:
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from pluralign.train import quiet_libraries, train_preferences
    from pluralign.train.rows import load_rows, merge_duplicates, merge_reverses, paired_dataset
    from pluralign.train.settings import TrainSettings

    quiet_libraries()
    rows = bank_rows(args.repeat)
    merged, _ = merge_reverses(merge_duplicates(load_rows(rows)))
    tok = AutoTokenizer.from_pretrained(ckpt)
    per_pair = _tokens(rows, tok)
    pairs = args.steps * args.batch
    defaults = TrainSettings()
    same = {"max_steps": args.steps, "per_device_train_batch_size": args.batch,
            "learning_rate": 1e-3, "warmup_steps": 0, "max_length": args.max_length, "seed": 0,
            "beta": defaults.beta}
    tmp = Path(tempfile.mkdtemp(prefix="pluralign-bench-train-"))
    cfg = {"lora": True, "save_steps": 0, "precompute_ref_log_probs": True, "sft_weight": 0.0,
           "torch_threads": args.threads, "warmup_ratio": 0.0,
           **{k: v for k, v in same.items() if k != "warmup_steps"}}
    t0 = time.perf_counter()
    train_preferences(rows, ckpt, cfg, tmp / "pluralign")
    timings = {"pluralign weighted DPO": (time.perf_counter() - t0, len(merged))}

    # the same LoRA as pluralign's defaults (r, alpha, dropout, every linear layer)
    lora = LoraConfig(r=defaults.lora_r, lora_alpha=defaults.lora_alpha,
                      lora_dropout=defaults.lora_dropout, target_modules="all-linear",
                      task_type="CAUSAL_LM")
    stock_args = DPOConfig(output_dir=str(tmp / "trl"), use_cpu=True, report_to=[],
                           save_strategy="no", disable_tqdm=True, logging_steps=args.steps,
                           **same)
    trainer = DPOTrainer(model=str(ckpt), args=stock_args, processing_class=tok,
                         train_dataset=paired_dataset(load_rows(rows), True), peft_config=lora)
    t0 = time.perf_counter()
    trainer.train()  # TRL tokenises in __init__: not counted
    timings["stock TRL DPOTrainer"] = (time.perf_counter() - t0, len(rows))
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n## training: {args.steps} steps x {args.batch} rows, {per_pair:.0f} tokens/row "
          f"(prompt + chosen + rejected, chat template), {len(rows)} pairs")
    print(f"the same for all: the {len(rows)} pairs, max_length {args.max_length}, LoRA r="
          f"{lora.r} alpha={lora.lora_alpha} dropout={lora.lora_dropout} on all linear layers, "
          f"batch {args.batch}, {args.steps} steps, lr 1e-3 without warm-up, beta {same['beta']}, "
          "sigmoid loss, seed 0, fp32 on the CPU")
    print(f"what differs: pluralign merges identical pairs and folds each pair with its reverse "
          f"({len(rows)} pairs -> {len(merged)} rows, one forward pass for both orders), runs "
          "the LM head only at reply positions, weights the loss, and computes the reference "
          "log-probabilities once before training (counted); stock TRL runs the LM head over "
          "every position and, with its default precompute_ref_log_probs=False, the reference "
          "(adapter disabled) at every step; TRL's precompute would run the reference over all "
          f"{len(rows)} pairs before step 1, more than {args.steps} steps use")
    print("rows/s and tokens/s: rows (and their tokens) through the model per second; "
          "pairs/s: the data's preference pairs covered per second; epoch s: one pass over all")
    print(f"{'':28s}{'seconds':>9s}{'rows/s':>8s}{'tokens/s':>10s}{'pairs/s':>9s}{'epoch s':>9s}")
    covered = {}
    for name, (secs, epoch_rows) in timings.items():
        rate = pairs / secs
        covered[name] = rate * len(rows) / epoch_rows  # pairs of the data per second
        print(f"{name:28s}{secs:9.1f}{rate:8.2f}{rate * per_pair:10.0f}{covered[name]:9.2f}"
              f"{epoch_rows / rate:9.0f}")
    ours = timings["pluralign weighted DPO"][0]
    name = "stock TRL DPOTrainer"
    print(f"pluralign / {name}: rows/s {timings[name][0] / ours:.2f}x, pairs of the data "
          f"per second {covered['pluralign weighted DPO'] / covered[name]:.1f}x (target >= 1)")


def _requests(tok, n: int, new_tokens: int):
    from pluralign.models.generate import GenerationRequest, chat_prompt_ids

    qs = [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]
    return [GenerationRequest(chat_prompt_ids(tok, [{"role": "user", "content": q}]), new_tokens)
            for q in qs]


def bench_gen(args, model, tok) -> None:
    from pluralign.models.generate import end_token_ids, generate_batch

    kw = {"end_ids": end_token_ids(model, tok), "pad_id": tok.pad_token_id}
    reqs = _requests(tok, args.prompts, args.new_tokens)
    generate_batch(model, reqs[:1], **kw)  # warm-up
    t0 = time.perf_counter()
    single = [generate_batch(model, [r], **kw)[0] for r in reqs]
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = generate_batch(model, reqs, **kw)
    t_batch = time.perf_counter() - t0
    n_single = sum(len(g.token_ids) for g in single)
    n_batch = sum(len(g.token_ids) for g in batched)
    print(f"\n## generation: {len(reqs)} prompts, up to {args.new_tokens} new tokens, greedy")
    print(f"one at a time: {n_single} tokens in {t_single:.1f} s = {n_single / t_single:.1f} tok/s")
    print(f"one batch:     {n_batch} tokens in {t_batch:.1f} s = {n_batch / t_batch:.1f} tok/s")
    print(f"ratio batched / single: {(n_batch / t_batch) / (n_single / t_single):.1f}x "
          f"(target >= 4); outputs identical: {single == batched}")


def bench_load(args) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from pluralign.models import embedded as E

    gguf = E.find_gguf()
    t0 = time.perf_counter()
    AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                         dtype=torch.float32)
    t_gguf = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="pluralign-bench-cache-"))
    old = os.environ.get(E.CACHE_ENV)
    os.environ[E.CACHE_ENV] = str(tmp)
    try:
        t0 = time.perf_counter()
        path = E.embedded_checkpoint()
        t_convert = time.perf_counter() - t0
        E._verified.clear()
        t0 = time.perf_counter()
        path = E.embedded_checkpoint()
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        t_cached = time.perf_counter() - t0
    finally:
        if old is None:
            os.environ.pop(E.CACHE_ENV, None)
        else:
            os.environ[E.CACHE_ENV] = old
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n## loading")
    print(f"GGUF through transformers (every load without the cache): {t_gguf:.1f} s")
    print(f"cold: verify + convert once into a fresh cache:            {t_convert:.1f} s")
    print(f"cached: verify + load the converted checkpoint:            {t_cached:.2f} s")
    print(f"ratio GGUF load / cached load: {t_gguf / t_cached:.0f}x")


def stats_of(model) -> dict:
    """The batcher's counters (steps, rows summed over steps, prefills and their seconds)."""
    return model.batcher.stats


def bench_serve(args, ckpt: Path) -> None:
    import socket
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import uvicorn

    from pluralign.llm.local import LocalModel
    from pluralign.llm.serve import create_app

    model = LocalModel("smollm2")
    app = create_app(model, "smollm2")
    bodies = [{"messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
               "max_tokens": args.new_tokens, "temperature": 0} for i in range(args.prompts)]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with httpx.Client(timeout=600) as client:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"

        def send(body) -> int:
            r = client.post(url, json=body)
            r.raise_for_status()
            return r.json()["usage"]["completion_tokens"]

        send(bodies[0])  # warm-up
        print(f"\n## serve: {len(bodies)} chat requests, max_tokens {args.new_tokens}, greedy; "
              f"{args.threads or 'default'} torch threads asked, "
              f"{stats_of(model)['torch_threads']} in the generating thread")
        rates = {}
        for workers in (1, 8):
            before = dict(stats_of(model))
            t0 = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:  # each client sends its next when answered
                tokens = sum(pool.map(send, bodies))
            secs = time.perf_counter() - t0
            rates[workers] = tokens / secs
            d = {k: v - before[k] for k, v in stats_of(model).items() if k in before}
            mean = d["row_steps"] / max(1, d["steps"])
            print(f"{workers} at a time: {tokens} tokens in {secs:.1f} s = {rates[workers]:.1f} "
                  f"tok/s; {d['steps']} decoding steps, {mean:.1f} rows per step on average, "
                  f"{d['decode_s']:.1f} s decoding ({1000 * d['decode_s'] / max(1, d['steps']):.0f}"
                  f" ms a step); {d['admissions']} prefills, {d['prefill_s']:.1f} s; "
                  f"{secs - d['decode_s'] - d['prefill_s']:.1f} s neither")
    server.should_exit = True
    thread.join(timeout=10)
    model.close()
    print(f"ratio 8 concurrent / 1: {rates[8] / rates[1]:.1f}x (target >= 4)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="train,gen,load,serve")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (both arms alike)")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=192, help="training: prompt + reply")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--prefill", choices=["packed", "padded"], default="packed",
                    help="gen/serve: rows admitted together packed into one sequence (checked "
                         "once against the padded prefill) or left-padded")
    ap.add_argument("--new-tokens", type=int, default=48)
    args = ap.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pluralign.models import embedded_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    from pluralign.models import generate

    generate.PACKED_PREFILL = None if args.prefill == "packed" else False
    parts = set(args.only.split(","))
    ckpt = embedded_checkpoint()
    print(f"# {ckpt.name}, torch threads {torch.get_num_threads()}, {args.prefill} prefill, "
          f"load {os.getloadavg()}")
    if "load" in parts:
        bench_load(args)
    if "gen" in parts:
        model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32).eval()
        bench_gen(args, model, AutoTokenizer.from_pretrained(ckpt))
        del model
    if "serve" in parts:
        bench_serve(args, ckpt)
    if "train" in parts:
        bench_train(args, ckpt)
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
