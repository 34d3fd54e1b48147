"""The backprop exercise of the notebooks (makemore part 4 style): an MLP with batch norm, its
forward pass in chainrule with every value named, and the backward pass written by hand."""

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

N, D, H, C = 32, 10, 64, 5


def forward(seed: int = 0):
    """(loss, {name: tensor}) for one batch."""
    cr.manual_seed(seed)
    x = cr.randn(N, D)
    y = cr.randint(0, C, (N,))
    W1 = (cr.randn(D, H) * (5 / 3) / D ** 0.5).requires_grad_()
    b1 = (cr.randn(H) * 0.1).requires_grad_()
    bngain = (1 + 0.1 * cr.randn(1, H)).requires_grad_()
    bnbias = (0.1 * cr.randn(1, H)).requires_grad_()
    W2 = (cr.randn(H, C) * 0.1).requires_grad_()
    b2 = (cr.randn(C) * 0.1).requires_grad_()
    hprebn = x @ W1 + b1
    bnmeani = 1 / N * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (N - 1) * bndiff2.sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = hpreact.tanh()
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, y)
    values = dict(x=x, W1=W1, b1=b1, bngain=bngain, bnbias=bnbias, W2=W2, b2=b2, hprebn=hprebn,
                  bnmeani=bnmeani, bndiff=bndiff, bndiff2=bndiff2, bnvar=bnvar, bnvar_inv=bnvar_inv,
                  bnraw=bnraw, hpreact=hpreact, h=h, logits=logits)
    return loss, values, y


def by_hand(values, y, slips=None):
    """Every gradient, derived by hand with NumPy; ``slips`` {name: fn(grads, arrays)} replaces
    one gradient with a planted mistake (computed from the right upstream gradients)."""
    a = {k: t.numpy() for k, t in values.items()}
    slips = slips or {}
    target = y.numpy()
    probs = np.exp(a["logits"] - a["logits"].max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    g = {}

    def put(name, value):
        g[name] = value                     # the right value first: a slip may start from it
        if name in slips:
            g[name] = slips[name](g, a)

    dlogits = probs.copy()
    dlogits[np.arange(N), target] -= 1
    put("logits", dlogits / N)
    put("h", g["logits"] @ a["W2"].T)
    put("W2", a["h"].T @ g["logits"])
    put("b2", g["logits"].sum(0))
    put("hpreact", (1 - a["h"] ** 2) * g["h"])
    put("bngain", (a["bnraw"] * g["hpreact"]).sum(0, keepdims=True))
    put("bnraw", a["bngain"] * g["hpreact"])
    put("bnbias", g["hpreact"].sum(0, keepdims=True))
    put("bnvar_inv", (a["bndiff"] * g["bnraw"]).sum(0, keepdims=True))
    put("bnvar", -0.5 * (a["bnvar"] + 1e-5) ** -1.5 * g["bnvar_inv"])
    put("bndiff2", 1 / (N - 1) * np.ones_like(a["bndiff2"]) * g["bnvar"])
    put("bndiff", a["bnvar_inv"] * g["bnraw"] + 2 * a["bndiff"] * g["bndiff2"])
    put("bnmeani", -g["bndiff"].sum(0, keepdims=True))
    put("hprebn", g["bndiff"] + 1 / N * np.ones_like(a["hprebn"]) * g["bnmeani"])
    put("W1", a["x"].T @ g["hprebn"])
    put("b1", g["hprebn"].sum(0))
    return g
