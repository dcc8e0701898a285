import torch
from diffusers import ModelMixin


class TinyUNet(ModelMixin):
    def sample(self):
        return torch.zeros(1)
