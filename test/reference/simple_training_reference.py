#!/usr/bin/env python3
"""Study 002's SimpleCNN trained by PyTorch on given images: the reference for our `simple` runs.

  python3 simple_training_reference.py DATA_DIR --optimizer rmsprop --lr 0.001 --epochs 3 --batch 64 --seed 1

DATA_DIR holds train-images.f32 / test-images.f32 (N x 784 little-endian float32, the network's
input as our dataset stores it) and train-labels.i32 / test-labels.i32 (N int32), as written by
rmsprop-training-comparison.ts. The model, loss and optimizers are 002's code (optim.RMSprop,
optim.Adam, optim.SGD with torch's defaults beyond lr and momentum); the loader shuffles with
the seed. Prints one JSON line: per epoch, the mean training loss and the test accuracy.
Needs a python3 that imports torch (Debian: apt-get install python3-torch).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class SimpleCNN(nn.Module):
    """002's network: two 3x3 conv (padding 1) + ReLU + max-pool blocks of 32 filters, fc 1568 -> 500 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        )
        self.fc_block = nn.Sequential(nn.Linear(32 * 7 * 7, 500), nn.ReLU(), nn.Linear(500, 10))

    def forward(self, x):
        return self.fc_block(self.conv_block(x).view(x.size(0), -1))


def load(data_dir, split):
    images = np.fromfile(os.path.join(data_dir, f"{split}-images.f32"), dtype="<f4")
    labels = np.fromfile(os.path.join(data_dir, f"{split}-labels.i32"), dtype="<i4")
    if images.size != labels.size * 784:
        sys.exit(f"{data_dir}: {split}-images.f32 has {images.size} values for {labels.size} labels (expected {labels.size * 784})")
    return torch.from_numpy(images.reshape(-1, 1, 28, 28).copy()), torch.from_numpy(labels.astype(np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--optimizer", choices=["sgd", "rmsprop", "adam"], default="rmsprop")
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data_dir, "train")
    test_x, test_y = load(args.data_dir, "test")
    net = SimpleCNN()
    if args.optimizer == "rmsprop":
        optimizer = optim.RMSprop(net.parameters(), lr=args.lr)
    elif args.optimizer == "adam":
        optimizer = optim.Adam(net.parameters(), lr=args.lr)
    else:
        optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    criterion = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_x, train_y), batch_size=args.batch, shuffle=True)

    epochs = []
    for _ in range(args.epochs):
        net.train()
        loss_sum, seen = 0.0, 0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            seen += len(y)
        net.eval()
        with torch.no_grad():
            correct = sum(int((net(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum()) for i in range(0, len(test_y), 1000))
        epochs.append({"trainLoss": loss_sum / seen, "testAccuracy": correct / len(test_y)})
    print(json.dumps({"torch": torch.__version__, "seed": args.seed, "epochs": epochs}))


if __name__ == "__main__":
    main()
