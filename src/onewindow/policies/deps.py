"""The request's view of the cached matcher (one per app, created on first use)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from onewindow.policies.service import MatcherCache

_CREATE = threading.Lock()


def matcher_cache(request: Request) -> MatcherCache:
    """The app's matcher cache (rebuilt by the service when policies or fields change)."""
    state = request.app.state
    cache: MatcherCache | None = getattr(state, "policy_matchers", None)
    if cache is None:
        with _CREATE:
            cache = getattr(state, "policy_matchers", None)
            if cache is None:
                cache = state.policy_matchers = MatcherCache()
    return cache


MatcherCacheDep = Annotated[MatcherCache, Depends(matcher_cache)]
