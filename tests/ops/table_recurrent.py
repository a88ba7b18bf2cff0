"""Op table entries: the recurrent cell functions ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``,
``rnn_relu_cell`` (ember/ops/recurrent.py; whole layers are tested in tests/nn/test_rnn_layers.py)."""

from tests.ops.harness import FLOATS, ErrorInput, NonContig, OpInfo, Sample, T


def _lstm_cell(lib, x, h, c, *weights):
    return lib.lstm_cell(x, (h, c), *weights)


OPS = [
    OpInfo("lstm_cell", fn=_lstm_cell, dtypes=FLOATS, gradgradcheck=True, low=-1.0, high=1.0,
           samples=[
               Sample((3, 4), (3, 2), (3, 2), (8, 4), (8, 2), (8,), (8,)).named("bias"),
               Sample((3, 4), (3, 2), (3, 2), (8, 4), (8, 2)).named("no_bias"),
               Sample(NonContig((3, 4)), (3, 2), (3, 2), NonContig((8, 4)), (8, 2), (8,), (8,)).named("noncontig"),
               Sample((0, 4), (0, 2), (0, 2), (8, 4), (8, 2), (8,), (8,)).named("empty_batch"),
           ],
           errors=[
               ErrorInput(Sample((3, 5), (3, 2), (3, 2), (8, 4), (8, 2)), RuntimeError,
                          r"input has inconsistent input_size: got 5 expected 4"),
               ErrorInput(Sample((3, 4), (2, 2), (3, 2), (8, 4), (8, 2)), RuntimeError,
                          r"Input batch size 3 doesn't match hidden0 batch size 2"),
               ErrorInput(Sample((3, 4), (3, 3), (3, 2), (8, 4), (8, 2)), RuntimeError,
                          r"hidden0 has inconsistent hidden_size: got 3, expected 2"),
               ErrorInput(Sample((3, 4), (3, 2), (3, 3), (8, 4), (8, 2)), RuntimeError,
                          r"hidden1 has inconsistent hidden_size: got 3, expected 2"),
           ]),
    OpInfo("gru_cell", dtypes=FLOATS, gradgradcheck=True, low=-1.0, high=1.0,
           samples=[
               Sample((3, 4), (3, 2), (6, 4), (6, 2), (6,), (6,)).named("bias"),
               Sample((3, 4), (3, 2), (6, 4), (6, 2)).named("no_bias"),
               Sample((3, 4), NonContig((3, 2)), (6, 4), NonContig((6, 2)), (6,), (6,)).named("noncontig"),
           ],
           errors=[
               ErrorInput(Sample((3, 5), (3, 2), (6, 4), (6, 2)), RuntimeError,
                          r"input has inconsistent input_size: got 5 expected 4"),
               ErrorInput(Sample((3, 4), (3, 2), (6, 4), T((6, 2), "float64")), RuntimeError, r"same dtype"),
           ]),
    OpInfo("rnn_tanh_cell", dtypes=FLOATS, gradgradcheck=True, low=-1.0, high=1.0,
           samples=[
               Sample((3, 4), (3, 2), (2, 4), (2, 2), (2,), (2,)).named("bias"),
               Sample((1, 4), (1, 2), (2, 4), (2, 2)).named("no_bias"),
           ],
           errors=[
               ErrorInput(Sample((3, 4), (2, 2), (2, 4), (2, 2)), RuntimeError,
                          r"Input batch size 3 doesn't match hidden0 batch size 2"),
           ]),
    OpInfo("rnn_relu_cell", dtypes=FLOATS, low=-1.0, high=1.0,
           samples=[
               Sample((3, 4), (3, 2), (2, 4), (2, 2), (2,), (2,)).named("bias"),
           ]),
    OpInfo("nn.utils.rnn.pad_sequence", dtypes=FLOATS + ("int64",), gradgradcheck=True,
           fn=lambda lib, a, b, c, **kw: lib.nn.utils.rnn.pad_sequence([a, b, c], **kw),
           samples=[Sample((3, 2), (1, 2), (2, 2)), Sample((3,), (1,), (2,), batch_first=True, padding_value=-1.0)
                    .named("batch_first"), Sample((2, 2), (3, 2), (1, 2), padding_side="left").named("left")]),
]
