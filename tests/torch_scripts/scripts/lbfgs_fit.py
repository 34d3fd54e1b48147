# L-BFGS on a smooth least-squares fit: a small model of a damped oscillation, fitted with
# torch.optim.LBFGS and a closure that re-evaluates the loss (strong-Wolfe line search).
import torch

torch.set_default_dtype(torch.float64)

t = torch.linspace(0, 4, 200)
true_amplitude, true_decay, true_frequency = 1.5, 0.6, 2.0
y = true_amplitude * torch.exp(-true_decay * t) * torch.cos(true_frequency * t)


class DampedCosine(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.amplitude = torch.nn.Parameter(torch.tensor(1.0))
        self.decay = torch.nn.Parameter(torch.tensor(0.3))
        self.frequency = torch.nn.Parameter(torch.tensor(1.8))

    def forward(self, t):
        return self.amplitude * torch.exp(-self.decay * t) * torch.cos(self.frequency * t)


model = DampedCosine()
optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10,
                              line_search_fn="strong_wolfe")
loss_fn = torch.nn.MSELoss()

for step in range(5):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(t), y)
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    print(f"step {step}: loss {loss.item():.3e}")

final = loss_fn(model(t), y).item()
print(f"final loss: {final:.3e}")
print(f"amplitude {model.amplitude.item():.6f} decay {model.decay.item():.6f} "
      f"frequency {model.frequency.item():.6f}")
