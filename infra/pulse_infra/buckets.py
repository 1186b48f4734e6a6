"""The one shape of a private S3 bucket in this stack: all public access blocked, objects owned
by the bucket owner (no ACLs), S3-managed encryption at rest, TLS only, no versioning. What
differs between the buckets (what ``cdk destroy`` does, lifecycle rules) is the caller's."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(
    scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy, **more: Any
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=False,
        removal_policy=removal_policy,
        **more,
    )
