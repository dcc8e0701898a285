from transformers import PretrainedConfig


class FastConfig(PretrainedConfig):
    model_type = "fastlm"
