"""The LocalStack variant's data stores: the Postgres and Redis of ``localstack/compose.yaml``
instead of RDS (+ RDS Proxy) and ElastiCache (context ``pulse:local=true``, ``make deploy-local``).

LocalStack runs each Lambda in a container on the compose network (``LAMBDA_DOCKER_NETWORK``), so
the functions reach the services by their compose names. The password is the compose file's
throwaway development one, in the URL: no secret is involved, as under ``make up``.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse_infra import names


def truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes")


def is_local(scope: Construct) -> bool:
    """Whether the app is synthesized for LocalStack (``-c pulse:local=true``)."""
    return truthy(scope.node.try_get_context(names.CONTEXT_LOCAL))


class ComposeStores(Construct):
    """Postgres and Redis that live outside the stack; the same attributes the functions read
    from ``Database`` and ``Cache``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.database_url = names.LOCAL_DATABASE_URL
        self.database_secret: secretsmanager.ISecret | None = None
        self.redis_url = names.LOCAL_REDIS_URL
