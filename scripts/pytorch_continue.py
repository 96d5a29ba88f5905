#!/usr/bin/env python3
"""Continue a mini-gpt training run on PyTorch's distributed engine, and hand it back.

    torchrun --standalone --nproc_per_node N scripts/pytorch_continue.py \
        --run RUN_DIR --data TEXT_OR_SHARDS --out OUT_DIR --max-steps N

Loads a mini-gpt run folder (checkpoint/: config.json and model.safetensors in the Hugging Face
GPT-2 layout, optimizer.safetensors with AdamW's moments "m.<name>" / "v.<name>", and
trainer_state.json with the step count, the data position and the run's settings), continues
training with DistributedDataParallel (gloo on CPUs, nccl on GPUs) up to --max-steps optimizer
steps in all (counted from the run's start, as mini-gpt's --max-steps), prints one JSON line
per step, and writes OUT_DIR in mini-gpt's layout: `mini-gpt train --resume OUT_DIR` continues
it, `mini-gpt generate --model OUT_DIR` and transformers' GPT2LMHeadModel.from_pretrained(
"OUT_DIR/checkpoint") load it. model.safetensors carries __metadata__ {"format": "pt"}.

Written from the PyTorch and safetensors documentation; runs on torch 1.13 and 2.x, and needs
numpy only (safetensors files are read and written here: an 8-byte little-endian header length,
a JSON header, the raw tensors).

The data: a folder of token shards (mini-gpt prepare: llm.c's .bin layout, uint16 after a
1024-byte header) is read through numpy memmaps. A text file is tokenized by mini-gpt's own
`prepare` (node, from this repository) into OUT_DIR/data, with the run's validation share.
The order of the windows is PyTorch's own seeded shuffle (not mini-gpt's): the data position
carried over is the count of windows seen in the epoch, not the same windows.
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

SHARD_MAGIC = 20240520
HEADER_BYTES = 1024
DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


# ---- safetensors ---------------------------------------------------------------------------

def read_safetensors(path):
    """{name: float32 tensor} and the __metadata__ dict of a safetensors file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            raw = np.frombuffer(data[start:end], dtype=np.uint16).astype(np.uint32) << 16
            array = raw.view(np.float32)
        else:
            array = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).astype(np.float32)
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return tensors, header.get("__metadata__")


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors (in the order given) atomically: a temporary file, then a rename."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        blob = tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


# ---- the model: GPT-2 with the Hugging Face parameter names ----------------------------------

class Conv1D(nn.Module):
    """GPT-2's linear layer: y = x @ weight + bias, weight (in, out) as in the checkpoint."""

    def __init__(self, n_in, n_out, bias_trainable=True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out), requires_grad=bias_trainable)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.heads = c["n_head"]
        # Without qkv bias (the book's default) the bias stays zero, as mini-gpt writes it.
        self.c_attn = Conv1D(d, 3 * d, bias_trainable=bool(c.get("qkv_bias", True)))
        self.c_proj = Conv1D(d, d)
        self.attn_drop = nn.Dropout(c["attn_pdrop"])
        self.resid_drop = nn.Dropout(c["resid_pdrop"])

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        weights = self.attn_drop(torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1))
        y = (weights @ v).transpose(1, 2).reshape(b, t, d)
        return self.resid_drop(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.c_fc = Conv1D(d, c.get("n_inner") or 4 * d)
        self.c_proj = Conv1D(c.get("n_inner") or 4 * d, d)
        self.drop = nn.Dropout(c["resid_pdrop"])

    def forward(self, x):
        return self.drop(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c.get("layer_norm_epsilon", 1e-5)
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=eps)
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=eps)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """GPT-2 whose state_dict names are those of mini-gpt's model.safetensors (wte.weight, h.0.…)."""

    def __init__(self, c):
        super().__init__()
        self.tied = bool(c.get("tie_word_embeddings", True))
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.drop = nn.Dropout(c["embd_pdrop"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c.get("layer_norm_epsilon", 1e-5))
        if not self.tied:
            self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(positions))
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return x @ (self.wte.weight if self.tied else self.lm_head.weight).t()


# ---- data -------------------------------------------------------------------------------------

class Shards:
    """The shards of one split as one stream of uint16 tokens (numpy memmaps: nothing read up front)."""

    def __init__(self, files):
        self.maps = []
        self.offsets = []
        total = 0
        for path in files:
            header = np.fromfile(path, dtype=np.int32, count=256)
            if len(header) < 3 or header[0] != SHARD_MAGIC or header[1] != 1:
                sys.exit(f"error: {path}: not a token shard (llm.c header, magic {SHARD_MAGIC}, version 1)")
            self.offsets.append(total)
            self.maps.append(np.memmap(path, dtype=np.uint16, mode="r", offset=HEADER_BYTES, shape=(int(header[2]),)))
            total += int(header[2])
        self.tokens = total

    def read(self, start, count):
        out = np.empty(count, dtype=np.int64)
        done = 0
        for offset, tokens in zip(self.offsets, self.maps):
            lo = max(start + done - offset, 0)
            if lo >= len(tokens) or done == count:
                continue
            n = min(count - done, len(tokens) - lo)
            out[done : done + n] = tokens[lo : lo + n]
            done += n
        return out


def shard_files(folder, split):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith(split + "_") and f.endswith(".bin"))


def prepare_text(path, out, val_share, rank):
    """Shards of a text file, by mini-gpt's own prepare (node, from this repository) into OUT/data."""
    folder = os.path.join(out, "data")
    if rank == 0 and not os.path.exists(os.path.join(folder, "manifest.json")):
        shutil.rmtree(folder, ignore_errors=True)
        cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packages", "cli", "bin", "mini-gpt.js")
        subprocess.run(
            ["node", cli, "prepare", path, "--out", folder, "--val-share", str(val_share), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if dist.is_initialized():
        dist.barrier()
    return folder


# ---- the run ----------------------------------------------------------------------------------

def learning_rate(step, f, total):
    """mini-gpt's schedule (optimizer.ts learningRate): linear warmup, then constant or cosine."""
    lr = f["lr"]
    warmup = f.get("warmupSteps") or 0
    if step < warmup:
        initial = f.get("initialLr") or 0
        return initial + (lr - initial) * (step + 1) / warmup
    if not f.get("cosine"):
        return lr
    progress = min(1, (step - warmup) / max(1, total - warmup))
    low = f.get("minLr") if f.get("minLr") is not None else 0.1 * lr
    return low + (lr - low) * 0.5 * (1 + math.cos(math.pi * progress))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="a mini-gpt run folder (with checkpoint/)")
    parser.add_argument("--data", required=True, help="a token shard folder (mini-gpt prepare) or a text file")
    parser.add_argument("--out", required=True, help="the run folder to write (mini-gpt's layout)")
    parser.add_argument("--max-steps", type=int, required=True, help="optimizer steps in all, from the run's start")
    args = parser.parse_args()

    distributed = "RANK" in os.environ
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        torch.cuda.set_device(device)

    source = os.path.join(args.run, "checkpoint")
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(source, "trainer_state.json")) as f:
        trainer = json.load(f)
    if not trainer.get("optimizerState"):
        sys.exit(f"error: {args.run}: saved without its optimizer state (--no-optimizer-state); it cannot be continued")
    state = trainer["state"]
    flags = trainer["extra"]["flags"]
    if args.max_steps <= state["steps"]:
        sys.exit(f"error: --max-steps {args.max_steps}: the run has done {state['steps']} steps already; give more")

    model = GPT(config).to(device)
    weights, _ = read_safetensors(os.path.join(source, "model.safetensors"))
    names = dict(model.named_parameters())
    missing = [n for n in names if n not in weights]
    if missing:
        sys.exit(f"error: {source}/model.safetensors lacks {missing[0]} (and {len(missing) - 1} more)")
    with torch.no_grad():
        for name, p in names.items():
            p.copy_(weights[name].reshape(p.shape))
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    hyper = trainer["optimizer"]
    optimizer = torch.optim.AdamW(
        [p for _, p in trained],
        lr=hyper["lr"],
        betas=tuple(hyper["betas"]),
        eps=hyper["eps"],
        weight_decay=hyper["weightDecay"],
    )
    moments, _ = read_safetensors(os.path.join(source, "optimizer.safetensors"))
    for name, p in trained:
        optimizer.state[p] = {
            "step": torch.tensor(float(hyper["step"])),
            "exp_avg": moments[f"m.{name}"].reshape(p.shape).to(device),
            "exp_avg_sq": moments[f"v.{name}"].reshape(p.shape).to(device),
        }
    ddp = DDP(model) if distributed else model

    folder = args.data
    if not os.path.isdir(folder):
        folder = prepare_text(os.path.abspath(args.data), args.out, round(1 - flags["trainRatio"], 6), rank)
    train_data = Shards(shard_files(folder, "train"))
    val_data = Shards(shard_files(folder, "val"))
    context = flags["contextLength"]
    stride = flags.get("stride") or context
    windows = max(0, (train_data.tokens - context - 1) // stride + 1)
    batch = flags["batchSize"]
    accum = flags.get("gradAccum") or 1
    per_step = batch * accum * world  # windows per optimizer step, all ranks together
    steps_per_epoch = windows // per_step
    if steps_per_epoch == 0:
        sys.exit(f"error: --data {args.data}: {windows} windows, fewer than one step's {per_step}")

    def windows_at(indices, data):
        rows = [data.read(int(i) * stride, context + 1) for i in indices]
        x = torch.from_numpy(np.stack(rows)).to(device)
        return x[:, :-1], x[:, 1:]

    epoch, position = state["epoch"], state["batch"] * batch  # mini-gpt's batches -> windows seen
    steps, tokens_seen = state["steps"], state["tokensSeen"]
    total = args.max_steps
    recent = []
    started = time.time()
    tokens_here = 0
    ddp.train()
    order, order_epoch = None, None
    while steps < args.max_steps:
        if position + per_step > steps_per_epoch * per_step:
            epoch, position = epoch + 1, 0
        if order_epoch != epoch:
            order = torch.randperm(windows, generator=torch.Generator().manual_seed(flags["seed"] * 1000 + epoch))
            order_epoch = epoch
        step_windows = order[position : position + per_step]
        lr = learning_rate(steps, flags, total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=device)
        for k in range(accum):
            mine = step_windows[(k * world + rank) * batch : (k * world + rank + 1) * batch]
            x, y = windows_at(mine, train_data)
            sync = k == accum - 1 or not distributed
            context_manager = ddp.no_sync() if not sync else _null()
            with context_manager:
                loss = F.cross_entropy(ddp(x).flatten(0, 1), y.flatten())
                (loss / accum).backward()
            loss_sum += loss.detach() / accum
        if flags.get("gradClip"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), flags["gradClip"])
        optimizer.step()
        if distributed:
            dist.all_reduce(loss_sum)
            loss_sum /= world
        value = float(loss_sum)
        if not math.isfinite(value):
            sys.exit(f"error: the loss became {value} at step {steps}; nothing written")
        step_tokens = per_step * context
        tokens_seen += step_tokens
        tokens_here += step_tokens
        position += per_step
        recent.append(value)
        if rank == 0:
            rate = tokens_here / max(time.time() - started, 1e-9)
            print(json.dumps({"step": steps, "loss": value, "lr": lr, "tokens_per_s": round(rate, 1)}), flush=True)
        steps += 1

    # One evaluation at the end (rank 0, dropout off), appended to the run's loss history.
    if rank == 0:
        model.eval()
        val_windows = max(0, (val_data.tokens - context - 1) // stride + 1) if val_data.maps else 0
        count = min(val_windows, batch * flags.get("evalIter", 5))
        with torch.no_grad():
            if count > 0:
                x, y = windows_at(range(count), val_data)
                val_loss = float(F.cross_entropy(model(x).flatten(0, 1), y.flatten()))
            else:
                val_loss = float("nan")
        recent_mean = sum(recent[-5:]) / len(recent[-5:])
        state = dict(state)
        state["history"] = list(state["history"]) + [
            {"step": steps - 1, "epoch": epoch + 1, "tokensSeen": tokens_seen, "trainLoss": recent_mean, "valLoss": val_loss}
        ]
        state.update(
            epoch=epoch,
            batch=min(position // batch, steps_per_epoch * accum * world),
            steps=steps,
            tokensSeen=tokens_seen,
        )
        write_run(args, source, config, trainer, state, model, optimizer, trained, folder)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def write_run(args, source, config, trainer, state, model, optimizer, trained, folder):
    """OUT_DIR/checkpoint in mini-gpt's layout, written beside and then swapped in whole."""
    os.makedirs(args.out, exist_ok=True)
    final = os.path.join(args.out, "checkpoint")
    staging = os.path.join(args.out, "checkpoint.saving-torch")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    shutil.copyfile(os.path.join(source, "config.json"), os.path.join(staging, "config.json"))
    tensors = {name: p for name, p in model.state_dict().items()}
    write_safetensors(os.path.join(staging, "model.safetensors"), tensors, {"format": "pt"})
    moments = {}
    for name, p in trained:
        moments[f"m.{name}"] = optimizer.state[p]["exp_avg"]
        moments[f"v.{name}"] = optimizer.state[p]["exp_avg_sq"]
    write_safetensors(os.path.join(staging, "optimizer.safetensors"), moments)
    step = int(float(optimizer.state[trained[0][1]]["step"]))
    out = dict(trainer)
    out["state"] = state
    out["optimizer"] = dict(trainer["optimizer"], step=step)
    flags = dict(trainer["extra"]["flags"], maxSteps=args.max_steps, out=os.path.abspath(args.out))
    data_path = os.path.abspath(folder if os.path.isdir(args.data) else args.data)
    flags["data"] = data_path
    out["extra"] = dict(trainer["extra"], flags=flags, dataPath=data_path)
    with open(os.path.join(staging, "trainer_state.json"), "w") as f:
        json.dump(out, f, indent=2)
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(staging, final)


if __name__ == "__main__":
    main()
