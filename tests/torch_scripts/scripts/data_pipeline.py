# A torch.utils.data pipeline: a Dataset subclass, random_split with a seeded generator, a
# WeightedRandomSampler that balances an imbalanced class, a custom collate_fn that pads
# variable-length sequences, and a small classifier trained on what the DataLoader yields.
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler, random_split


class SequenceDataset(Dataset):
    """Variable-length sequences of numbers; class 1 (rare) when the sequence's mean is high."""

    def __init__(self, n=600, seed=0):
        rng = random.Random(seed)
        self.samples = []
        for _ in range(n):
            label = 1 if rng.random() < 0.15 else 0
            length = rng.randint(3, 12)
            center = 1.0 if label == 1 else -0.5
            seq = [rng.gauss(center, 1.0) for _ in range(length)]
            self.samples.append((torch.tensor(seq), label))

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        return self.samples[idx]


def pad_collate(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    max_len = int(lengths.max())
    padded = torch.zeros(len(seqs), max_len)
    for i, s in enumerate(seqs):
        padded[i, :len(s)] = s
    return padded, lengths, torch.tensor(labels)


dataset = SequenceDataset()
train_set, val_set = random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
print(f"train {len(train_set)} val {len(val_set)}")

labels = torch.tensor([dataset[i][1] for i in train_set.indices])
class_counts = torch.bincount(labels)
print("class counts:", class_counts.tolist())
class_weights = 1.0 / class_counts.float()
sample_weights = class_weights[labels]
sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)

train_loader = DataLoader(train_set, batch_size=32, sampler=sampler, collate_fn=pad_collate)
val_loader = DataLoader(val_set, batch_size=64, shuffle=False, collate_fn=pad_collate)

seen = torch.zeros(2)
for _, _, y in train_loader:
    seen += torch.bincount(y, minlength=2).float()
print(f"balanced share of class 1 in one epoch: {seen[1] / seen.sum():.3f}")


class MeanPoolClassifier(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x, lengths):
        mask = (torch.arange(x.size(1))[None, :] < lengths[:, None]).float()
        mean = (x * mask).sum(1) / lengths
        maximum = x.masked_fill(mask == 0, -1e9).max(dim=1).values
        h = F.relu(self.fc1(torch.stack([mean, maximum], dim=1)))
        return self.fc2(h)


torch.manual_seed(0)
model = MeanPoolClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()

for epoch in range(8):
    model.train()
    total, count = 0.0, 0
    for x, lengths, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x, lengths), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * y.size(0)
        count += y.size(0)
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, lengths, y in val_loader:
            pred = model(x, lengths).argmax(dim=1)
            correct += (pred == y).sum().item()
    print(f"epoch {epoch}: loss {total / count:.4f}, val accuracy {correct / len(val_set):.3f}")
