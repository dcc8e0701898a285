import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_tiny import TinyConfig
from .layers.block import TinyBlock


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.blocks = nn.ModuleList(TinyBlock(config.hidden_size) for _ in range(config.num_layers))
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)

    def forward(self, hidden):
        for block in self.blocks:
            hidden = block(hidden)
        return hidden


class TinyForCausalLM(TinyModel):
    def forward(self, hidden):
        assert hidden.dim() == 3, "expected (batch, seq, hidden)"
        return torch.tanh(super().forward(hidden))
