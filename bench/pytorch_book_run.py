#!/usr/bin/env python3
"""The book's chapter-5 run in PyTorch, written from the book's definitions (issue 15).

An independent implementation to hold mini-gpt's training against: GPTModel of chapter 4 (untied
output head, no q/k/v bias, tanh-approximated GELU, LayerNorm eps 1e-5 with the biased variance,
dropout on the embeddings, the attention weights and both residual branches), AdamW lr 4e-4 and
weight decay 0.1 on every parameter, batch 2, context 256, stride 256, the 90/10 split of
the-verdict.txt, an evaluation every 5 steps on 5 batches (train_model_simple).

Token ids come from a data.json written by bench/book-trajectory.mjs (mini-gpt's GPT-2 BPE,
js-tiktoken): Debian's Python has no tiktoken here, and the ids are the same BPE either way.

  trajectory: load mini-gpt's initial weights (init/model.safetensors), train on the batches in
              data.json's window order, print and write per-step loss, gradient norm and update
              norm (pytorch.jsonl), then compare with mini-gpt.jsonl when it is there. With
              dropout on (book-trajectory.mjs --dropout 0.1), each nn.Dropout of the book's model
              draws mini-gpt's mask: Threefry-2x32-20 under mini-gpt's dropout seed, one stream per
              call in the order the forward makes them. The two runs then differ in nothing
              random, so the trajectories must agree in training mode too.
  book:       the book's own run: torch.manual_seed(seed), PyTorch's initialisation and
              DataLoader shuffling (the training loader reshuffles on every pass, the
              evaluations' passes included, as in the book), for --epochs epochs.

Debian's torch calls the generic (reference) BLAS, about 20x slower than OpenBLAS; for speed:
  apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas
  export LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread

Usage: /usr/bin/python3 bench/pytorch_book_run.py trajectory DIR [--steps N] [--threads N]
       /usr/bin/python3 bench/pytorch_book_run.py book DIR --seed 123 --epochs 4 [--threads N]
       /usr/bin/python3 bench/pytorch_book_run.py book DIR --seed 123 --epochs 0 --save-init FOLDER
         (PyTorch's initial weights as a mini-gpt model folder, for bench/book-from-init.mjs)
Needs torch (Debian: python3-torch); says so and exits 2 without it.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:  # a clear line, not a traceback: the bench runs without PyTorch too
    print("pytorch_book_run.py: PyTorch is not installed for this Python "
          "(Debian: apt-get install python3-torch, then run it with /usr/bin/python3)", file=sys.stderr)
    sys.exit(2)


# ---- mini-gpt's dropout masks (packages/tensor/src/random.ts, cpu/dropout.ts) -------------------

def threefry2x32(k0, k1, c0, c1):
    """Threefry-2x32-20 of uint32 counter arrays (c0, c1) under the key (k0, k1)."""
    import numpy as np
    with np.errstate(over="ignore"):
        ks = [np.uint32(k0), np.uint32(k1), np.uint32(0x1BD11BDA ^ k0 ^ k1)]
        x0, x1 = c0 + ks[0], c1 + ks[1]
        rotations = [13, 15, 26, 6, 17, 29, 16, 24]
        for r in range(20):
            x0 = x0 + x1
            x1 = (x1 << np.uint32(rotations[r % 8])) | (x1 >> np.uint32(32 - rotations[r % 8]))
            x1 = x1 ^ x0
            if r % 4 == 3:
                i = (r + 1) // 4
                x0 = x0 + ks[i % 3]
                x1 = x1 + ks[(i + 1) % 3] + np.uint32(i)
    return x0, x1


class ThreefryDropout(nn.Module):
    """nn.Dropout with mini-gpt's mask: element i is dropped when word i & 1 of Threefry at
    counter (i >> 1, stream) is below round(p * 2^32); each call takes the next stream."""
    def __init__(self, p, source):
        super().__init__()
        self.p, self.source = p, source

    def forward(self, x):
        import numpy as np
        if not self.training or self.p == 0:
            return x
        n = x.numel()
        pairs = np.arange((n + 1) // 2, dtype=np.uint32)
        w0, w1 = threefry2x32(self.source["key"][0], self.source["key"][1], pairs, np.full_like(pairs, self.source["stream"]))
        self.source["stream"] += 1
        words = np.stack([w0, w1], axis=1).reshape(-1)[:n]
        keep = torch.from_numpy(words >= np.uint32(min(2**32 - 1, round(self.p * 2**32)))).reshape(x.shape)
        return x * keep / (1 - self.p)


# ---- the book's model (chapter 4), as printed -------------------------------------------------

class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, num_tokens, d_in = x.shape
        keys = self.W_key(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        queries = self.W_query(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        values = self.W_value(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        attn_scores = queries @ keys.transpose(2, 3)  # (b, nh, T, T)
        mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
        attn_scores.masked_fill_(mask_bool, -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)
        context_vec = (attn_weights @ values).transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
        return self.out_proj(context_vec)


class LayerNorm(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.eps = 1e-5
        self.scale = nn.Parameter(torch.ones(emb_dim))
        self.shift = nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)
        return self.scale * (x - mean) / torch.sqrt(var + self.eps) + self.shift


class GELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi)) * (x + 0.044715 * torch.pow(x, 3))))


class FeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(cfg["emb_dim"], 4 * cfg["emb_dim"]), GELU(), nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"]))

    def forward(self, x):
        return self.layers(x)


class TransformerBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.att = MultiHeadAttention(cfg["emb_dim"], cfg["emb_dim"], cfg["context_length"], cfg["drop_rate"], cfg["n_heads"], cfg["qkv_bias"])
        self.ff = FeedForward(cfg)
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x):
        shortcut = x
        x = self.drop_shortcut(self.att(self.norm1(x)))
        x = x + shortcut
        shortcut = x
        x = self.drop_shortcut(self.ff(self.norm2(x)))
        return x + shortcut


class GPTModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg["n_layers"])])
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx):
        _, seq_len = in_idx.shape
        x = self.tok_emb(in_idx) + self.pos_emb(torch.arange(seq_len, device=in_idx.device))
        x = self.drop_emb(x)
        x = self.trf_blocks(x)
        return self.out_head(self.final_norm(x))


def book_config(drop_rate):
    return {"vocab_size": 50257, "context_length": 256, "emb_dim": 768, "n_heads": 12, "n_layers": 12, "drop_rate": drop_rate, "qkv_bias": False}


# ---- the book's data and loss (chapters 2 and 5) ------------------------------------------------

class GPTDatasetV1(torch.utils.data.Dataset):
    def __init__(self, token_ids, max_length, stride):
        self.input_ids, self.target_ids = [], []
        for i in range(0, len(token_ids) - max_length, stride):
            self.input_ids.append(torch.tensor(token_ids[i:i + max_length]))
            self.target_ids.append(torch.tensor(token_ids[i + 1:i + max_length + 1]))

    def __len__(self):
        return len(self.input_ids)

    def __getitem__(self, idx):
        return self.input_ids[idx], self.target_ids[idx]


def calc_loss_batch(input_batch, target_batch, model):
    logits = model(input_batch)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())


def calc_loss_loader(data_loader, model, num_batches=None):
    total_loss = 0.0
    if len(data_loader) == 0:
        return float("nan")
    num_batches = len(data_loader) if num_batches is None else min(num_batches, len(data_loader))
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total_loss += calc_loss_batch(input_batch, target_batch, model).item()
    return total_loss / num_batches


# ---- mini-gpt's weights (Hugging Face GPT-2 layout, linear weights stored (in, out)) -------------

def read_safetensors(path):
    """name -> float32 tensor; a 20-line reader (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry["shape"])
    return out


def load_mini_gpt_weights(model, path):
    """Copies mini-gpt's parameters into the book's modules; every parameter must be set once."""
    w = read_safetensors(path)
    C = model.tok_emb.weight.shape[1]
    pairs = [(model.tok_emb.weight, w["wte.weight"]), (model.pos_emb.weight, w["wpe.weight"]),
             (model.final_norm.scale, w["ln_f.weight"]), (model.final_norm.shift, w["ln_f.bias"]),
             (model.out_head.weight, w["lm_head.weight"])]
    for i, blk in enumerate(model.trf_blocks):
        p = f"h.{i}."
        qkv = w[p + "attn.c_attn.weight"]  # (C, 3C): q, k, v side by side; nn.Linear wants (out, in)
        pairs += [(blk.att.W_query.weight, qkv[:, :C].t()), (blk.att.W_key.weight, qkv[:, C:2 * C].t()),
                  (blk.att.W_value.weight, qkv[:, 2 * C:].t()),
                  (blk.att.out_proj.weight, w[p + "attn.c_proj.weight"].t()), (blk.att.out_proj.bias, w[p + "attn.c_proj.bias"]),
                  (blk.norm1.scale, w[p + "ln_1.weight"]), (blk.norm1.shift, w[p + "ln_1.bias"]),
                  (blk.norm2.scale, w[p + "ln_2.weight"]), (blk.norm2.shift, w[p + "ln_2.bias"]),
                  (blk.ff.layers[0].weight, w[p + "mlp.c_fc.weight"].t()), (blk.ff.layers[0].bias, w[p + "mlp.c_fc.bias"]),
                  (blk.ff.layers[2].weight, w[p + "mlp.c_proj.weight"].t()), (blk.ff.layers[2].bias, w[p + "mlp.c_proj.bias"])]
        if w[p + "attn.c_attn.bias"].abs().max() != 0:
            raise ValueError(f"{path}: {p}attn.c_attn.bias is not zero, but the book's model has no q/k/v bias")
    assert len(pairs) == len(list(model.parameters())), "every parameter is loaded"
    with torch.no_grad():
        for param, value in pairs:
            assert param.shape == value.shape, (param.shape, value.shape)
            param.copy_(value)


def write_mini_gpt_weights(model, folder):
    """The inverse of load_mini_gpt_weights: the book's model as a mini-gpt model folder
    (config.json + model.safetensors in the Hugging Face GPT-2 layout, float32), so that
    bench/book-from-init.mjs can train ours from PyTorch's initial weights."""
    C = model.tok_emb.weight.shape[1]
    t = {"wte.weight": model.tok_emb.weight, "wpe.weight": model.pos_emb.weight,
         "ln_f.weight": model.final_norm.scale, "ln_f.bias": model.final_norm.shift, "lm_head.weight": model.out_head.weight}
    for i, blk in enumerate(model.trf_blocks):
        p = f"h.{i}."
        a = blk.att
        t.update({p + "attn.c_attn.weight": torch.cat([a.W_query.weight, a.W_key.weight, a.W_value.weight]).t(),
                  p + "attn.c_attn.bias": torch.zeros(3 * C),
                  p + "attn.c_proj.weight": a.out_proj.weight.t(), p + "attn.c_proj.bias": a.out_proj.bias,
                  p + "ln_1.weight": blk.norm1.scale, p + "ln_1.bias": blk.norm1.shift,
                  p + "ln_2.weight": blk.norm2.scale, p + "ln_2.bias": blk.norm2.shift,
                  p + "mlp.c_fc.weight": blk.ff.layers[0].weight.t(), p + "mlp.c_fc.bias": blk.ff.layers[0].bias,
                  p + "mlp.c_proj.weight": blk.ff.layers[2].weight.t(), p + "mlp.c_proj.bias": blk.ff.layers[2].bias})
    header, chunks, offset = {}, [], 0
    for name, value in t.items():
        raw = value.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for raw in chunks:
            f.write(raw)
    cfg = book_config(0.1)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": cfg["vocab_size"],
                   "n_positions": cfg["context_length"], "n_ctx": cfg["context_length"], "n_embd": cfg["emb_dim"],
                   "n_layer": cfg["n_layers"], "n_head": cfg["n_heads"], "n_inner": None, "activation_function": "gelu_new",
                   "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "layer_norm_epsilon": 1e-5,
                   "tie_word_embeddings": False, "qkv_bias": False}, f, indent=2)


def mini_gpt_grad_norms(model):
    """Per-parameter gradient L2 norms under mini-gpt's names (q/k/v together as c_attn)."""
    out = {"wte.weight": model.tok_emb.weight, "wpe.weight": model.pos_emb.weight, "ln_f.weight": model.final_norm.scale,
           "ln_f.bias": model.final_norm.shift, "lm_head.weight": model.out_head.weight}
    norms = {}
    for i, blk in enumerate(model.trf_blocks):
        p = f"h.{i}."
        qkv = torch.cat([blk.att.W_query.weight.grad, blk.att.W_key.weight.grad, blk.att.W_value.weight.grad])
        norms[p + "attn.c_attn.weight"] = qkv.double().norm().item()
        out.update({p + "attn.c_proj.weight": blk.att.out_proj.weight, p + "attn.c_proj.bias": blk.att.out_proj.bias,
                    p + "ln_1.weight": blk.norm1.scale, p + "ln_1.bias": blk.norm1.shift,
                    p + "ln_2.weight": blk.norm2.scale, p + "ln_2.bias": blk.norm2.shift,
                    p + "mlp.c_fc.weight": blk.ff.layers[0].weight, p + "mlp.c_fc.bias": blk.ff.layers[0].bias,
                    p + "mlp.c_proj.weight": blk.ff.layers[2].weight, p + "mlp.c_proj.bias": blk.ff.layers[2].bias})
    for name, param in out.items():
        norms[name] = param.grad.double().norm().item()
    return norms


# ---- the two runs ------------------------------------------------------------------------------

def trajectory(args):
    data = json.load(open(os.path.join(args.dir, "data.json")))
    recipe = data["recipe"]
    steps = args.steps or recipe["steps"]
    model = GPTModel(book_config(recipe["dropRate"]))
    if recipe["dropRate"] > 0:
        seed = recipe["dropoutSeed"]
        source = {"key": (seed % 2**32, seed // 2**32), "stream": 0}
        for name, module in list(model.named_modules()):
            for child_name, child in list(module.named_children()):
                if isinstance(child, nn.Dropout):
                    setattr(module, child_name, ThreefryDropout(child.p, source))
    load_mini_gpt_weights(model, os.path.join(args.dir, "init", "model.safetensors"))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weightDecay"])
    dataset = GPTDatasetV1(data["trainIds"], recipe["contextLength"], recipe["contextLength"])
    B = recipe["batchSize"]
    lines = []
    step = 0
    for epoch, order in enumerate(data["order"]):
        for index in range(len(order) // B):  # drop_last, as the book's training loader
            if step >= steps:
                break
            started = time.time()
            picked = order[index * B:(index + 1) * B]
            inputs = torch.stack([dataset[i][0] for i in picked])
            targets = torch.stack([dataset[i][1] for i in picked])
            optimizer.zero_grad()
            loss = calc_loss_batch(inputs, targets, model)
            loss.backward()
            grad_norms = mini_gpt_grad_norms(model)
            before = [p.detach().clone() for p in model.parameters()]
            optimizer.step()
            update = math.sqrt(sum((p.detach().double() - b.double()).pow(2).sum().item() for p, b in zip(model.parameters(), before)))
            line = {"step": step, "epoch": epoch, "batch": index, "loss": loss.item(), "gradNorm": math.sqrt(sum(v * v for v in grad_norms.values())),
                    "updateNorm": update, "seconds": time.time() - started, "gradNorms": grad_norms}
            lines.append(line)
            print(f"step {step}: loss {line['loss']:.6f} grad norm {line['gradNorm']:.6f} update norm {update:.6f} ({line['seconds']:.1f} s)", flush=True)
            with open(os.path.join(args.dir, "pytorch.jsonl"), "w") as f:
                f.writelines(json.dumps(l) + "\n" for l in lines)
            step += 1
    ours_path = os.path.join(args.dir, "mini-gpt.jsonl")
    if os.path.exists(ours_path):
        compare([json.loads(l) for l in open(ours_path)], lines)


def compare(ours, torch_lines):
    """Per step: each figure side by side with its relative difference; then the worst parameter."""
    rel = lambda a, b: abs(a - b) / max(abs(b), 1e-30)
    print(f"{'step':>4} {'loss mini-gpt':>14} {'loss torch':>14} {'rel':>8} {'|g| mini-gpt':>13} {'|g| torch':>13} {'rel':>8} {'|dp| mini-gpt':>13} {'|dp| torch':>13} {'rel':>8}  worst parameter gradient (rel)")
    for a, b in zip(ours, torch_lines):
        worst = max(b["gradNorms"], key=lambda n: rel(a["gradNorms"][n], b["gradNorms"][n]))
        print(f"{a['step']:>4} {a['loss']:>14.7f} {b['loss']:>14.7f} {rel(a['loss'], b['loss']):>8.1e} "
              f"{a['gradNorm']:>13.6f} {b['gradNorm']:>13.6f} {rel(a['gradNorm'], b['gradNorm']):>8.1e} "
              f"{a['updateNorm']:>13.6f} {b['updateNorm']:>13.6f} {rel(a['updateNorm'], b['updateNorm']):>8.1e}  "
              f"{worst} ({rel(a['gradNorms'][worst], b['gradNorms'][worst]):.1e})")


def losses_in_order(dataset, model, batch_size=2):
    """Each training batch's loss with the windows in order (mini-gpt's evaluation batches), built
    by indexing the dataset: no DataLoader iterator, so torch's random stream is not touched and the
    book's run (its masks and shuffles) stays as it was."""
    losses = []
    for b in range(len(dataset) // batch_size):
        items = [dataset[i] for i in range(b * batch_size, (b + 1) * batch_size)]
        losses.append(calc_loss_batch(torch.stack([x for x, _ in items]), torch.stack([y for _, y in items]), model).item())
    return losses


def book(args):
    data = json.load(open(os.path.join(args.dir, "data.json")))
    out_path = os.path.join(args.dir, f"pytorch-seed{args.seed}{'-init' if args.init else ''}.jsonl")
    # Chapter 5, as printed: loaders built, then torch.manual_seed(123) right before the model.
    train_dataset = GPTDatasetV1(data["trainIds"], 256, 256)
    val_dataset = GPTDatasetV1(data["valIds"], 256, 256)
    torch.manual_seed(args.seed)
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=2, shuffle=True, drop_last=True, num_workers=0)
    val_loader = torch.utils.data.DataLoader(val_dataset, batch_size=2, shuffle=False, drop_last=False, num_workers=0)
    torch.manual_seed(args.seed)
    model = GPTModel(book_config(0.1))
    if args.init:
        # Another initialisation (mini-gpt's, from bench/book-trajectory.mjs's init/), with
        # PyTorch's own masks and shuffles: the model was made first, so the generator is where
        # the plain run's is (issue 15: which random stream separates the two sides' runs).
        load_mini_gpt_weights(model, args.init)
    if args.save_init:
        write_mini_gpt_weights(model, args.save_init)
        print(f"wrote PyTorch's initial weights (seed {args.seed}) to {args.save_init}")
        if args.epochs == 0:
            return
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    eval_freq, eval_iter = 5, 5
    records, steps = [], []
    tokens_seen, global_step = 0, -1
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(input_batch, target_batch, model)
            loss.backward()
            optimizer.step()
            tokens_seen += input_batch.numel()
            global_step += 1
            steps.append(loss.item())
            if global_step % eval_freq == 0:
                model.eval()
                with torch.no_grad():
                    train_loss = calc_loss_loader(train_loader, model, num_batches=eval_iter)
                    val_loss = calc_loss_loader(val_loader, model, num_batches=eval_iter)
                    in_order = losses_in_order(train_dataset, model)
                model.train()
                records.append({"step": global_step, "epoch": epoch + 1, "tokensSeen": tokens_seen, "trainLoss": train_loss, "valLoss": val_loss,
                                "trainLossFirst5InOrder": sum(in_order[:eval_iter]) / eval_iter, "trainLossAllBatches": sum(in_order) / len(in_order)})
                print(f"Ep {epoch + 1} (Step {global_step:06d}): Train loss {train_loss:.3f}, Val loss {val_loss:.3f} ({time.time() - started:.0f} s)", flush=True)
                with open(out_path, "w") as f:
                    f.write(json.dumps({"seed": args.seed, "epochs": args.epochs, "records": records, "stepLosses": steps}) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["trajectory", "book"])
    parser.add_argument("dir", help="folder with data.json (from bench/book-trajectory.mjs)")
    parser.add_argument("--steps", type=int, default=0, help="trajectory: AdamW steps (default: data.json's)")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--init", help="book: start from these weights (a mini-gpt model.safetensors) instead of PyTorch's initialisation")
    parser.add_argument("--save-init", help="book: write the initial weights as a mini-gpt model folder (config.json, model.safetensors); with --epochs 0, only that")
    # Default: torch's own choice, as bench/pytorch_step.py (1 thread on our 2-core VM, where it
    # is the fastest: with 2, the book's whole run took 990 s on a quiet machine).
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    trajectory(args) if args.mode == "trajectory" else book(args)


if __name__ == "__main__":
    main()
