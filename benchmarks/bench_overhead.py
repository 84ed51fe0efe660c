"""Benchmark: what one recorded op costs, beyond the numpy arithmetic it wraps.

    python benchmarks/bench_overhead.py                     # 1,000 nodes on 4 x 4 float32 tensors
    python benchmarks/bench_overhead.py --size 1000,64 --turns 40
    python benchmarks/bench_overhead.py --contenders tinyseq,forward,numpy

A case is (nodes, S). The workload is a chain of `nodes` ops on tiny tensors, in blocks of four like
one step of a recurrent cell:  h = tanh((h @ W) * a + b),  with W (S, S), a and b (S,) shared by every
block, so their gradients accumulate over the whole chain as an RNN's weights do. One timed call is
the forward pass (recording the graph) and backward() from sum(h).

Contenders, each in its own process with the same thread count (benchmarks/harness.py):
  tinyseq   forward + backward through tinyseq's autograd;
  forward   tinyseq's forward pass alone (recording the graph), to split the cost;
  torch     the same chain with PyTorch's autograd;
  numpy     the same arithmetic with no framework: the forward pass keeps what the backward needs,
            and the backward is written out by hand (the chain rule for each of the four ops,
            gradients of W, a and b accumulated with +=). It is the floor any autograd on numpy
            can reach, so (tinyseq - numpy) / nodes is the framework's own cost per node.
The lines under the table give each contender's time per node (min over calls / nodes).
"""

import numpy as np

import harness

CONTENDERS = ("tinyseq", "forward", "torch", "numpy")
DEFAULT_CONTENDERS = ("tinyseq", "torch", "numpy")
CASES = [(1000, 4)]  # (nodes, S)
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
    import tinyseq as ts

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


def make_step(contender, case):
    nodes, size = case
    blocks = max(nodes // OPS_PER_BLOCK, 1)
    arrays = make_inputs(size)
    if contender == "torch":
        torch = harness.import_torch()
        return lambda: torch_step(torch, arrays, blocks)
    if contender == "numpy":
        return lambda: numpy_step(arrays, blocks)
    if contender == "forward":
        return lambda: tinyseq_forward(arrays, blocks)
    # The comparison is only fair if both compute the same thing.
    for got, want in zip(tinyseq_step(arrays, blocks), numpy_step(arrays, blocks)):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
    return lambda: tinyseq_step(arrays, blocks)


def per_node(cases, measured):
    """Microseconds per recorded node for every contender measured, from the minima."""
    lines = []
    for case in cases:
        nodes = max(case[0] // OPS_PER_BLOCK, 1) * OPS_PER_BLOCK
        best = {name: min(results[tuple(case)]["times_ms"]) for name, results in measured.items()
                if "times_ms" in results[tuple(case)]}
        parts = [f"{name} {ms / nodes * 1e3:.2f} us" for name, ms in best.items()]
        if "tinyseq" in best and "numpy" in best:
            parts.append(f"tinyseq's own cost {(best['tinyseq'] - best['numpy']) / nodes * 1e3:.2f} us")
        lines.append(f"per node at {case}: " + ", ".join(parts))
    return lines


def check_case(case):
    """A chain is whole blocks of four ops: nodes must be a positive multiple of OPS_PER_BLOCK."""
    problem = harness.case_error(case, ("nodes", "S"), {})
    if problem is None and case[0] % OPS_PER_BLOCK:
        problem = f"nodes must be a multiple of {OPS_PER_BLOCK} (whole blocks), got {case[0]}"
    return problem


def main(argv=None):
    return harness.main(__file__, title="Engine overhead: a chain of recorded ops h = tanh((h @ W) * a + b), forward + backward",
                        case_names=("nodes", "S"), cases=CASES, contenders=CONTENDERS,
                        default_contenders=DEFAULT_CONTENDERS,
                        ratios=[("tinyseq", "torch"), ("tinyseq", "numpy")], make_step=make_step,
                        argv=argv, epilogue=per_node, check_case=check_case)


if __name__ == "__main__":
    main()
