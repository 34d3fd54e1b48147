# Logging a training run to TensorBoard: SummaryWriter, add_scalar per step and per epoch,
# add_scalars for train/val curves, then reading the event file back with tensorboard's own
# EventAccumulator to print what was written.
import os
import sys
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

log_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
torch.manual_seed(0)

X = torch.randn(512, 4)
true_w = torch.tensor([[1.5], [-2.0], [0.5], [3.0]])
y = X @ true_w + 0.1 * torch.randn(512, 1)
train_ds = TensorDataset(X[:400], y[:400])
val_X, val_y = X[400:], y[400:]
loader = DataLoader(train_ds, batch_size=32, shuffle=True)

model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = nn.MSELoss()

writer = SummaryWriter(log_dir=log_dir)
global_step = 0
for epoch in range(5):
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        writer.add_scalar("Loss/train_step", loss.item(), global_step)
        running += loss.item()
        global_step += 1
    train_loss = running / len(loader)
    with torch.no_grad():
        val_loss = loss_fn(model(val_X), val_y).item()
    writer.add_scalars("Loss", {"train": train_loss, "val": val_loss}, epoch)
    writer.add_scalar("LearningRate", optimizer.param_groups[0]["lr"], epoch)
    print(f"epoch {epoch}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")
writer.flush()
writer.close()

files = [f for f in os.listdir(log_dir) if f.startswith("events.out.tfevents")]
print("event files:", len(files))
try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    print("tensorboard is not installed; skipped reading the log back")
else:
    acc = EventAccumulator(log_dir)
    acc.Reload()
    steps = acc.Scalars("Loss/train_step")
    print(f"logged steps: {len(steps)}, first {steps[0].value:.4f}, last {steps[-1].value:.4f}")
