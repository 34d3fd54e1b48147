"""A PyTorch training script, run by chainrule: only the import line and the data loading differ.

Everything below the data loading is plain PyTorch. (Submodules are reached as attributes,
`nn = torch.nn`, because Python resolves `import torch.nn` by the module's real name.)
Run it as written (chainrule), or with `--torch` to run the very same text under real PyTorch:

    python examples/pytorch_script.py           # import chainrule as torch
    python examples/pytorch_script.py --torch   # import torch (needs torch installed)
"""

import sys

if "--torch" in sys.argv:
    import torch
else:
    import chainrule as torch  # <- the one changed import

# --- data loading (the part that changes): scikit-learn's digits as tensors ----------------
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, random_state=0)
X_train, X_test = torch.tensor(X_train, dtype=torch.float32), torch.tensor(X_test, dtype=torch.float32)
y_train, y_test = torch.tensor(y_train, dtype=torch.long), torch.tensor(y_test, dtype=torch.long)

# --- from here on: unchanged PyTorch --------------------------------------------------------
nn = torch.nn
F = torch.nn.functional
DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)

for _epoch in range(40):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    predicted = model(X_test).argmax(dim=1)
    test_accuracy = (predicted == y_test).float().mean().item()
print(f"{torch.__name__}: test accuracy {test_accuracy:.4f}")
