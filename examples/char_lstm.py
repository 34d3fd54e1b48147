"""A character-level LSTM language model learns a generated text with chainrule.

    python examples/char_lstm.py [--steps 300] [--seed 0]

The text comes from a small grammar ("the cat sat on the mat. a fox ran by the log. ..."): a
pattern with variation, which the last character alone does not predict: the model has to
remember where in the sentence it is. Training is truncated backpropagation through time: each
of a batch of streams reads its part of the text chunk after chunk; the LSTM's state is carried
from one chunk to the next but detached, so each backward pass stops at the chunk's start.

Prints the loss (nats per character; the grammar's own entropy is about 0.2) as it falls, and
a continuation of a prompt.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim

GRAMMAR = [("the", "a"), ("cat", "dog", "fox", "bird"), ("sat", "ran", "slept"), ("on", "by", "under"),
           ("the",), ("mat.", "log.", "rug.")]


def make_text(sentences: int, seed: int = 0) -> str:
    """``sentences`` sentences of the grammar, each word picked at random, joined by spaces."""
    rng = np.random.default_rng(seed)
    return " ".join(" ".join(choices[rng.integers(len(choices))] for choices in GRAMMAR)
                    for _ in range(sentences)) + " "


class CharLM(nn.Module):
    """characters -> embedding -> LSTM -> logits for the next character, at every step."""

    def __init__(self, vocab: int, embed: int = 16, hidden: int = 64, layers: int = 1):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        """ids (T, B) -> logits (T, B, vocab), and the LSTM's final (h, c)."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def train(model: CharLM, ids: np.ndarray, steps: int, batch: int = 16, chunk: int = 32,
          lr: float = 0.01) -> list:
    """Truncated BPTT over ``batch`` streams; returns the loss of every step."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    length = (len(ids) - 1) // batch
    streams = np.stack([ids[b * length:(b + 1) * length + 1] for b in range(batch)], axis=1)  # (length+1, B)
    losses, state, start = [], None, 0
    for _ in range(steps):
        if start + chunk >= length:  # back to the beginning: the carried state would not fit
            state, start = None, 0
        inputs = cr.tensor(streams[start:start + chunk])
        targets = cr.tensor(streams[start + 1:start + chunk + 1])
        logits, state = model(inputs, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state = tuple(s.detach() for s in state)  # truncate: the next backward stops here
        losses.append(loss.item())
        start += chunk
    return losses


def continue_text(model: CharLM, prompt: str, length: int, alphabet: str) -> str:
    """The prompt followed by ``length`` characters, each the model's most likely next one."""
    index = {ch: i for i, ch in enumerate(alphabet)}
    model.eval()
    with cr.no_grad():
        logits, state = model(cr.tensor([[index[ch]] for ch in prompt]))
        text = prompt
        for _ in range(length):
            ch = alphabet[int(logits[-1, 0].argmax())]
            text += ch
            logits, state = model(cr.tensor([[index[ch]]]), state)
    model.train()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cr.manual_seed(args.seed)
    text = make_text(2000, args.seed)
    alphabet = "".join(sorted(set(text)))
    ids = np.array([alphabet.index(ch) for ch in text], dtype=np.int64)
    model = CharLM(len(alphabet))
    started = time.perf_counter()
    losses = train(model, ids, args.steps)
    for step in range(0, args.steps, max(1, args.steps // 6)):
        print(f"step {step:4d}  loss {np.mean(losses[step:step + 10]):.3f}")
    print(f"final loss {np.mean(losses[-20:]):.3f} (mean of the last 20 steps), "
          f"{time.perf_counter() - started:.1f} s")
    print("sample:", continue_text(model, "the cat ", 60, alphabet))


if __name__ == "__main__":
    main()
