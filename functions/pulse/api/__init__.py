"""The FastAPI application served by the "api" Lambda through Mangum."""
