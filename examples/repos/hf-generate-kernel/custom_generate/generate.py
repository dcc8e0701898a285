import torch


def generate(model, input_ids, max_new_tokens=4, **kwargs):
    out = input_ids
    for _ in range(max_new_tokens):
        logits = model(out).logits[:, -1]
        out = torch.cat([out, logits.argmax(-1, keepdim=True)], dim=-1)
    return out
