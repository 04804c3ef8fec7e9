"""One small thread-safe LRU cache for computed results, rendered form pages and chart images."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from cachetools import LRUCache


class Cache:
    """A bounded least-recently-used mapping that several threads may share."""

    def __init__(self, size: int = 64):
        self._data: LRUCache = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """Return the cached value, or None."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Store a value, dropping the least recently used one when full."""
        with self._lock:
            self._data[key] = value

    def discard(self, match: Any) -> None:
        """Drop every entry whose key satisfies match(key) (e.g. everything of a deleted survey)."""
        with self._lock:
            for key in [k for k in self._data if match(k)]:
                del self._data[key]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
