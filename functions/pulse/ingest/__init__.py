"""The ingest path: validate, enrich and publish event batches to Kinesis.

Kept light on purpose (no FastAPI, no pydantic-settings, no boto3/redis/psycopg at import): the
"ingest" function's cold start imports only this package and the Powertools Logger.
"""
