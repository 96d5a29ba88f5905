#!/usr/bin/env python3
"""Golden GPT-2 fixture, llm.c style (its test_gpt2.c checks against a PyTorch dump).

Builds a tiny GPT-2 from a seed in PyTorch float64, written from the model's definition
(Radford et al. 2019, "Language Models are Unsupervised Multitask Learners", and the
layout of Hugging Face's GPT2LMHeadModel), not from mini-gpt's code. It runs a fixed batch and
writes test/fixtures/golden-gpt2.json, which test/gpt/golden.test.ts loads on every device:

  per variant (tied head with q/k/v bias, as OpenAI's checkpoints; untied head without q/k/v
  bias, as the book's model):
    config           the GPT-2 hyperparameters (mini-gpt GPTConfig names)
    params           every parameter, Hugging Face names and layout (Conv1D weights (in, out)),
                     values exactly representable in float32 so both sides start equal
    logits           (B, T, V) of the batch
    loss             mean cross-entropy over targets != -100
    grads            d loss / d every parameter
    adamw            losses of torch.optim.AdamW steps from the same start: loss before each
                     of 3 updates and after the last, with weight decay 0.1 and with 0

Dropout is off in every run (PyTorch's dropout masks come from its own generator, which
mini-gpt does not reproduce); the test runs the decayed steps in eval mode and the others in
train mode with dropRate 0, so both switches of the model are covered.

Regenerate (Debian: apt-get install python3-torch):
  /usr/bin/python3 scripts/golden_gpt2.py
CI does not run this: the fixture is committed.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)

SEED = 1234
# B = batch, T = tokens, C = channels, V = vocab, nh = heads, hs = C / nh
CONFIG = dict(vocabSize=50, contextLength=12, embedDim=16, nLayers=2, nHeads=2, dropRate=0.1, layerNormEps=1e-5)
B, T = 2, 6
LR = 1e-2
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
STEPS = 3


def gelu(x):
    # GPT-2's GELU, tanh approximation (HF's "gelu_new"): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def layer_norm(x, w, b, eps):
    # Normalise over the last axis with the biased variance, then scale and shift.
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def conv1d(x, p, prefix, bias=True):
    # HF's Conv1D: weight stored (in, out), y = x W + b.
    y = x @ p[prefix + '.weight']
    return y + p[prefix + '.bias'] if bias else y


def attention(x, p, layer, cfg, qkv_bias):
    Bn, Tn, C = x.shape
    nh = cfg['nHeads']
    hs = C // nh
    qkv = conv1d(x, p, f'h.{layer}.attn.c_attn', qkv_bias)  # (B, T, 3C)
    q, k, v = qkv.split(C, dim=2)  # each (B, T, C)
    q = q.view(Bn, Tn, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
    k = k.view(Bn, Tn, nh, hs).transpose(1, 2)
    v = v.view(Bn, Tn, nh, hs).transpose(1, 2)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
    causal = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    scores = scores.masked_fill(~causal, float('-inf'))
    y = torch.softmax(scores, dim=-1) @ v  # (B, nh, T, hs)
    y = y.transpose(1, 2).contiguous().view(Bn, Tn, C)  # (B, T, C)
    return conv1d(y, p, f'h.{layer}.attn.c_proj')


def forward(p, ids, cfg, tied, qkv_bias):
    eps = cfg['layerNormEps']
    Tn = ids.shape[1]
    x = p['wte.weight'][ids] + p['wpe.weight'][torch.arange(Tn)]  # (B, T, C)
    for layer in range(cfg['nLayers']):
        h = f'h.{layer}'
        x = x + attention(layer_norm(x, p[h + '.ln_1.weight'], p[h + '.ln_1.bias'], eps), p, layer, cfg, qkv_bias)
        m = gelu(conv1d(layer_norm(x, p[h + '.ln_2.weight'], p[h + '.ln_2.bias'], eps), p, h + '.mlp.c_fc'))  # (B, T, 4C)
        x = x + conv1d(m, p, h + '.mlp.c_proj')
    x = layer_norm(x, p['ln_f.weight'], p['ln_f.bias'], eps)
    head = p['wte.weight'] if tied else p['lm_head.weight']  # (V, C)
    return x @ head.t()  # (B, T, V)


def loss_of(logits, targets):
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)


def initial_params(cfg, tied, qkv_bias, g):
    """Values of order one everywhere (not GPT-2's 0.02), so every gradient is far from zero."""
    C, V = cfg['embedDim'], cfg['vocabSize']

    def normal(shape, mean=0.0, std=1.0):
        # float32 values, held in float64: the float32 devices get exactly these numbers.
        return (mean + std * torch.randn(shape, generator=g, dtype=torch.float64)).float().double()

    p = {'wte.weight': normal((V, C), std=0.5), 'wpe.weight': normal((cfg['contextLength'], C), std=0.5)}
    for layer in range(cfg['nLayers']):
        h = f'h.{layer}'
        linears = [('attn.c_attn', C, 3 * C, qkv_bias), ('attn.c_proj', C, C, True), ('mlp.c_fc', C, 4 * C, True), ('mlp.c_proj', 4 * C, C, True)]
        for ln in ('ln_1', 'ln_2'):
            p[f'{h}.{ln}.weight'] = normal((C,), mean=1.0, std=0.1)
            p[f'{h}.{ln}.bias'] = normal((C,), std=0.1)
        for name, fan_in, fan_out, bias in linears:
            p[f'{h}.{name}.weight'] = normal((fan_in, fan_out), std=1 / math.sqrt(fan_in))
            if bias:
                p[f'{h}.{name}.bias'] = normal((fan_out,), std=0.1)
    p['ln_f.weight'] = normal((C,), mean=1.0, std=0.1)
    p['ln_f.bias'] = normal((C,), std=0.1)
    if not tied:
        p['lm_head.weight'] = normal((V, C), std=1 / math.sqrt(C))
    return p


def adamw_losses(start, ids, targets, cfg, tied, qkv_bias, weight_decay):
    params = {k: v.clone().requires_grad_(True) for k, v in start.items()}
    opt = torch.optim.AdamW(params.values(), lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=weight_decay)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = loss_of(forward(params, ids, cfg, tied, qkv_bias), targets)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    with torch.no_grad():
        losses.append(loss_of(forward(params, ids, cfg, tied, qkv_bias), targets).item())
    return losses


def flat(t, digits=17):
    # 12 significant digits keep the float64 results ~1e-12 relative: far below float32's
    # tolerances and the float64 check's, at two thirds of the size.
    return [float('%.*g' % (digits, v)) for v in t.detach().reshape(-1).tolist()]


def variant(tied, qkv_bias, g, ids, targets):
    cfg = dict(CONFIG, qkvBias=qkv_bias, tiedHead=tied)
    start = initial_params(cfg, tied, qkv_bias, g)
    params = {k: v.clone().requires_grad_(True) for k, v in start.items()}
    logits = forward(params, ids, cfg, tied, qkv_bias)
    loss = loss_of(logits, targets)
    loss.backward()
    return {
        'config': cfg,
        'params': {k: {'shape': list(v.shape), 'values': flat(v)} for k, v in start.items()},
        'logits': {'shape': list(logits.shape), 'values': flat(logits, 12)},
        'loss': loss.item(),
        'grads': {k: {'shape': list(v.shape), 'values': flat(v.grad, 12)} for k, v in params.items()},
        'adamw': {
            'lr': LR, 'betas': list(BETAS), 'eps': ADAM_EPS,
            'decay': {'weightDecay': 0.1, 'losses': adamw_losses(start, ids, targets, cfg, tied, qkv_bias, 0.1)},
            'noDecay': {'weightDecay': 0.0, 'losses': adamw_losses(start, ids, targets, cfg, tied, qkv_bias, 0.0)},
        },
    }


def main():
    g = torch.Generator().manual_seed(SEED)
    ids = torch.randint(0, CONFIG['vocabSize'], (B, T), generator=g)
    targets = torch.randint(0, CONFIG['vocabSize'], (B, T), generator=g)
    targets[1, -1] = -100  # one ignored position: the mean is over the other B*T - 1
    fixture = {
        'source': 'scripts/golden_gpt2.py (PyTorch %s, float64, seed %d)' % (torch.__version__, SEED),
        'ids': ids.tolist(),
        'targets': targets.tolist(),
        'variants': {
            'tied': variant(True, True, g, ids, targets),
            'untiedNoQkvBias': variant(False, False, g, ids, targets),
        },
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden-gpt2.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(fixture, separators=(',', ':'))
    with open(path, 'w') as f:
        f.write(text + '\n')
    print('wrote %s (%d bytes); tied loss %.6f, untied loss %.6f' % (
        os.path.normpath(path), len(text) + 1, fixture['variants']['tied']['loss'], fixture['variants']['untiedNoQkvBias']['loss']))


if __name__ == '__main__':
    main()
