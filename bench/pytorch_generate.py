#!/usr/bin/env python3
"""PyTorch's figure beside `npm run bench`'s generate_50_cache_124m (issue 16): greedy decoding
of --tokens new tokens with a KV cache (each layer's keys and values kept and grown with
torch.cat, as Hugging Face's past_key_values), on the book's model (bench/pytorch_book_run.py:
gpt2-small's layout, context 256, untied head, no q/k/v bias), in eval mode under
torch.no_grad(). The prompt's token ids come from the command line (GPT-2 BPE from mini-gpt:
Debian's Python has no tiktoken). Prints one JSON line: seconds and tokens/s of the median of
--runs timed runs after one warm-up (the prompt's forward included, as in bench/run.mjs), the
threads, the BLAS and the generated ids.

Usage: /usr/bin/python3 bench/pytorch_generate.py --prompt-ids 6109,3626,6100,345 [--tokens 50] [--runs 1]
Exits 2 with one line when torch is missing.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_book_run import GPTModel, book_config  # noqa: E402  (exits 2 without torch)
from pytorch_step import blas_library  # noqa: E402

import torch  # noqa: E402


def forward_cached(model, ids, cache, past):
    """Logits (1, V) of the last of `ids` (1, t), positions past..past+t-1; appends to `cache`."""
    _, t = ids.shape
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(past, past + t))
    for layer, block in enumerate(model.trf_blocks):
        att = block.att
        h = block.norm1(x)
        split = lambda y: y.view(1, t, att.num_heads, att.head_dim).transpose(1, 2)  # (1, nh, t, hs)
        q, k, v = split(att.W_query(h)), split(att.W_key(h)), split(att.W_value(h))
        if cache[layer] is not None:
            k = torch.cat([cache[layer][0], k], dim=2)  # (1, nh, past + t, hs)
            v = torch.cat([cache[layer][1], v], dim=2)
        cache[layer] = (k, v)
        scores = q @ k.transpose(2, 3) / att.head_dim ** 0.5  # (1, nh, t, past + t)
        if t > 1:  # the prompt: position i sees keys 0..past+i
            scores.masked_fill_(torch.ones(t, past + t, dtype=torch.bool).triu(past + 1), -torch.inf)
        context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(1, t, att.d_out)
        x = x + att.out_proj(context)
        x = x + block.ff(block.norm2(x))
    return model.out_head(model.final_norm(x[:, -1]))


def generate(model, prompt, tokens):
    cache = [None] * len(model.trf_blocks)
    ids = list(prompt)
    logits = forward_cached(model, torch.tensor([ids]), cache, 0)
    for _ in range(tokens):
        ids.append(int(logits.argmax(dim=-1)))
        if len(ids) == tokens + len(prompt):
            break
        logits = forward_cached(model, torch.tensor([ids[-1:]]), cache, len(ids) - 1)
    return ids[len(prompt):]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompt-ids", required=True, help="comma-separated token ids")
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    prompt = [int(i) for i in args.prompt_ids.split(",")]
    torch.manual_seed(123)
    model = GPTModel(book_config(0.0)).eval()
    times = []
    with torch.no_grad():
        generate(model, prompt, args.tokens)  # warm-up
        for _ in range(args.runs):
            started = time.perf_counter()
            ids = generate(model, prompt, args.tokens)
            times.append(time.perf_counter() - started)
    seconds = sorted(times)[len(times) // 2]
    print(json.dumps({
        "seconds": seconds, "tokensPerSecond": args.tokens / seconds, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "blas": blas_library(), "ids": ids,
    }))


if __name__ == "__main__":
    main()
