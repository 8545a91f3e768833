def load_scale(contacts, *, batch_size=10_000, progress=True):
    raise NotImplementedError
