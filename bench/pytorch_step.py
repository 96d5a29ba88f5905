#!/usr/bin/env python3
"""PyTorch's figure beside `npm run bench`'s training step (issue 16): the book's model (chapter 4,
from bench/pytorch_book_run.py: gpt2-small's layout, context 256, untied head, no q/k/v bias,
dropout 0.1), batch 2 x 256 random token ids, AdamW lr 4e-4 and weight decay 0.1, as
bench/run.mjs's trainStep. Prints one JSON line: the median step's seconds and tokens/s over
--steps steps after one warm-up, the threads, the BLAS torch calls, and the peak RSS in MB.

Debian's torch calls the reference BLAS unless an OpenBLAS libblas.so.3 comes first on
LD_LIBRARY_PATH (bench/peers/pytorch.mjs finds one); the BLAS line says which one ran.

Usage: /usr/bin/python3 bench/pytorch_step.py [--steps 3] [--threads N]
Exits 2 with one line when torch is missing.
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_book_run import GPTModel, book_config  # noqa: E402  (exits 2 without torch)

import torch  # noqa: E402


def blas_library():
    """The libblas torch's process mapped (reference or OpenBLAS), from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1] for line in f if "blas" in line}
        return ", ".join(sorted(os.path.basename(os.path.dirname(n)) + "/" + os.path.basename(n) for n in names)) or "unknown"
    except OSError:
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(123)
    model = GPTModel(book_config(0.1))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    batch, tokens = 2, 256

    def step():
        inputs = torch.randint(0, 50257, (batch, tokens))
        targets = torch.randint(0, 50257, (batch, tokens))
        optimizer.zero_grad()
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        loss.backward()
        optimizer.step()
        return loss.item()

    step()
    times = []
    for _ in range(args.steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    seconds = sorted(times)[len(times) // 2]
    print(json.dumps({
        "seconds": seconds, "tokensPerSecond": batch * tokens / seconds, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "blas": blas_library(),
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
