"""internmatch web platform: FastAPI app, domain services and persistence."""
