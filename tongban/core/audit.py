def record(*, actor, action, target=None, data=None):
    raise NotImplementedError
