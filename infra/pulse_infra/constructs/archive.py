"""The columnar archive: one private S3 bucket of Parquet files, one a closed UTC day of a
project's events (``<project_id>/<YYYY-MM-DD>-<version>.parquet``), written by the rollup and read
by the API with DuckDB (``pulse.archive``; ``Function.archive`` in the wiring says who).

- **Private**: all public access blocked, objects owned by the bucket owner (no ACLs), TLS only
  (a bucket policy denies any request without it), S3-managed encryption at rest. No bucket
  versioning: the keys carry a version of their own, and a file the writer deletes would
  otherwise stay billed as a noncurrent version. Multipart uploads left incomplete are aborted
  after a day.
- **Who may do what**: only the functions whose wiring says so, each through its own role
  (``grant``): ``"read"`` gets and lists, ``"write"`` also puts (aborting a failed multipart
  upload) and deletes. No other principal is granted anything; the S3 gateway endpoint of the
  VPC (``constructs.network``) is limited to this bucket and these actions, so the route to S3
  it adds to the functions' subnets leads nowhere else.
- **Kept by ``cdk destroy``** (removal policy ``RETAIN``), as the database leaves its final
  snapshot: the files are event data. The bucket's name is generated, so a new deploy after a
  destroy creates a new, empty bucket next to the kept one (docs/deploy.md, "Tear down").
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from pulse_infra import access, names
from pulse_infra.buckets import private_bucket
from pulse_infra.constructs.network import Network
from pulse_infra.nag import acknowledge

READ_OBJECT_ACTIONS = ("s3:GetObject",)
# boto3 uploads a file over 8 MB in parts (each part is PutObject to IAM) and aborts the upload
# when a part fails.
WRITE_OBJECT_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
LIST_ACTIONS = ("s3:ListBucket",)


class Archive(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, network: Network) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "Bucket",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(
                        names.ARCHIVE_ABORT_INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Only this stack's archive functions are granted access to the bucket (each "
            "through its own role, the API read-only), over the VPC's S3 gateway endpoint; "
            "server access logs would need a log bucket of their own to record the rollup's "
            "daily writes and the API's cache fills. CloudTrail S3 data events are the audit "
            "trail to switch on if one is wanted.",
        )
        self._objects = self.bucket.arn_for_objects("*")

        # The gateway endpoint's route reaches this bucket and nothing else on S3.
        if network.s3_endpoint is not None:
            network.s3_endpoint.add_to_policy(
                iam.PolicyStatement(
                    sid="ArchiveObjects",
                    principals=[iam.AnyPrincipal()],
                    actions=[*READ_OBJECT_ACTIONS, *WRITE_OBJECT_ACTIONS],
                    resources=[self._objects],
                )
            )
            network.s3_endpoint.add_to_policy(
                iam.PolicyStatement(
                    sid="ArchiveList",
                    principals=[iam.AnyPrincipal()],
                    actions=list(LIST_ACTIONS),
                    resources=[self.bucket.bucket_arn],
                )
            )

    def grant(self, role: iam.IRole, mode: access.ArchiveAccess) -> None:
        """``"read"``: get and list the files; ``"write"``: also put (and abort an upload)
        and delete them."""
        if mode == "none":
            return
        object_actions = [*READ_OBJECT_ACTIONS]
        if mode == "write":
            object_actions += WRITE_OBJECT_ACTIONS
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=object_actions, resources=[self._objects])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(LIST_ACTIONS), resources=[self.bucket.bucket_arn])
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        bucket_id = Stack.of(self).get_logical_id(cfn_bucket)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
            "The archive's keys are <project_id>/<day>-<version>.parquet for projects that "
            "exist at run time only: the grant covers the objects of this one bucket, with the "
            f"actions of '{mode}' access named one by one.",
        )
