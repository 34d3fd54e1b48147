"""chainrule.nn: modules, layers, losses, initialisation and the functional API (PyTorch's names).

    from chainrule import nn
    import chainrule.nn.functional as F
"""

from . import functional, init, parallel, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear, Unflatten
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter, RemovableHandle
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .residual import Residual

# --- recurrent layers (issue 15): whole sequences, single steps; nn.utils.rnn pads and packs ---
from .rnn import GRU, LSTM, RNN, RNNBase  # noqa: E402
from .rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase  # noqa: E402
from .sync_batchnorm import SyncBatchNorm

# isort: split
# --- attention, Transformers and the layers learners build next (issue 15) --------------------
from .activation import (  # noqa: E402
    CELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    ReLU6,
    Softsign,
    Tanhshrink,
)
from .attention import MultiheadAttention  # noqa: E402
from .conv_transpose import ConvTranspose1d, ConvTranspose2d  # noqa: E402
from .group_norm import GroupNorm  # noqa: E402
from .transformer import Transformer, TransformerDecoder, TransformerEncoder  # noqa: E402
from .transformer_layers import TransformerDecoderLayer, TransformerEncoderLayer  # noqa: E402
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: E402
