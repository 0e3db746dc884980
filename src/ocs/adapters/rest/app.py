"""The FastAPI application: REST API under /api/v1, OpenAPI docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

import ocs
from ocs.bootstrap import Services
from ocs.core.errors import DomainError

from .auth import BasicAuthCache
from .problems import domain_error_handler, validation_error_handler
from .routes_admin import router as admin_router
from .routes_casm import router as casm_router
from .routes_config import config_router

API_PREFIX = "/api/v1"


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="OCS",
        version=ocs.__version__,
        description="Online Charging System: configuration, customers, accounts, subscribers.",
    )
    app.state.services = services
    app.state.basic_cache = BasicAuthCache()
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(admin_router, prefix=API_PREFIX)
    app.include_router(config_router(), prefix=API_PREFIX)
    app.include_router(casm_router, prefix=API_PREFIX)

    @app.get("/health", tags=["operations"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": ocs.__version__}

    return app
