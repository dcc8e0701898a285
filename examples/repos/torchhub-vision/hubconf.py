dependencies = ["torch", "torchvision"]

from models.resnet import resnet18_tiny
from models.utils import load_pretrained


def tiny_classifier(pretrained=False, **kwargs):
    """A tiny classifier."""
    model = resnet18_tiny(**kwargs)
    if pretrained:
        load_pretrained(model, "https://download.example.invalid/tiny.pth")
    return model


def _private_helper():
    return None
