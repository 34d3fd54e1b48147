"""Every nn layer with an input it takes: what the compile tests run in mode="check".

Each case is (name, make_module, make_inputs); make_inputs() returns a tuple of call arguments
(float tensors require grad, so the backward reaches them too). Losses are called with
(input, target).
"""

from __future__ import annotations

import chainrule as cr
from chainrule import nn


def _x(*shape, grad=True):
    return cr.randn(*shape).requires_grad_(grad)


def _labels(n, classes):
    return cr.randint(0, classes, (n,))


def _unit(*shape):
    return cr.rand(*shape) * 0.8 + 0.1


def _train(module):
    return module.train()


def _eval(module):
    return module.eval()


ACTIVATIONS = ["ReLU", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
               "Softplus", "Softsign", "Tanhshrink", "LogSigmoid", "Hardsigmoid", "Hardswish", "Hardtanh",
               "ReLU6"]

CASES = [(name, (lambda name=name: getattr(nn, name)()), lambda: (_x(4, 5),)) for name in ACTIVATIONS]
CASES += [
    ("Softmax", lambda: nn.Softmax(dim=1), lambda: (_x(4, 5),)),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), lambda: (_x(4, 5),)),
    ("Identity", nn.Identity, lambda: (_x(3, 2),)),
    ("Linear", lambda: nn.Linear(4, 3), lambda: (_x(5, 4),)),
    ("Linear 3-D input", lambda: nn.Linear(4, 3), lambda: (_x(2, 5, 4),)),
    ("Linear no bias", lambda: nn.Linear(4, 3, bias=False), lambda: (_x(5, 4),)),
    ("Flatten", nn.Flatten, lambda: (_x(2, 3, 4),)),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda: (_x(4, 6),)),
    ("Conv1d", lambda: nn.Conv1d(2, 3, 3, padding=1), lambda: (_x(2, 2, 8),)),
    ("Conv2d", lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), lambda: (_x(2, 2, 8, 8),)),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), lambda: (_x(2, 2, 5),)),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), lambda: (_x(2, 2, 4, 4),)),
    ("MaxPool1d", lambda: nn.MaxPool1d(2), lambda: (_x(2, 3, 8),)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), lambda: (_x(2, 3, 8, 8),)),
    ("AvgPool1d", lambda: nn.AvgPool1d(2), lambda: (_x(2, 3, 8),)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), lambda: (_x(2, 3, 8, 8),)),
    ("AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(3), lambda: (_x(2, 3, 8),)),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: (_x(2, 3, 8, 8),)),
    ("BatchNorm1d train", lambda: _train(nn.BatchNorm1d(3)), lambda: (_x(6, 3),)),
    ("BatchNorm1d eval", lambda: _eval(nn.BatchNorm1d(3)), lambda: (_x(6, 3),)),
    ("BatchNorm2d train", lambda: _train(nn.BatchNorm2d(3)), lambda: (_x(2, 3, 4, 4),)),
    ("BatchNorm2d momentum=None", lambda: nn.BatchNorm2d(3, momentum=None), lambda: (_x(2, 3, 4, 4),)),
    ("LayerNorm", lambda: nn.LayerNorm(5), lambda: (_x(2, 3, 5),)),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), lambda: (_x(2, 4, 3),)),
    ("Embedding", lambda: nn.Embedding(10, 4, padding_idx=0), lambda: (cr.tensor([[1, 2, 0], [4, 4, 9]]),)),
    ("Dropout train", lambda: _train(nn.Dropout(0.3)), lambda: (_x(6, 5),)),
    ("Dropout eval", lambda: _eval(nn.Dropout(0.3)), lambda: (_x(6, 5),)),
    ("Residual", lambda: nn.Residual(nn.Linear(4, 4)), lambda: (_x(3, 4),)),
    ("Upsample nearest", lambda: nn.Upsample(scale_factor=2), lambda: (_x(1, 2, 3, 3),)),
    ("Upsample bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), lambda: (_x(1, 2, 3, 3),)),
    ("UpsamplingNearest2d", lambda: nn.UpsamplingNearest2d(scale_factor=2), lambda: (_x(1, 2, 3, 3),)),
    ("UpsamplingBilinear2d", lambda: nn.UpsamplingBilinear2d(scale_factor=2), lambda: (_x(1, 2, 3, 3),)),
    ("RNN", lambda: nn.RNN(3, 4, num_layers=2), lambda: (_x(5, 2, 3),)),
    ("LSTM", lambda: nn.LSTM(3, 4, batch_first=True), lambda: (_x(2, 5, 3),)),
    ("GRU", lambda: nn.GRU(3, 4, bidirectional=True), lambda: (_x(5, 2, 3),)),
    ("RNNCell", lambda: nn.RNNCell(3, 4), lambda: (_x(2, 3), _x(2, 4))),
    ("LSTMCell", lambda: nn.LSTMCell(3, 4), lambda: (_x(2, 3),)),
    ("GRUCell", lambda: nn.GRUCell(3, 4), lambda: (_x(2, 3), _x(2, 4))),
    ("MultiheadAttention", lambda: nn.MultiheadAttention(8, 2, batch_first=True),
     lambda: (_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8))),
    ("TransformerEncoderLayer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True),
     lambda: (_x(2, 5, 8),)),
    ("TransformerDecoderLayer", lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
     lambda: (_x(5, 2, 8), _x(4, 2, 8))),
    ("TransformerEncoder", lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True), 2, enable_nested_tensor=False),
     lambda: (_x(5, 2, 8),)),
    ("TransformerDecoder",
     lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
     lambda: (_x(5, 2, 8), _x(4, 2, 8))),
    ("Transformer", lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0), lambda: (_x(5, 2, 8), _x(4, 2, 8))),
    ("CosineSimilarity", lambda: nn.CosineSimilarity(dim=1), lambda: (_x(4, 5), _x(4, 5))),
    ("PairwiseDistance", nn.PairwiseDistance, lambda: (_x(4, 5), _x(4, 5))),
    ("Sequential", lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), lambda: (_x(3, 4),)),
    ("MSELoss", nn.MSELoss, lambda: (_x(4, 3), _x(4, 3, grad=False))),
    ("L1Loss", nn.L1Loss, lambda: (_x(4, 3), _x(4, 3, grad=False))),
    ("SmoothL1Loss", nn.SmoothL1Loss, lambda: (_x(4, 3), _x(4, 3, grad=False))),
    ("HuberLoss", nn.HuberLoss, lambda: (_x(4, 3), _x(4, 3, grad=False))),
    ("BCELoss", nn.BCELoss, lambda: (_unit(4, 3).requires_grad_(), _unit(4, 3))),
    ("BCEWithLogitsLoss", nn.BCEWithLogitsLoss, lambda: (_x(4, 3), _unit(4, 3))),
    ("CrossEntropyLoss", nn.CrossEntropyLoss, lambda: (_x(4, 5), _labels(4, 5))),
    ("CrossEntropyLoss smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
     lambda: (_x(4, 5), _labels(4, 5))),
    ("NLLLoss", nn.NLLLoss, lambda: (_x(4, 5), _labels(4, 5))),
    ("KLDivLoss", lambda: nn.KLDivLoss(reduction="batchmean"), lambda: (_x(4, 5), _unit(4, 5))),
    ("CosineEmbeddingLoss", nn.CosineEmbeddingLoss, lambda: (_x(4, 5), _x(4, 5), cr.tensor([1, -1, 1, -1]))),
]
