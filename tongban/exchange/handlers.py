"""What a node does with each type of message it receives: a registry of handlers.

An app registers its handlers once, from its ``AppConfig.ready()``::

    from tongban.exchange import handlers

    @handlers.register("case.transfer")
    def on_transfer(payload: dict, *, sender: str, envelope_id: str) -> None: ...

``inbox.apply_pending`` calls the handler inside the transaction that marks the message applied, so
its writes and the "applied" mark commit together or not at all (exactly-once effect). A handler
raises to refuse or fail: the message is marked failed with the error and retried later; later
messages of the same ordering key wait for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol


class Handler(Protocol):
    def __call__(self, payload: dict, *, sender: str, envelope_id: str) -> None: ...


_registry: dict[str, Handler] = {}


def register(type: str, *, replace: bool = False) -> Callable[[Handler], Handler]:
    """Decorator registering ``fn`` as the handler of messages of ``type``.

    Registering the same function again is harmless (``ready()`` may run twice); another function for
    a type that has one is a programming error unless ``replace=True``.
    """
    if not type or not isinstance(type, str):
        raise ValueError("a message type is required")

    def decorator(fn: Handler) -> Handler:
        current = _registry.get(type)
        if current is not None and current is not fn and not replace:
            raise ValueError(f"message type {type!r} already has a handler: {current!r}")
        _registry[type] = fn
        return fn

    return decorator


def unregister(type: str) -> None:
    _registry.pop(type, None)


def handler_for(type: str) -> Handler | None:
    return _registry.get(type)


def registered_types() -> list[str]:
    return sorted(_registry)


@contextlib.contextmanager
def override(type: str, fn: Handler | None) -> Iterator[None]:
    """Temporarily registers ``fn`` for ``type`` (or none at all when ``fn`` is None). For tests."""
    previous = _registry.get(type)
    if fn is None:
        _registry.pop(type, None)
    else:
        _registry[type] = fn
    try:
        yield
    finally:
        if previous is None:
            _registry.pop(type, None)
        else:
            _registry[type] = previous
