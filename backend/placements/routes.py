"""The placements domain's pages: match rounds for staff (round_routes) and offers (offer_routes)."""

from fastapi import APIRouter

from backend.placements import offer_routes, round_routes

router = APIRouter(include_in_schema=False)
router.include_router(round_routes.router)
router.include_router(offer_routes.router)
