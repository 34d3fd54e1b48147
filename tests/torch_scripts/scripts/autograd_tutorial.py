# "A Gentle Introduction to torch.autograd" and the autograd mechanics notes: requires_grad,
# backward with a gradient argument, .grad accumulation, no_grad, detach, retain_graph, tensor
# hooks that read and change a gradient, and a module's backward hook.
import torch
import torch.nn as nn

torch.manual_seed(0)

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)
print("a.grad", a.grad, "b.grad", b.grad)

# the DAG: leaves, grad_fn, requires_grad propagation
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
print("b is a leaf:", b.is_leaf, "z is a leaf:", z.is_leaf, "b has grad_fn:", b.grad_fn is not None)

# gradients accumulate until zeroed
w = torch.ones(3, requires_grad=True)
for i in range(3):
    (w * (i + 1)).sum().backward()
print("accumulated grad:", w.grad.tolist())
w.grad.zero_()
print("after zero_:", w.grad.tolist())

# retain_graph: backward twice through the same graph
x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward(retain_graph=True)
first = x.grad.item()
y.backward()
print(f"dy/dx = {first}, after a second backward: {x.grad.item()}")

# no_grad and detach
with torch.no_grad():
    y = x * 2
print("inside no_grad requires_grad:", y.requires_grad)
d = (x * 3).detach()
print("detached requires_grad:", d.requires_grad, "grad_fn:", d.grad_fn)
print("is grad enabled:", torch.is_grad_enabled())

# a tensor hook that inspects and rescales the gradient flowing through it
seen = []
h = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
mid = h * 2
handle = mid.register_hook(lambda grad: seen.append(grad.clone()) or grad * 10)
mid.pow(2).sum().backward()
handle.remove()
print("hook saw:", seen[0].tolist(), "leaf grad:", h.grad.tolist())

# the gradient of a small network, and a module forward hook recording activations
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


model[1].register_forward_hook(save_activation("relu"))
inputs = torch.randn(16, 4)
targets = torch.randn(16, 1)
loss = nn.functional.mse_loss(model(inputs), targets)
loss.backward()
print("relu activations:", tuple(activations["relu"].shape), "fraction active:",
      f"{(activations['relu'] > 0).float().mean().item():.2f}")
for name, param in model.named_parameters():
    print(f"{name:10s} grad norm {param.grad.norm().item():.4f}")

# torch.autograd.grad: gradients without touching .grad, and a second derivative
x = torch.linspace(-2, 2, 5, requires_grad=True)
y = torch.tanh(x)
(dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
(d2y,) = torch.autograd.grad(dy.sum(), x)
expected = -2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2)
print("second derivative matches:", torch.allclose(d2y, expected.detach(), atol=1e-6))
print("x.grad untouched:", x.grad)
torch.testing.assert_close(dy, (1 - torch.tanh(x) ** 2).detach())
print("assert_close passed")
