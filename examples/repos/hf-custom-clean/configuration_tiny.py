from transformers import PretrainedConfig


class TinyConfig(PretrainedConfig):
    model_type = "tinylm"

    def __init__(self, hidden_size=8, num_layers=1, **kwargs):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        super().__init__(**kwargs)
