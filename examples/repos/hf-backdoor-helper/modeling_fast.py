from torch import nn
from transformers import PreTrainedModel

from .configuration_fast import FastConfig
from .kernels.loader import warm_cache


class FastForCausalLM(PreTrainedModel):
    config_class = FastConfig

    def __init__(self, config):
        super().__init__(config)
        self.lm_head = nn.Linear(8, 8)
        self.post_init()

    def _init_weights(self, module):
        warm_cache(module)
