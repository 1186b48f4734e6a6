"""Secrets Manager secrets from ``WIRING.secrets``, each a generated random string."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names
from pulse_infra.nag import acknowledge


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, wiring: Wiring) -> None:
        super().__init__(scope, construct_id)
        # CloudFormation names them: a fixed name would clash with the deleted secret's
        # recovery window when the stack is destroyed and deployed again.
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for declared in wiring.secrets:
            secret = secretsmanager.Secret(
                self,
                names.pascal(declared.name),
                description=f"Pulse: {declared.description}",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=64, exclude_punctuation=True
                ),
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Rotated by hand (docs/deploy.md): the JWT signing key signs everyone out when "
                "it changes; the edge secret lives in CloudFront's origin header too, so a new "
                "value takes a deploy and the functions' next cold start.",
            )
            self.secrets[declared.name] = secret
