"""The GPT workload's model: the small GPT of "Let's build GPT" (the character model of
tests/torch_scripts/scripts/gpt.py), written once for any library with PyTorch's API.

    model = build_gpt(torch, problem)        # torch is the torch module, or chainrule
    logits, loss = model(idx, targets)

Token + position embeddings; ``n_layer`` blocks of pre-LayerNorm multi-head causal self-attention
(each head its own key/query/value Linear, q @ k^T scaled, masked_fill on a registered tril
buffer, softmax, @ v; the heads concatenated and projected) and a ReLU feed-forward layer; a final
LayerNorm and the language-model head; cross-entropy on every position. Dropout is 0, so both
libraries do the same arithmetic; the weights come from ``problem["weight"](name, shape)``
(problems.py), by parameter name.
"""

from __future__ import annotations


def build_gpt(torch, problem):
    nn, F = torch.nn, torch.nn.functional
    vocab, block, n_embd, n_head, n_layer = (problem[k] for k in ("vocab", "block", "n_embd", "n_head",
                                                                   "n_layer"))

    class Head(nn.Module):
        def __init__(self, head_size):
            super().__init__()
            self.key = nn.Linear(n_embd, head_size, bias=False)
            self.query = nn.Linear(n_embd, head_size, bias=False)
            self.value = nn.Linear(n_embd, head_size, bias=False)
            self.register_buffer("tril", torch.tril(torch.ones(block, block)))

        def forward(self, x):
            B, T, C = x.shape
            k = self.key(x)
            q = self.query(x)
            wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
            wei = F.softmax(wei, dim=-1)
            return wei @ self.value(x)

    class MultiHeadAttention(nn.Module):
        def __init__(self, num_heads, head_size):
            super().__init__()
            self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
            self.proj = nn.Linear(head_size * num_heads, n_embd)

        def forward(self, x):
            return self.proj(torch.cat([h(x) for h in self.heads], dim=-1))

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            return self.net(x)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.sa = MultiHeadAttention(n_head, n_embd // n_head)
            self.ffwd = FeedForward()
            self.ln1 = nn.LayerNorm(n_embd)
            self.ln2 = nn.LayerNorm(n_embd)

        def forward(self, x):
            x = x + self.sa(self.ln1(x))
            return x + self.ffwd(self.ln2(x))

    class GPTLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding_table = nn.Embedding(vocab, n_embd)
            self.position_embedding_table = nn.Embedding(block, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab)

        def forward(self, idx, targets):
            B, T = idx.shape
            x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))
            logits = self.lm_head(self.ln_f(self.blocks(x)))
            B, T, C = logits.shape
            loss = F.cross_entropy(logits.view(B * T, C), targets.view(B * T))
            return logits, loss

    model = GPTLanguageModel()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.from_numpy(problem["weight"](name, tuple(parameter.shape))))
    return model


def training_step(torch, problem):
    """``step() -> loss``: forward, backward and one AdamW update on the GPT workload's fixed batch."""
    model = build_gpt(torch, problem)
    idx, targets = torch.from_numpy(problem["idx"]), torch.from_numpy(problem["targets"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=problem["lr"])

    def step():
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(idx, targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step
