"""The Redis cache, for which an outage is a miss (docs/operations.md, "When Redis is down")."""

from __future__ import annotations

from typing import Any

from django_redis.cache import RedisCache


class OutageTolerantRedisCache(RedisCache):
    """django-redis with IGNORE_EXCEPTIONS makes every call on an unreachable Redis a miss, except
    that `add` then answers None, which callers read as "taken": allauth's rate limiter waits for
    its lock and refuses every login. With Redis down the cache is empty, so `add` succeeds."""

    def add(self, *args: Any, **kwargs: Any) -> bool:
        added = super().add(*args, **kwargs)
        return True if added is None else bool(added)
