"""A CNN with BatchNorm and pooling trained with Adam; train and eval losses.

The convolutions before BatchNorm have no bias (as usual): BatchNorm cancels it, so its gradient is rounding
noise that Adam would blow up to full-size steps in a direction no two libraries agree on.
"""

import numpy as np
import torch
import torch.nn as nn

from common import finish, parse_args, start_from


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(2))
        self.classifier = nn.Linear(16 * 4, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


args = parse_args()
torch.manual_seed(0)
rng = np.random.RandomState(1)
images = torch.from_numpy(rng.rand(32, 1, 8, 8).astype(np.float32))
labels = torch.from_numpy(rng.randint(0, 10, size=32).astype(np.int64))

model = Net()
start_from(model, args.init)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
losses = []
for step in range(args.steps):
    model.train()
    for batch in range(2):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(images[batch * 16:(batch + 1) * 16]), labels[batch * 16:(batch + 1) * 16])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        losses.append(criterion(model(images), labels).item())
finish(args.out, losses)
