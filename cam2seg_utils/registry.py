"""A tiny name -> builder registry (in the spirit of segment-anything's ``sam_model_registry``)."""
from __future__ import annotations

from typing import Callable, Dict, Generic, Iterator, List, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps lower-case names to objects (builders, specs, classes).

    Unknown names raise ``KeyError`` listing the known ones, so a typo in a config file
    is answered with the valid choices instead of a bare traceback.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: Dict[str, T] = {}

    def register(self, name: str, item: T | None = None):
        """Register ``item`` under ``name``; usable as a decorator when ``item`` is omitted."""
        key = name.lower()

        def _add(obj: T) -> T:
            if key in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[key] = obj
            return obj

        if item is None:
            return _add
        return _add(item)

    def get(self, name: str) -> T:
        try:
            return self._items[name.lower()]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return what it held (a test's own entries are removed after it)."""
        self.get(name)
        return self._items.pop(name.lower())

    def values(self) -> List[T]:
        """The registered objects, in registration order."""
        return list(self._items.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def names(self) -> List[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["Registry"]
