#!/usr/bin/env python3
"""PyTorch's side of `npm run bench`: training throughput of the five study architectures.

  python3 training_pytorch.py IMAGES_IDX LABELS_IDX --images 3200 --epochs 3 --threads 1 [--arch simple,lenet]

Reads the first IMAGES MNIST training images from the IDX files (as test/bench/training.ts does,
pixels / 255), and trains each architecture as ml/model/architectures.ts builds it (PyTorch's
layers and default initialisation, NCHW) with Adam (lr 1e-3) and cross-entropy, at the study's
batch size, for EPOCHS epochs over a fresh shuffle each. A step is what ours does: gather the
batch, forward, loss, backward, optimizer step, and read the loss and the count of correct
predictions back. Prints one JSON line: per architecture, every epoch's images/s.
Needs a python3 that imports torch (Debian: apt-get install python3-torch).
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn

BATCH = {"simple": 64, "lenet": 64, "textbook": 64, "cnn9": 128, "conv1": 32}


def build(arch):
    relu, pool = nn.ReLU, lambda: nn.MaxPool2d(2)
    if arch == "cnn9":
        return nn.Sequential(nn.Conv2d(1, 8, 9, padding=4), relu(), pool(), nn.Conv2d(8, 16, 9, padding=4), relu(), pool(),
                             nn.Flatten(), nn.Linear(784, 10))
    if arch == "conv1":
        return nn.Sequential(nn.Conv2d(1, 10, 8, stride=2), relu(), nn.Flatten(), nn.Linear(1210, 10))
    if arch == "simple":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), relu(), pool(), nn.Conv2d(32, 32, 3, padding=1), relu(), pool(),
                             nn.Flatten(), nn.Linear(1568, 500), relu(), nn.Linear(500, 10))
    if arch == "lenet":
        return nn.Sequential(nn.Conv2d(1, 20, 5), relu(), pool(), nn.Conv2d(20, 50, 5), relu(), pool(),
                             nn.Flatten(), nn.Linear(800, 500), relu(), nn.Linear(500, 10))
    if arch == "textbook":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), relu(), pool(), nn.Conv2d(32, 64, 3, padding=1), relu(), pool(),
                             nn.Flatten(), nn.Linear(3136, 128), relu(), nn.Linear(128, 10))
    raise SystemExit(f"unknown architecture {arch!r}: use {', '.join(BATCH)}")


def read_idx(path, count, header, item):
    with open(path, "rb") as f:
        f.seek(header)
        data = np.frombuffer(f.read(count * item), dtype=np.uint8)
    if data.size != count * item:
        raise SystemExit(f"{path}: holds fewer than {count} items")
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images_idx")
    parser.add_argument("labels_idx")
    parser.add_argument("--images", type=int, default=3200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arch", default=",".join(BATCH))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    pixels = read_idx(args.images_idx, args.images, 16, 784).astype(np.float32) / 255.0
    images = torch.from_numpy(pixels.reshape(-1, 1, 28, 28).copy())
    labels = torch.from_numpy(read_idx(args.labels_idx, args.images, 8, 1).astype(np.int64))
    rows = []
    for arch in [a for a in args.arch.split(",") if a]:
        model = build(arch)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        batch = BATCH[arch]
        rates = []
        for _ in range(args.epochs):
            started = time.perf_counter()
            order = torch.randperm(args.images)
            for start in range(0, args.images, batch):
                idx = order[start:start + batch]
                x, y = images[idx], labels[idx]
                optimizer.zero_grad()
                logits = model(x)
                loss = loss_fn(logits, y)
                loss.backward()
                optimizer.step()
                loss.item()
                (logits.argmax(1) == y).sum().item()
            rates.append(args.images / (time.perf_counter() - started))
        rows.append({"arch": arch, "batchSize": batch, "epochs": rates})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
