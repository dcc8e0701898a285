dependencies = ["torch"]

from setup_env import ensure_runtime
from net import DetectionNet

ensure_runtime()


def detector(pretrained=False):
    return DetectionNet()
