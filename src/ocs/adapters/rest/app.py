"""The FastAPI application: REST API under /api/v1, OpenAPI docs at /docs, console at /console."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

import ocs
from ocs.adapters.console.app import create_console
from ocs.adapters.nchf import Decide, nchf_router
from ocs.adapters.problem_log import ProblemLog
from ocs.bootstrap import Services
from ocs.core.errors import DomainError

from .auth import BasicAuthCache
from .problems import domain_error_handler, validation_error_handler
from .routes_admin import router as admin_router
from .routes_batches import router as batches_router
from .routes_bpl import router as bpl_router
from .routes_casm import router as casm_router
from .routes_charging import router as charging_router
from .routes_config import config_router
from .routes_credit_cards import router as credit_cards_router
from .routes_domains import router as domains_router
from .routes_features import router as features_router
from .routes_migrations import router as migrations_router
from .routes_notifications import router as notifications_router
from .routes_offers import router as offers_router
from .routes_vouchers import router as vouchers_router
from .routes_wallets import router as wallets_router
from .routes_wallets import tmf_router as tmf_wallets_router

API_PREFIX = "/api/v1"
CONSOLE_PREFIX = "/console"


def create_app(
    services: Services, decide: Decide | None = None, nchf_token: str | None = None
) -> FastAPI:
    """The HTTP application; with a charging `decide` function it also serves 5G Nchf."""
    app = FastAPI(
        title="OCS",
        version=ocs.__version__,
        description="Online Charging System: configuration, customers, accounts, subscribers.",
    )
    app.state.services = services
    app.state.basic_cache = BasicAuthCache()
    app.state.problem_log = ProblemLog()
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(admin_router, prefix=API_PREFIX)
    app.include_router(config_router(), prefix=API_PREFIX)
    app.include_router(casm_router, prefix=API_PREFIX)
    app.include_router(batches_router, prefix=API_PREFIX)
    app.include_router(domains_router, prefix=API_PREFIX)
    app.include_router(migrations_router, prefix=API_PREFIX)
    app.include_router(bpl_router, prefix=API_PREFIX)
    app.include_router(features_router, prefix=API_PREFIX)
    app.include_router(credit_cards_router, prefix=API_PREFIX)
    app.include_router(wallets_router, prefix=API_PREFIX)
    app.include_router(offers_router, prefix=API_PREFIX)
    app.include_router(vouchers_router, prefix=API_PREFIX)
    app.include_router(charging_router, prefix=API_PREFIX)
    app.include_router(notifications_router, prefix=API_PREFIX)
    app.include_router(tmf_wallets_router)
    if decide is not None:
        app.include_router(nchf_router(decide, nchf_token))

    app.mount(CONSOLE_PREFIX, create_console(services, app.state.problem_log))

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"{CONSOLE_PREFIX}/", status_code=307)

    @app.get("/health", tags=["operations"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": ocs.__version__}

    return app
