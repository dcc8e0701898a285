from torch import nn

from .norm import RMSNorm


class TinyBlock(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.norm = RMSNorm(size)
        self.proj = nn.Linear(size, size)

    def forward(self, x):
        return x + self.proj(self.norm(x))
