"""Benchmark: LSTM and GRU layers, tinyseq vs PyTorch CPU vs the numpy matmul bound.

    python benchmarks/bench_rnn.py                       # every case, 2 threads, each library alone
    python benchmarks/bench_rnn.py --contenders tinyseq,bound --turns 40
    python benchmarks/bench_rnn.py --size LSTM,train,50,32,64,128 --size BiLSTM2,infer,20,64,256,512
    python benchmarks/bench_rnn.py --contenders tinyseq,composed,torch   # add the composed reference path

A case is (layer, pass, T, B, I, H) on a float32 (T, B, I) input:
    layer  LSTM or GRU: one unidirectional layer;  BiLSTM2: a bidirectional 2-layer LSTM called
           with lengths= (drawn once in [T/2, T], the longest = T), the demos' shape. PyTorch runs it
           on a packed sequence (pack_padded_sequence, enforce_sorted=False) and pads the output back.
    pass   train: output, state = layer(x) on an x that requires a gradient, then
           output.backward(cotangent) with a fixed random cotangent, gradients reset each call;
           infer: the forward pass alone under no_grad() (torch.no_grad() for PyTorch).

Contenders: tinyseq (the fused path, the default), composed (tinyseq's step-by-step reference
path; not run unless asked for), torch, and "bound": only the matrix products that any
implementation of the same pass has to do, run back to back in numpy on arrays of the right shapes:
    forward   X W_ih^T over all steps at once              (T*B, I) x (I, G*H)
              h_{t-1} W_hh^T at every step                  T times (B, H) x (H, G*H)
    backward  dX = dA W_ih and dW_ih = dA^T X               (T*B, G*H) x (G*H, I), (G*H, T*B) x (T*B, I)
              dh_{t-1} = dA_t W_hh at every step            T times (B, G*H) x (G*H, H)
              dW_hh = dA^T H_prev over all steps at once    (G*H, T*B) x (T*B, H)
(G = 4 gates for the LSTM, 3 for the GRU; dA is the gradient of the gates' pre-activations), once
per layer and direction; BiLSTM2's second layer reads 2H inputs. The bound ignores lengths= (every
sequence is run for T steps). The elementwise gate arithmetic is not in the bound, so nothing
reaches it; tinyseq / bound shows how much time is spent outside BLAS. Each contender runs in its
own process with the same thread count (benchmarks/harness.py says why and how).
"""

import numpy as np

import harness

CONTENDERS = ("tinyseq", "composed", "torch", "bound")
DEFAULT_CONTENDERS = ("tinyseq", "torch", "bound")
SIZES = [  # (T, B, I, H)
    (50, 32, 64, 128),
    (100, 16, 32, 64),
    (20, 64, 256, 512),
]
CASES = ([(layer, "train", *size) for layer in ("LSTM", "GRU", "BiLSTM2") for size in SIZES]
         + [(layer, "infer", *size) for layer in ("LSTM", "GRU") for size in SIZES])
CASE_NAMES = ("layer", "pass", "T", "B", "I", "H")
LAYERS = {  # layer -> (class name, gates, num_layers, bidirectional, uses lengths)
    "LSTM": ("LSTM", 4, 1, False, False),
    "GRU": ("GRU", 3, 1, False, False),
    "BiLSTM2": ("LSTM", 4, 2, True, True),
}


def make_data(case):
    """x (T, B, I), the cotangent of the output and the lengths (None unless the layer uses them)."""
    layer, _, seq_len, batch, input_size, hidden = case
    _, _, _, bidirectional, uses_lengths = LAYERS[layer]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((seq_len, batch, input_size)).astype(np.float32)
    cotangent = rng.standard_normal((seq_len, batch, hidden * (2 if bidirectional else 1))).astype(np.float32)
    lengths = None
    if uses_lengths:
        lengths = rng.integers(max(seq_len // 2, 1), seq_len + 1, size=batch)
        lengths[0] = seq_len
        cotangent *= (np.arange(seq_len)[:, None] < lengths[None, :])[:, :, None]
    return x, cotangent, lengths


def tinyseq_step(case, fused):
    import tinyseq as ts
    import tinyseq.nn as nn

    layer_name, run, _, _, input_size, hidden = case
    class_name, _, num_layers, bidirectional, _ = LAYERS[layer_name]
    x_data, cotangent, lengths = make_data(case)
    ts.manual_seed(0)
    layer = getattr(nn, class_name)(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional)
    nn.use_reference_path(not fused)  # this process runs one contender only
    if run == "infer":
        x = ts.tensor(x_data)

        def step():
            with ts.no_grad():
                return layer(x, lengths=lengths)[0]

        return step
    x = ts.tensor(x_data, requires_grad=True)

    def step():
        layer.zero_grad()
        x.grad = None
        output, _ = layer(x, lengths=lengths)
        output.backward(cotangent)

    return step


def torch_step(case):
    torch = harness.import_torch()
    layer_name, run, _, _, input_size, hidden = case
    class_name, _, num_layers, bidirectional, _ = LAYERS[layer_name]
    x_data, cotangent_data, lengths = make_data(case)
    torch.manual_seed(0)
    layer = getattr(torch.nn, class_name)(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional)
    x = torch.tensor(x_data, requires_grad=run == "train")
    cotangent = torch.tensor(cotangent_data)
    pack, unpack = torch.nn.utils.rnn.pack_padded_sequence, torch.nn.utils.rnn.pad_packed_sequence

    def forward():
        if lengths is None:
            return layer(x)[0]
        packed = pack(x, torch.from_numpy(lengths), enforce_sorted=False)
        return unpack(layer(packed)[0], total_length=x.shape[0])[0]

    if run == "infer":
        def step():
            with torch.no_grad():
                return forward()

        return step

    def step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        forward().backward(cotangent)

    return step


def bound_step(case):
    """Only the matmuls of the pass (see the module docstring), every layer and direction."""
    layer_name, run, seq_len, batch, input_size, hidden = case
    _, gates_per_unit, num_layers, bidirectional, _ = LAYERS[layer_name]
    gates = gates_per_unit * hidden
    rng = np.random.default_rng(0)
    make = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    directions = 2 if bidirectional else 1
    runs = []  # one (x, W_ih, W_hh, H, dA) per layer and direction
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden * directions
        for _ in range(directions):
            runs.append((make(seq_len * batch, layer_input), make(gates, layer_input), make(gates, hidden),
                         make(seq_len, batch, hidden), make(seq_len, batch, gates)))

    def step():
        for x, weight_ih, weight_hh, hidden_states, grad_pre in runs:
            x @ weight_ih.T
            for t in range(seq_len):
                hidden_states[t] @ weight_hh.T
            if run == "infer":
                continue
            flat_grad = grad_pre.reshape(-1, gates)
            flat_grad @ weight_ih
            flat_grad.T @ x
            for t in range(seq_len):
                grad_pre[t] @ weight_hh
            flat_grad.T @ hidden_states.reshape(-1, hidden)

    return step


def make_step(contender, case):
    if contender == "torch":
        return torch_step(case)
    if contender == "bound":
        return bound_step(case)
    return tinyseq_step(case, fused=contender == "tinyseq")


def memory_bytes(case):
    """Rough peak: every gate pre-activation and state of every step, float32, a few copies."""
    layer_name, _, seq_len, batch, input_size, hidden = case
    _, gates, num_layers, bidirectional, _ = LAYERS[layer_name]
    directions = 2 if bidirectional else 1
    per_step = batch * (input_size + (gates + 4) * hidden * directions * num_layers)
    return 4 * 4 * seq_len * per_step


def main(argv=None):
    return harness.main(__file__, title="LSTM and GRU layers, float32 (train = forward + backward, infer = forward under no_grad)",
                        case_names=CASE_NAMES, cases=CASES, contenders=CONTENDERS,
                        default_contenders=DEFAULT_CONTENDERS,
                        ratios=[("tinyseq", "torch"), ("tinyseq", "bound"), ("composed", "tinyseq")],
                        make_step=make_step, memory_bytes=memory_bytes, argv=argv,
                        check_case=lambda case: harness.case_error(case, CASE_NAMES, {"layer": tuple(LAYERS),
                                                                                      "pass": ("train", "infer")}))


if __name__ == "__main__":
    main()
