#!/usr/bin/env python3
"""The PyTorch CUDA peer of `npm run bench -- --webgpu` (the GPU bundle's `run.sh --webgpu`):
the same shapes as bench/webgpu-host.mjs on the same GPU, eager PyTorch.

- train_step_124m pytorch-cuda: the book's model (bench/pytorch_book_run.py: gpt2-small's layout,
  context 256, untied head, no q/k/v bias, dropout 0.1), batch 2 x 256 random ids, AdamW lr 4e-4
  and weight decay 0.1, float32 with TF32 off (matmuls and cuDNN);
- train_step_124m pytorch-cuda-bf16: the same step under torch.autocast(bfloat16);
- generate_50_cache_124m pytorch-cuda: cached greedy decoding of 50 tokens (a KV cache grown with
  torch.cat, the prompt's forward included, one .item() a token as the host needs the id), float32.

Each figure is the median of --reps timings after a warm-up, with torch.cuda.synchronize() around
each. Prints lines as bench/run.mjs does (`name backend: value unit (note)`), naming the GPU.
Exits 2 with one line when torch or CUDA is missing.

Usage: python3 bench/peers/pytorch_cuda.py [--reps 5] [--steps 5] [--tokens 50]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pytorch_book_run import GPTModel, book_config  # noqa: E402  (exits 2 without torch)

import torch  # noqa: E402

PROMPT = [6109, 3626, 6100, 345]  # "Every effort moves you"


def report(name, backend, value, unit, note):
    print(f"{name} {backend}: {float(f'{value:.4g}')} {unit} ({note})", flush=True)


def median(xs):
    return sorted(xs)[len(xs) // 2]


def timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return median(times)


def train_lines(gpu, reps, steps):
    for autocast, backend in ((False, "pytorch-cuda"), (True, "pytorch-cuda-bf16")):
        torch.manual_seed(123)
        model = GPTModel(book_config(0.1)).cuda().train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)

        def step():
            inputs = torch.randint(0, 50257, (2, 256), device="cuda")
            targets = torch.randint(0, 50257, (2, 256), device="cuda")
            optimizer.zero_grad()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                logits = model(inputs)
                loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
            loss.backward()
            optimizer.step()
            return loss

        def run():
            for _ in range(steps):
                step()

        s = timed(run, reps) / steps
        what = "bf16 autocast" if autocast else "float32, TF32 off"
        report("train_step_124m", backend, 512 / s, "tokens/s",
               f"{s * 1000:.1f} ms per step (batch 2 x 256, {steps} steps, median of {reps} after a warm-up); "
               f"PyTorch {torch.__version__} eager, {what}; {gpu}")
        del model, optimizer
        torch.cuda.empty_cache()


def forward_cached(model, ids, cache, past):
    """Logits (1, V) of the last of `ids` (1, t), positions past..past+t-1; appends to `cache`."""
    _, t = ids.shape
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(past, past + t, device=ids.device))
    for layer, block in enumerate(model.trf_blocks):
        att = block.att
        h = block.norm1(x)
        split = lambda y: y.view(1, t, att.num_heads, att.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = split(att.W_query(h)), split(att.W_key(h)), split(att.W_value(h))
        if cache[layer] is not None:
            k = torch.cat([cache[layer][0], k], dim=2)
            v = torch.cat([cache[layer][1], v], dim=2)
        cache[layer] = (k, v)
        scores = q @ k.transpose(2, 3) / att.head_dim ** 0.5
        if t > 1:
            mask = torch.ones(t, past + t, dtype=torch.bool, device=ids.device).triu(past + 1)
            scores.masked_fill_(mask, -torch.inf)
        context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(1, t, att.d_out)
        x = x + att.out_proj(context)
        x = x + block.ff(block.norm2(x))
    return model.out_head(model.final_norm(x[:, -1]))


def decode_lines(gpu, reps, tokens):
    torch.manual_seed(123)
    model = GPTModel(book_config(0.0)).cuda().eval()

    def generate():
        cache = [None] * len(model.trf_blocks)
        ids = list(PROMPT)
        logits = forward_cached(model, torch.tensor([ids], device="cuda"), cache, 0)
        for _ in range(tokens):
            ids.append(int(logits.argmax(dim=-1).item()))  # the host needs the id, as mini-gpt's
            if len(ids) == tokens + len(PROMPT):
                break
            logits = forward_cached(model, torch.tensor([ids[-1:]], device="cuda"), cache, len(ids) - 1)

    with torch.no_grad():
        s = timed(generate, reps)
    report("generate_50_cache_124m", "pytorch-cuda", tokens / s, "tokens/s",
           f"float32 weights, cached greedy, {tokens} tokens, median of {reps} after a warm-up; "
           f"PyTorch {torch.__version__} eager, TF32 off; {gpu}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=50)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("pytorch-cuda peer skipped: torch.cuda.is_available() is False", file=sys.stderr)
        sys.exit(2)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    gpu = torch.cuda.get_device_name(0)
    train_lines(gpu, args.reps, args.steps)
    decode_lines(gpu, args.reps, args.tokens)


if __name__ == "__main__":
    main()
