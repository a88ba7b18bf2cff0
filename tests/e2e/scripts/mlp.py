"""An MLP classifier trained with SGD (momentum, nesterov, weight decay) and a step schedule."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import finish, parse_args, start_from

args = parse_args()
torch.manual_seed(0)
rng = np.random.RandomState(0)
x = torch.from_numpy(rng.randn(64, 20).astype(np.float32))
y = torch.from_numpy(rng.randint(0, 5, size=64).astype(np.int64))

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 5))
start_from(model, args.init)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model.to(device)

losses = []
for step in range(args.steps):
    for batch in range(4):
        xb, yb = x[batch * 16:(batch + 1) * 16].to(device), y[batch * 16:(batch + 1) * 16].to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
model.eval()
with torch.no_grad():
    losses.append(F.cross_entropy(model(x), y).item())
finish(args.out, losses)
