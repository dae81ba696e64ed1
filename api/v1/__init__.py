"""REST API v1 for the business's accounting software: a FastAPI sub-application under /api/v1."""

from api.v1.application import api_app, docs_router, mount

__all__ = ["api_app", "docs_router", "mount"]
