model = dict(type="TinyDetector", backbone=dict(type="ResNet", depth=18), neck=None)
