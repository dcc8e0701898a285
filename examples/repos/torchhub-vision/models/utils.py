import torch


def load_pretrained(model, url):
    state = torch.hub.load_state_dict_from_url(url, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
