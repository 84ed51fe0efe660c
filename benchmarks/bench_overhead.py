"""Benchmark: what one recorded op costs, beyond the numpy arithmetic it wraps.

    python benchmarks/bench_overhead.py                 # 1,000 nodes on 4 x 4 float32 tensors
    python benchmarks/bench_overhead.py --size 64 --repeats 50

The workload is a chain of --nodes ops on tiny tensors, in blocks of four like one step of a
recurrent cell:  h = tanh((h @ W) * a + b),  with W (S, S), a and b (S,) shared by every block, so
their gradients accumulate over the whole chain as an RNN's weights do. One timed call is the
forward pass (recording the graph) and backward() from sum(h).

"numpy" runs the same arithmetic with no framework: the forward pass keeps what the backward
needs, and the backward is written out by hand (the chain rule for each of the four ops, gradients
of W, a and b accumulated with +=). It is the floor any autograd on numpy can reach, so
(tinyseq - numpy) / nodes is the framework's own cost per node: creating the Tensor and its graph
node, the topological sort, and the engine's bookkeeping in backward. Target: under 10 us per node.

PyTorch CPU (when installed, one thread) runs the same chain with its autograd, for scale.

Times are CPU seconds of this process (time.process_time), not wall-clock: on a machine shared with
other jobs, wall-clock time also counts the moments the process waits for a core. Each figure is
the median of --repeats calls after a warm-up, the contenders interleaved call by call so they see
the same conditions; compare ratios, and rerun before trusting a small difference.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinyseq as ts  # noqa: E402

OPS_PER_BLOCK = 4  # matmul, mul, add, tanh


def make_inputs(size, seed=0):
    rng = np.random.default_rng(seed)
    h0 = rng.standard_normal((size, size)).astype(np.float32)
    weight = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, size).astype(np.float32)
    shift = rng.uniform(-0.1, 0.1, size).astype(np.float32)
    return h0, weight, scale, shift


def tinyseq_forward(arrays, blocks):
    """The forward pass alone (recording the graph); returns the loss and the leaves."""
    leaves = [ts.tensor(v, requires_grad=True) for v in arrays]
    h, w, a, b = leaves
    out = h
    for _ in range(blocks):
        out = ts.tanh((out @ w) * a + b)
    return out.sum(), leaves


def tinyseq_step(arrays, blocks):
    """Forward through `blocks` blocks and backward; returns the gradients (to check them)."""
    loss, leaves = tinyseq_forward(arrays, blocks)
    loss.backward()
    return [leaf.grad for leaf in leaves]


def numpy_step(arrays, blocks):
    """The same computation with a hand-written backward: the floor for any numpy autograd."""
    h0, weight, scale, shift = arrays
    inputs, products, outputs = [], [], []
    h = h0
    for _ in range(blocks):
        inputs.append(h)
        product = h @ weight
        products.append(product)
        h = np.tanh(product * scale + shift)
        outputs.append(h)
    grad_w, grad_a, grad_b = np.zeros_like(weight), np.zeros_like(scale), np.zeros_like(shift)
    grad = np.ones_like(h)
    for h_in, product, h_out in zip(reversed(inputs), reversed(products), reversed(outputs)):
        grad_pre = grad * (1 - h_out * h_out)          # tanh
        grad_b += grad_pre.sum(axis=0)                   # add (b broadcast over rows)
        grad_a += (grad_pre * product).sum(axis=0)       # mul (a broadcast over rows)
        grad_product = grad_pre * scale
        grad_w += h_in.T @ grad_product                  # matmul
        grad = grad_product @ weight.T
    return grad, grad_w, grad_a, grad_b


def torch_step(torch, arrays, blocks):
    h0, weight, scale, shift = (torch.from_numpy(v) for v in arrays)
    h = h0.clone().requires_grad_()
    w, a, b = (v.clone().requires_grad_() for v in (weight, scale, shift))
    out = h
    for _ in range(blocks):
        out = torch.tanh((out @ w) * a + b)
    out.sum().backward()
    return h.grad, w.grad, a.grad, b.grad


def time_interleaved(contenders, repeats, warmup=2):
    """Median CPU seconds per call of each contender, calls interleaved round-robin."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000, help="recorded ops in the chain (a multiple of 4)")
    parser.add_argument("--size", type=int, default=4, help="tensors are (size, size) and (size,)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    args = parser.parse_args(argv)
    blocks = max(args.nodes // OPS_PER_BLOCK, 1)
    nodes = blocks * OPS_PER_BLOCK
    arrays = make_inputs(args.size)

    ours, floor = tinyseq_step(arrays, blocks), numpy_step(arrays, blocks)
    for got, want in zip(ours, floor):  # the comparison is only fair if both compute the same thing
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)

    contenders = {"tinyseq": lambda: tinyseq_step(arrays, blocks), "numpy": lambda: numpy_step(arrays, blocks),
                  "forward": lambda: tinyseq_forward(arrays, blocks)}
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("(PyTorch not installed: pip install -e '.[parity]' to add its column)")
    if torch is not None:
        torch.set_num_threads(1)
        contenders["torch"] = lambda: torch_step(torch, arrays, blocks)

    medians = time_interleaved(contenders, args.repeats)
    print(f"chain of {nodes} recorded ops (h = tanh((h @ W) * a + b), {blocks} times) on "
          f"({args.size}, {args.size}) float32, forward + backward, median of {args.repeats}")
    forward = medians.pop("forward")
    print(f"{'':10s}{'ms / call':>12s}{'us / node':>12s}{'x numpy':>10s}")
    for name, seconds in medians.items():
        print(f"{name:10s}{seconds * 1e3:12.2f}{seconds / nodes * 1e6:12.2f}{seconds / medians['numpy']:10.1f}")
    per_node = medians["tinyseq"] / nodes * 1e6
    print(f"tinyseq per node: {forward / nodes * 1e6:.2f} us forward + "
          f"{(medians['tinyseq'] - forward) / nodes * 1e6:.2f} us backward = {per_node:.2f} us "
          f"({'within' if per_node < 10 else 'ABOVE'} the 10 us target); "
          f"{(medians['tinyseq'] - medians['numpy']) / nodes * 1e6:.2f} us of it is tinyseq's own cost")


if __name__ == "__main__":
    main()
