#!/usr/bin/env python3
"""PyTorch side of Kiln's GPU benchmarks (issue 8), same workloads as dev.kiln.cuda.GpuBench.

W2: wide-MLP training step 784 -> 1024 -> 1024 -> 10 (relu, softmax cross-entropy, SGD), batch 256
and 4096, data resident on the GPU; each step reads the loss back (loss.item()), as Kiln's step
fetches it: ms/step for eager and torch.compile.
W3: y = tanh(exp(-x*x) * 0.5 + sigmoid(x)) * x - 1 over 4,194,304 and 268,435,456 floats; GB/s counting 8 bytes per element, against y.copy_(x) bandwidth.

Usage: python3 scripts/gpu_torch_bench.py [results-file]   (appends a table like GpuBench's)
"""
import sys
import time

import torch
import torch.nn.functional as F


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


def w2(batch, compiled):
    torch.manual_seed(0)
    dev = "cuda"
    x = torch.randn(batch, 784, device=dev)
    labels = torch.randint(0, 10, (batch,), device=dev)
    w1 = (torch.randn(784, 1024, device=dev) * 0.03).requires_grad_()
    w2_ = (torch.randn(1024, 1024, device=dev) * 0.03).requires_grad_()
    w3 = (torch.randn(1024, 10, device=dev) * 0.03).requires_grad_()
    params = [w1, w2_, w3]

    def loss_fn():
        a1 = torch.relu(x @ w1)
        a2 = torch.relu(a1 @ w2_)
        return F.cross_entropy(a2 @ w3, labels)

    def step_eager():
        loss = loss_fn()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(0.01 * g)
        return loss

    step = torch.compile(step_eager) if compiled else step_eager
    reps = 100 if batch >= 4096 else 300
    return 1e3 * timed(lambda: step().item(), reps, 20)


def chain(x):
    return torch.tanh(torch.exp(-x * x) * 0.5 + torch.sigmoid(x)) * x - 1


def w3(n, compiled):
    x = torch.randn(n, device="cuda")
    f = torch.compile(chain) if compiled else chain

    def run():
        f(x)  # one read of x, one write of the result (the caching allocator reuses the buffer)

    reps = 50 if n > 10_000_000 else 500
    return 8.0 * n / timed(run, reps, 5) / 1e9


def copy_bw(n):
    x = torch.randn(n, device="cuda")
    y = torch.empty_like(x)
    reps = 20 if n > 10_000_000 else 200
    return 8.0 * n / timed(lambda: y.copy_(x), reps, 3) / 1e9


def main():
    lines = [f"# PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}",
             "workload | size | eager | torch.compile | unit"]
    for batch in (256, 4096):
        lines.append(f"W2 train step | batch {batch} | {w2(batch, False):.3f} | {w2(batch, True):.3f} | ms/step")
        print(lines[-1], file=sys.stderr)
    for n in (4_194_304, 268_435_456):
        lines.append(f"D2D copy | {n} floats | {copy_bw(n):.3f} | - | GB/s")
        lines.append(f"W3 chain | {n} floats | {w3(n, False):.3f} | {w3(n, True):.3f} | GB/s")
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines) + "\n"
    print(table, end="")
    if len(sys.argv) > 1:
        with open(sys.argv[1], "a") as f:
            f.write(table)


if __name__ == "__main__":
    main()
