from torch import nn


def resnet18_tiny(num_classes=10):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))
