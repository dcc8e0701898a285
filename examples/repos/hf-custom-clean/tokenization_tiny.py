from transformers import PreTrainedTokenizer


class TinyTokenizer(PreTrainedTokenizer):
    def __init__(self, vocab=None, pad_token="<pad>", eos_token="</s>", **kwargs):
        self.vocab = vocab or {"<pad>": 0, "</s>": 1}
        super().__init__(pad_token=pad_token, eos_token=eos_token, **kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab)

    def _tokenize(self, text):
        return text.split()
