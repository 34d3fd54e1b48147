# Time-series regression: predict the next value of a noisy seasonal signal from a sliding
# window of the previous ones, with an MLP, min-max scaling, a chronological train/test split
# and a multi-step forecast fed back on itself.
import math

import numpy as np
import torch
import torch.nn as nn

np.random.seed(0)
torch.manual_seed(0)

t = np.arange(0, 600, dtype=np.float32)
series = np.sin(2 * math.pi * t / 50) + 0.5 * np.sin(2 * math.pi * t / 13) + 0.002 * t
series += np.random.normal(0, 0.05, size=t.shape).astype(np.float32)

lo, hi = series.min(), series.max()
scaled = (series - lo) / (hi - lo)

window = 24


def make_windows(values, window):
    xs, ys = [], []
    for i in range(len(values) - window):
        xs.append(values[i:i + window])
        ys.append(values[i + window])
    return np.array(xs), np.array(ys)


X, y = make_windows(scaled, window)
split = int(len(X) * 0.8)
X_train = torch.from_numpy(X[:split]).float()
y_train = torch.from_numpy(y[:split]).float().unsqueeze(1)
X_test = torch.from_numpy(X[split:]).float()
y_test = torch.from_numpy(y[split:]).float().unsqueeze(1)
print("train", tuple(X_train.shape), "test", tuple(X_test.shape))


class Forecaster(nn.Module):
    def __init__(self, window, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(window, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


model = Forecaster(window)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=150)

for epoch in range(150):
    model.train()
    perm = torch.randperm(X_train.size(0))
    for i in range(0, X_train.size(0), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
    scheduler.step()
    if epoch % 50 == 0 or epoch == 149:
        model.eval()
        with torch.no_grad():
            test_loss = criterion(model(X_test), y_test).item()
        print(f"epoch {epoch:3d}: train loss {loss.item():.5f}, test loss {test_loss:.5f}")

model.eval()
with torch.no_grad():
    preds = model(X_test)
rmse = torch.sqrt(torch.mean((preds - y_test) ** 2)).item() * (hi - lo)
print(f"test RMSE: {rmse:.4f}")

# forecast 20 steps ahead, feeding predictions back in
history = torch.from_numpy(scaled[-window:]).float()
forecast = []
with torch.no_grad():
    for _ in range(20):
        nxt = model(history.unsqueeze(0)).squeeze()
        forecast.append(nxt.item() * (hi - lo) + lo)
        history = torch.cat([history[1:], nxt.view(1)])
print("forecast:", " ".join(f"{v:.2f}" for v in forecast[:5]), "...")
