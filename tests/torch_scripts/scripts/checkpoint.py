# A training loop with gradient clipping and checkpoints: save {'model', 'optimizer', 'epoch',
# 'loss'} with torch.save, load it back with map_location and weights_only=True into a fresh
# model and optimizer, and resume training from where it stopped.
import os
import sys
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(42)

# two interleaved spirals
n = 400
theta = torch.sqrt(torch.rand(n)) * 3 * torch.pi
r = 2 * theta + torch.pi
x_a = torch.stack([torch.cos(theta) * r, torch.sin(theta) * r], dim=1) / 10
x_b = -x_a
X = torch.cat([x_a, x_b]) + 0.05 * torch.randn(2 * n, 2)
y = torch.cat([torch.zeros(n), torch.ones(n)]).long()
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)


def make_model():
    return nn.Sequential(
        nn.Linear(2, 64), nn.Tanh(),
        nn.Linear(64, 64), nn.Tanh(),
        nn.Linear(64, 2),
    ).to(device)


def train_epoch(model, optimizer, criterion):
    model.train()
    total = 0.0
    max_norm = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        max_norm = max(max_norm, norm.item())
        optimizer.step()
        total += loss.item() * xb.size(0)
    return total / len(loader.dataset), max_norm


def accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(X.to(device)).argmax(1) == y.to(device)).float().mean().item()


model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()

ckpt_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
path = os.path.join(ckpt_dir, "checkpoint.pt")

for epoch in range(15):
    loss, grad_norm = train_epoch(model, optimizer, criterion)
    if epoch % 5 == 0:
        print(f"epoch {epoch}: loss {loss:.4f}, largest grad norm {grad_norm:.2f}")

torch.save({
    "epoch": epoch,
    "model_state_dict": model.state_dict(),
    "optimizer_state_dict": optimizer.state_dict(),
    "loss": loss,
}, path)
acc_before = accuracy(model)
print(f"saved at epoch {epoch}: accuracy {acc_before:.3f}")

# a fresh model and optimizer, restored from the file
model2 = make_model()
optimizer2 = torch.optim.Adam(model2.parameters(), lr=0.01)
checkpoint = torch.load(path, map_location="cpu", weights_only=True)
model2.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
start_epoch = checkpoint["epoch"] + 1
print(f"resumed from epoch {checkpoint['epoch']} (loss {checkpoint['loss']:.4f}): "
      f"accuracy {accuracy(model2):.3f}, same outputs: {torch.equal(model(X), model2(X))}")

for epoch in range(start_epoch, start_epoch + 25):
    loss, grad_norm = train_epoch(model2, optimizer2, criterion)
    if epoch % 5 == 0:
        print(f"epoch {epoch}: loss {loss:.4f}, largest grad norm {grad_norm:.2f}")
print(f"final loss: {loss:.4f}, accuracy {accuracy(model2):.3f}")
