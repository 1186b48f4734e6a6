"""PostgreSQL on RDS, optionally behind RDS Proxy; the credentials live in Secrets Manager.

By default the functions connect to the instance itself (TLS required) with the generated user's
password, which they read from the secret at cold start; the instance admits their security
group only. At the volumes this stack is sized for they hold a few dozen connections at most
(one shard's processor, the rollup, a few dashboards' API environments, and ingest only when
the Redis key cache misses), far below ``max_connections`` (docs/deploy.md, "RDS Proxy").

``-c pulse:databaseProxy=true`` puts RDS Proxy in front (it bills at least 2 vCPUs, ~$22 a
month): the functions connect to the proxy (TLS required), the instance admits the proxy only.
That is for an install whose concurrency could approach ``max_connections`` (docs/deploy.md).

The instance is pinned to the network's "data" AZ, where Redis and the interface endpoints are
(``Network.data_az``): a single-AZ install then depends on one AZ, not on two.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse_infra import names
from pulse_infra.constructs.network import Network
from pulse_infra.nag import acknowledge


def uses_proxy(scope: Construct) -> bool:
    """``-c pulse:databaseProxy=true|false``; ``names.DATABASE_PROXY`` when not given."""
    value = scope.node.try_get_context(names.CONTEXT_DATABASE_PROXY)
    if value is None:
        return names.DATABASE_PROXY
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"{names.CONTEXT_DATABASE_PROXY}={value!r}: expected true or false")


class Database(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, network: Network) -> None:
        super().__init__(scope, construct_id)
        vpc = network.vpc

        instance_sg = ec2.SecurityGroup(
            self, "InstanceSecurityGroup", vpc=vpc, description="Pulse Postgres instance"
        )
        self.uses_proxy = uses_proxy(self)
        multi_az = False  # docs/deploy.md: turn on for production, with -c pulse:endpointAzs=2
        if self.uses_proxy:
            proxy_sg = ec2.SecurityGroup(
                self, "ProxySecurityGroup", vpc=vpc, description="Pulse RDS Proxy"
            )
            instance_sg.add_ingress_rule(
                proxy_sg, ec2.Port.tcp(names.DATABASE_PORT), "Postgres from the RDS Proxy"
            )
            proxy_sg.add_ingress_rule(
                network.functions_sg,
                ec2.Port.tcp(names.DATABASE_PORT),
                "Postgres from the functions",
            )
        else:
            instance_sg.add_ingress_rule(
                network.functions_sg,
                ec2.Port.tcp(names.DATABASE_PORT),
                "Postgres from the functions (no RDS Proxy)",
            )

        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
            instance_type=ec2.InstanceType(names.DATABASE_INSTANCE_TYPE),
            vpc=vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[instance_sg],
            port=names.DATABASE_PORT,
            database_name=names.DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(names.DATABASE_USER),
            allocated_storage=20,
            max_allocated_storage=names.DATABASE_MAX_STORAGE_GB,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=multi_az,
            # RDS refuses an AZ for a Multi-AZ instance.
            availability_zone=None if multi_az else network.data_az,
            backup_retention=Duration.days(7),
            deletion_protection=False,
            removal_policy=RemovalPolicy.SNAPSHOT,
            auto_minor_version_upgrade=True,
            enable_performance_insights=False,
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            publicly_accessible=False,
        )
        secret = self.instance.secret
        assert secret is not None  # from_generated_secret always creates one
        self.secret: secretsmanager.ISecret = secret

        self.proxy: rds.DatabaseProxy | None = None
        self.endpoint = self.instance.db_instance_endpoint_address
        if self.uses_proxy:
            self.proxy = self._add_proxy(vpc, network, secret, proxy_sg)
            self.endpoint = self.proxy.endpoint

        # What the functions receive: no password in the URL, the secret's ARN beside it.
        self.url = (
            f"postgresql://{names.DATABASE_USER}@{self.endpoint}:{names.DATABASE_PORT}"
            f"/{names.DATABASE_NAME}?sslmode=require"
        )
        self._acknowledge()

    def _add_proxy(
        self,
        vpc: ec2.IVpc,
        network: Network,
        secret: secretsmanager.ISecret,
        proxy_sg: ec2.SecurityGroup,
    ) -> rds.DatabaseProxy:
        return self.instance.add_proxy(
            "Proxy",
            db_proxy_name=names.resource_name("db-proxy"),
            secrets=[secret],
            vpc=vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[proxy_sg],
            require_tls=True,
            iam_auth=False,
            idle_client_timeout=Duration.minutes(30),
            max_connections_percent=90,
        )

    def _acknowledge(self) -> None:
        acknowledge(
            self.instance,
            "AwsSolutions-RDS3",
            "Single-AZ keeps a small install at ~$12/month; Multi-AZ doubles "
            "it. Turn on multi_az for production (docs/deploy.md, cost notes).",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-RDS10",
            "Deletion protection off so that `cdk destroy` tears a trial "
            "install down; removal policy SNAPSHOT still keeps a final snapshot.",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-RDS11",
            "The standard port: the instance sits in isolated subnets and "
            "admits the functions' (or the RDS Proxy's) security group only; a custom port "
            "adds nothing.",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-SMG4",
            "Rotation is left to the operator: the functions cache their pool "
            "of connections, and rotating needs a rotation Lambda in the VPC.",
        )
