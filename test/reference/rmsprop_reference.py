#!/usr/bin/env python3
"""torch.optim.RMSprop on given weights and gradients: the reference for ml/optimizers.ts.

Reads one JSON document (a file path argument, or stdin) and writes one to stdout:

  in:  {"hyperparameters": {"lr": 0.001, ...any other torch.optim.RMSprop keyword...},
        "params": [ARRAY, ...],             # the initial parameters
        "grads":  [[ARRAY, ...], ...]}      # per step, one gradient per parameter
  out: {"torch": "<version>", "hyperparameters": {every RMSprop setting used, defaults included},
        "steps": [{"params": [ARRAY, ...], "square_avg": [ARRAY, ...]}, ...]}   # after each step

An ARRAY is a list of numbers, or {"float32": "<base64 of little-endian float32 values>"} for
large tensors; outputs use the encoding of the matching input. Everything is float32, as in
training. Hyperparameters not given keep torch's defaults (lr 0.01, alpha 0.99, eps 1e-8,
weight_decay 0, momentum 0, centered False); the output lists the ones used.

The gradients are given, not computed, so the comparison isolates the optimizer from the model.
Run with a python3 that can import torch (Debian: apt-get install python3-torch).
"""
import base64
import inspect
import json
import sys

import numpy as np
import torch


def decode(array):
    if isinstance(array, dict):
        if set(array) != {"float32"}:
            raise ValueError(f"an array object must have exactly the key 'float32', got {sorted(array)}")
        return torch.from_numpy(np.frombuffer(base64.b64decode(array["float32"]), dtype="<f4").copy())
    if not isinstance(array, list):
        raise ValueError(f"an array must be a list of numbers or {{'float32': base64}}, got {type(array).__name__}")
    return torch.tensor(array, dtype=torch.float32)


def encode(tensor, like):
    values = tensor.detach().contiguous().numpy().astype("<f4", copy=False)
    if isinstance(like, dict):
        return {"float32": base64.b64encode(values.tobytes()).decode("ascii")}
    return [float(v) for v in values]


def main():
    doc = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    hyper = dict(doc.get("hyperparameters", {}))
    raw_params = doc["params"]
    params = [torch.nn.Parameter(decode(p)) for p in raw_params]
    optimizer = torch.optim.RMSprop(params, **hyper)
    defaults = {k: v.default for k, v in inspect.signature(torch.optim.RMSprop.__init__).parameters.items() if k not in ("self", "params")}
    used = {k: optimizer.defaults[k] for k in defaults if k in optimizer.defaults}

    steps = []
    for s, grads in enumerate(doc["grads"]):
        if len(grads) != len(params):
            raise ValueError(f"grads[{s}] has {len(grads)} arrays for {len(params)} parameters")
        for k, (p, g) in enumerate(zip(params, grads)):
            g = decode(g)
            if g.shape != p.shape:
                raise ValueError(f"grads[{s}][{k}] has {g.numel()} values, parameter {k} has {p.numel()}")
            p.grad = g
        optimizer.step()
        steps.append({
            "params": [encode(p, like) for p, like in zip(params, raw_params)],
            "square_avg": [encode(optimizer.state[p]["square_avg"], like) for p, like in zip(params, raw_params)],
        })
    json.dump({"torch": torch.__version__, "hyperparameters": used, "steps": steps}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    try:
        main()
    except (ValueError, KeyError, json.JSONDecodeError) as error:
        sys.exit(f"rmsprop_reference: bad input: {error!r}")
