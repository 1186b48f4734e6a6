"""Redis on ElastiCache, in the VPC's isolated subnets, encrypted at rest and in transit."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

from pulse_infra import names
from pulse_infra.constructs.network import Network
from pulse_infra.nag import acknowledge


class Cache(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, network: Network) -> None:
        super().__init__(scope, construct_id)
        vpc = network.vpc

        security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="Pulse Redis", allow_all_outbound=False
        )
        security_group.add_ingress_rule(
            network.functions_sg, ec2.Port.tcp(names.REDIS_PORT), "Redis from the functions"
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "SubnetGroup",
            description="Pulse Redis subnets",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Pulse: live counters, caches, rate limits, pub/sub",
            engine="redis",
            engine_version=names.REDIS_ENGINE_VERSION,
            cache_node_type=names.REDIS_NODE_TYPE,
            num_cache_clusters=1,
            automatic_failover_enabled=False,
            multi_az_enabled=False,
            # The AZ of the database and the interface endpoints (``Network.data_az``).
            preferred_cache_cluster_a_zs=[network.data_az] if network.data_az else None,
            port=names.REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[security_group.security_group_id],
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=1,
        )

        self.url = (
            f"rediss://{self.replication_group.attr_primary_end_point_address}"
            f":{self.replication_group.attr_primary_end_point_port}/0"
        )
        self.endpoint = self.replication_group.attr_primary_end_point_address

        acknowledge(
            self.replication_group,
            "AwsSolutions-AEC4",
            "One node: Redis holds only hot, rebuildable state (losing it "
            "loses no event), so a replica's cost buys little. Raise num_cache_clusters "
            "for production.",
        )
        acknowledge(
            self.replication_group,
            "AwsSolutions-AEC5",
            "The standard port: the cluster is in isolated subnets and admits "
            "the functions' security group only; a custom port adds nothing.",
        )
        acknowledge(
            self.replication_group,
            "AwsSolutions-AEC6",
            "No AUTH token yet: access is limited to the functions' security "
            "group and traffic is TLS; an AUTH token needs the functions to read it "
            "from Secrets Manager (planned).",
        )
