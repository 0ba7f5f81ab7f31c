"""The HTTP surface of rulekit: a FastAPI application over the engine and a store.

``create_app(config)`` builds it; ``rulekit serve`` runs it under uvicorn.  One module per
resource (:mod:`.leads`, :mod:`.offers`, :mod:`.admin`, :mod:`.health`); :mod:`.auth` checks
bearer tokens and roles on every route; :mod:`.problems` turns every error into RFC 9457
problem+json; :mod:`.live` follows the store's active rule set and world.
"""

from rulekit.service.app import create_app
from rulekit.service.config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]
