#!/usr/bin/env python3
"""PyTorch's CPU random numbers as a fixture (issue 24): what torch.manual_seed(s) draws.

Writes test/fixtures/torch-rng.json, which test/tensor/torch-random.test.ts and
test/gpt/torch-stream.test.ts hold mini-gpt's TorchGenerator (packages/tensor/src/torch-random.ts)
and the trainer's order of draws to. Every value comes from the installed torch (Debian's
python3-torch 1.13, CPU, no MKL); nothing here is computed by mini-gpt.

  int64        torch.empty(n, dtype=int64).random_() after a few seeds: the first words, in pairs
               (high word's top bit cleared), as decimal strings
  uniform      uniform_(low, high) of float32 tensors of sizes 1, 15, 16, 17, 1000003: first and
               last values, the float64 sum and the sha256 of the float32 bytes
  normal       normal_(0, 1) (and one (2, 0.5)) of the same sizes: slices, sum, sha256, and the
               values themselves for sizes <= 17
  randperm     torch.randperm(n, generator=g) after g.manual_seed(s)
  dropout      F.dropout(ones, p, training=True) for a few shapes: the kept elements as a bit
               string (hex), the count, and the next uniform after it (the words it used)
  multinomial  torch.multinomial(probs, 1) on float32 rows after manual_seed(s), 20 draws each
               (the rows as base64 float32 bytes)
  book_init    the book's GPTModel (124M, context 256) after manual_seed(123): per tensor, torch
               name and shape, first and last values, float64 sum, sha256 of its float32 bytes
  book_order   the book's training loader's window order for 10 epochs (18 windows, batch 2,
               shuffle, drop_last), the 37 dropout calls of each step and the evaluations'
               loader passes made as the book makes them (dropout on zero tensors of the
               book's shapes: the words they draw do not depend on the values)
  tiny_run     the book's loop (train_model_simple) on a tiny config and synthetic token ids:
               step losses and the evaluations, for the trainer test (to 1e-5)

Regenerate (about a minute):  /usr/bin/python3 scripts/golden_torch_rng.py
CI does not run this: the fixture is committed.
"""
import base64
import hashlib
import importlib.util
import json
import os
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "torch-rng.json")
SIZES = [1, 15, 16, 17, 1000003]

spec = importlib.util.spec_from_file_location("book", os.path.join(ROOT, "bench", "pytorch_book_run.py"))
book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book)


def summary(t, full=False, strided=True):
    flat = t.detach().contiguous().view(-1).to(torch.float32)
    out = {
        "n": flat.numel(),
        "first": flat[:6].tolist(),
        "last": flat[-6:].tolist(),
        "sum": flat.double().sum().item(),
        "sha256": hashlib.sha256(flat.numpy().tobytes()).hexdigest(),
    }
    if full:
        out["values"] = flat.tolist()
    if strided and flat.numel() >= 1000:
        step = 997 * max(1, flat.numel() // 2000000)
        out["strided"] = flat[::step].tolist()
        out["stride"] = step  # every 997th value: where builds differ, how much
    return out


def int64_words():
    out = []
    for seed in [0, 1, 123, 2**32 + 123, 2**40 + 7]:
        torch.manual_seed(seed)
        out.append({"seed": seed, "values": [str(v) for v in torch.empty(6, dtype=torch.int64).random_().tolist()]})
    return out


def uniform():
    out = []
    for seed, low, high in [(123, 0.0, 1.0), (7, -0.03608439182435161, 0.03608439182435161), (1, -2.0, 3.0)]:
        for n in SIZES:
            torch.manual_seed(seed)
            t = torch.empty(n).uniform_(low, high)
            after = torch.rand(1).item()
            out.append({"seed": seed, "low": low, "high": high, "after": after, **summary(t, n <= 17)})
    return out


def normal():
    out = []
    for seed, mean, std in [(123, 0.0, 1.0), (5, 2.0, 0.5)]:
        for n in SIZES:
            torch.manual_seed(seed)
            t = torch.empty(n).normal_(mean, std)
            after = torch.rand(1).item()
            out.append({"seed": seed, "mean": mean, "std": std, "after": after, **summary(t, n <= 17)})
    return out


def randperm():
    out = []
    for seed, n in [(0, 1), (1, 2), (123, 5), (9, 18), (2**33 + 4, 18), (42, 1000)]:
        g = torch.Generator()
        g.manual_seed(seed)
        out.append({"seed": seed, "n": n, "perm": torch.randperm(n, generator=g).tolist()})
    return out


def dropout():
    out = []
    for seed, shape, p in [(123, [5], 0.1), (1, [3, 7], 0.5), (2, [2, 3, 16, 16], 0.1), (3, [64], 0.0)]:
        torch.manual_seed(seed)
        y = F.dropout(torch.ones(shape), p, training=True)
        after = torch.rand(1).item()
        bits = "".join("1" if v != 0 else "0" for v in y.view(-1).tolist())
        out.append({"seed": seed, "shape": shape, "p": p, "keep": bits, "kept": int((y != 0).sum()), "after": after,
                    "scale": y.max().item()})
    return out


def multinomial():
    out = []
    for seed, n, temperature in [(123, 50257, 1.0), (1, 10, 0.5), (2, 1000, 1.4)]:
        g = torch.Generator()
        g.manual_seed(1000 + seed)
        logits = torch.randn(n, generator=g) * 3
        probs = torch.softmax(logits / temperature, dim=-1)
        torch.manual_seed(seed)
        picks = [torch.multinomial(probs, 1).item() for _ in range(20)]
        out.append({"seed": seed, "probs": base64.b64encode(probs.numpy().tobytes()).decode(),
                    "temperature": temperature, "n": n, "picks": picks,
                    "probsSha256": hashlib.sha256(probs.numpy().tobytes()).hexdigest()})
    return out


def book_init():
    torch.manual_seed(123)
    model = book.GPTModel(book.book_config(0.1))
    tensors = [{"name": name, "shape": list(p.shape), **summary(p, strided="emb" in name)} for name, p in model.named_parameters()]
    return {"seed": 123, "tensors": tensors, "next": torch.rand(1).item()}


def drop_shapes(batch, tokens, emb, heads, layers):
    """The 37 (for 12 layers) dropout inputs of one training forward, in forward order."""
    shapes = [[batch, tokens, emb]]
    for _ in range(layers):
        shapes += [[batch, heads, tokens, tokens], [batch, tokens, emb], [batch, tokens, emb]]
    return shapes


def loop_order(seed, windows, val_windows, epochs, shapes, init_words, eval_freq=5, eval_iter=5):
    """The book's loop with each step's dropout calls made on zero tensors: the window order of
    every pass of the training loader (training passes and the evaluations')."""
    torch.manual_seed(seed)
    torch.empty(init_words // 2, dtype=torch.int64).random_()  # the model's initialisation
    train = torch.utils.data.DataLoader(torch.arange(windows), batch_size=2, shuffle=True, drop_last=True)
    val = torch.utils.data.DataLoader(torch.arange(val_windows), batch_size=2, shuffle=False, drop_last=False)
    passes, step = [], -1
    for epoch in range(epochs):
        order = []
        for batch in train:
            order += batch.tolist()
            for s in shapes:
                F.dropout(torch.zeros(s), 0.1, training=True)
            step += 1
            if step % eval_freq == 0:
                first = []
                for i, b in enumerate(train):
                    if i >= min(eval_iter, len(train)):
                        break
                    first += b.tolist()
                for i, b in enumerate(val):
                    if i >= min(eval_iter, len(val)):
                        break
                passes.append({"step": step, "evalTrainWindows": first})
        passes.append({"epoch": epoch + 1, "order": order})
    return {"passes": passes, "next": torch.rand(1).item()}


def tiny_config():
    return {"vocab_size": 97, "context_length": 16, "emb_dim": 32, "n_heads": 4, "n_layers": 2, "drop_rate": 0.1,
            "qkv_bias": False}


def tiny_ids(n, offset):
    return [((i + offset) * 37 + (i + offset) ** 2 // 3) % 97 for i in range(n)]


def tiny_run(seed=123, epochs=3, lr=1e-3):
    """train_model_simple on the tiny config: returns step losses and the evaluations."""
    cfg = tiny_config()
    train_ids, val_ids = tiny_ids(200, 0), tiny_ids(60, 200)
    train_ds = book.GPTDatasetV1(train_ids, 16, 16)
    val_ds = book.GPTDatasetV1(val_ids, 16, 16)
    train = torch.utils.data.DataLoader(train_ds, batch_size=2, shuffle=True, drop_last=True)
    val = torch.utils.data.DataLoader(val_ds, batch_size=2, shuffle=False, drop_last=False)
    torch.manual_seed(seed)
    model = book.GPTModel(cfg)
    init_words = 0  # counted below from the generator's position, for the order check
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    steps, evals, step = [], [], -1
    for epoch in range(epochs):
        model.train()
        for x, y in train:
            opt.zero_grad()
            loss = book.calc_loss_batch(x, y, model)
            loss.backward()
            opt.step()
            step += 1
            steps.append(loss.item())
            if step % 5 == 0:
                model.eval()
                with torch.no_grad():
                    tl = book.calc_loss_loader(train, model, 5)
                    vl = book.calc_loss_loader(val, model, 5)
                model.train()
                evals.append({"step": step, "epoch": epoch + 1, "trainLoss": tl, "valLoss": vl})
    return {"config": cfg, "seed": seed, "epochs": epochs, "lr": lr, "weightDecay": 0.1, "trainIds": train_ids,
            "valIds": val_ids, "maxLength": 16, "stride": 16, "batchSize": 2, "evalFreq": 5, "evalIter": 5,
            "stepLosses": steps, "evals": evals, "next": torch.rand(1).item(), "_": init_words}


def forward_words_match():
    """One real training forward of the tiny model draws what the dropout calls of drop_shapes
    draw (the same next number after either): the order book_order assumes."""
    cfg = tiny_config()
    torch.manual_seed(5)
    model = book.GPTModel(cfg).train()
    x = torch.zeros(2, 16, dtype=torch.long)
    state = torch.get_rng_state()
    model(x)
    a = torch.rand(1).item()
    torch.set_rng_state(state)
    for s in drop_shapes(2, 16, 32, 4, 2):
        F.dropout(torch.zeros(s), 0.1, training=True)
    b = torch.rand(1).item()
    assert a == b, (a, b)


def main():
    torch.set_num_threads(1)
    forward_words_match()
    fixture = {
        "torch": torch.__version__,
        "int64": int64_words(),
        "uniform": uniform(),
        "normal": normal(),
        "randperm": randperm(),
        "dropout": dropout(),
        "multinomial": multinomial(),
        "bookInit": book_init(),
        "bookOrder": loop_order(123, 18, 2, 10, drop_shapes(2, 256, 768, 12, 12), 162381312),
        "tinyRun": tiny_run(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
