"""The columnar archive in AWS (``constructs/archive.py``): a private, TLS-only, encrypted bucket
kept by ``cdk destroy`` as the database's data is; an S3 gateway endpoint on the route tables of
the archive functions in the VPC, reaching that bucket only; the bucket's name, a cache ceiling
and more ephemeral storage for the functions that read or write it, and for no other."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pulse.settings import Settings
from pulse.wiring import WIRING
from pulse_infra import access, names
from pulse_infra.app import build_app, cdk_json_context
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import (
    Resource,
    Synthesized,
    as_list,
    objects_of,
    ref_id,
    refers_to,
    synthesize,
)

ARCHIVE_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListBucket",
}


def archive_bucket(synth: Synthesized) -> str:
    """The archive bucket's logical id, from the stack's output."""
    logical_id = ref_id(synth.outputs[names.OUTPUT_ARCHIVE_BUCKET]["Value"])
    assert synth.resources[logical_id]["Type"] == "AWS::S3::Bucket"
    return logical_id


def bucket_policy(synth: Synthesized, bucket: str) -> list[dict[str, Any]]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if ref_id(p["Properties"]["Bucket"]) == bucket
    ]
    return list(policy)


def environment(synth: Synthesized, function: str) -> dict[str, Any]:
    return dict(synth.functions[function][1].get("Environment", {}).get("Variables", {}))


def s3_endpoint(synth: Synthesized) -> Resource:
    (endpoint,) = synth.vpc_endpoints("Gateway").values()
    assert endpoint["Properties"]["ServiceName"]["Fn::Join"][1][-1] == ".s3"
    return endpoint


def route_tables_of(synth: Synthesized, subnet_refs: list[Any]) -> set[str]:
    subnets = {ref_id(s) for s in subnet_refs}
    return {
        ref_id(a["Properties"]["RouteTableId"])
        for a in synth.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if ref_id(a["Properties"]["SubnetId"]) in subnets
    }


@pytest.mark.parametrize("variant", ["real", "sample", "local"])
def test_the_bucket_is_private_encrypted_and_tls_only(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synthesized = request.getfixturevalue(variant)
    bucket = archive_bucket(synth)
    props = synth.resources[bucket]["Properties"]
    # No public access of any kind, no ACLs
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # Encrypted at rest with S3-managed keys; no versioning (the keys carry their version)
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "VersioningConfiguration" not in props
    # Its policy denies every request without TLS, on the bucket and its objects, and allows
    # nothing: access comes from the functions' own roles only
    statements = bucket_policy(synth, bucket)
    (deny,) = statements
    assert deny["Effect"] == "Deny"
    assert deny["Action"] == "s3:*"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    resources = as_list(deny["Resource"])
    assert any(refers_to(r, bucket) for r in resources)
    assert any(objects_of(r, bucket) for r in resources)
    # An incomplete multipart upload does not stay billed
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": names.ARCHIVE_ABORT_INCOMPLETE_UPLOAD_DAYS
    }


def test_cdk_destroy_keeps_the_archive_as_it_keeps_the_databases_data(real: Synthesized) -> None:
    # The database leaves a final snapshot; the archive's files (event data) stay in the bucket
    (instance,) = real.of_type("AWS::RDS::DBInstance").values()
    assert instance["DeletionPolicy"] == "Snapshot"
    archive = real.resources[archive_bucket(real)]
    assert archive["DeletionPolicy"] == "Retain"
    assert archive["UpdateReplacePolicy"] == "Retain"
    # not emptied on the way out (the site bucket is: a build output)
    for helper in real.of_type("Custom::S3AutoDeleteObjects").values():
        assert ref_id(helper["Properties"]["BucketName"]) != archive_bucket(real)
    # and its name is generated, so a deploy after a destroy does not clash with the kept one
    assert "BucketName" not in archive["Properties"]


def test_the_gateway_endpoint_is_on_the_route_tables_of_the_archive_functions(
    synth: Synthesized,
) -> None:
    endpoint = s3_endpoint(synth)["Properties"]
    assert endpoint["VpcEndpointType"] == "Gateway"
    attached = {ref_id(t) for t in endpoint["RouteTableIds"]}
    wanted: set[str] = set()
    for fn in synth.wiring.functions:
        if access.archive_access(fn) == "none" or not access.in_vpc(fn):
            continue
        tables = route_tables_of(synth, synth.functions[fn.name][1]["VpcConfig"]["SubnetIds"])
        # Given a function in the VPC that reads or writes the archive, every subnet it runs in
        # routes S3 through the endpoint
        assert tables and tables <= attached, fn.name
        wanted |= tables
    # and no subnet routes S3 that no archive function runs in
    assert attached == wanted


def test_the_gateway_endpoint_reaches_the_archive_bucket_only(synth: Synthesized) -> None:
    bucket = archive_bucket(synth)
    statements = s3_endpoint(synth)["Properties"]["PolicyDocument"]["Statement"]
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Action"])) <= ARCHIVE_ACTIONS, statement
        for target in as_list(statement["Resource"]):
            assert refers_to(target, bucket) or objects_of(target, bucket), statement


def test_only_archive_functions_get_the_bucket_and_a_larger_tmp(synth: Synthesized) -> None:
    bucket = archive_bucket(synth)
    for fn in synth.wiring.functions:
        env = environment(synth, fn.name)
        props = synth.functions[fn.name][1]
        archive_settings = {k for k in env if k.startswith("PULSE_ARCHIVE_")}
        if access.archive_access(fn) == "none":
            assert not archive_settings, fn.name
            assert "EphemeralStorage" not in props, fn.name  # Lambda's 512 MB
            continue
        assert archive_settings == {names.ARCHIVE_BUCKET_SETTING, names.ARCHIVE_CACHE_MB_SETTING}
        assert refers_to(env[names.ARCHIVE_BUCKET_SETTING], bucket), fn.name
        storage = props["EphemeralStorage"]["Size"]
        assert storage == names.ARCHIVE_EPHEMERAL_STORAGE_MB > 512, fn.name
        # the cache stops short of /tmp's size, leaving what /tmp was (512 MB) for the report's
        # and the writer's temporary files
        cache_mb = int(env[names.ARCHIVE_CACHE_MB_SETTING])
        assert storage - cache_mb == 512, fn.name


def test_the_functions_settings_read_what_the_template_sets(
    real: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an archive function's environment as the template sets it (the bucket's name is
    # known at deploy time only), and nothing else of the archive's
    for key in ("DIR", "BUCKET", "CACHE_DIR", "CACHE_MB"):
        monkeypatch.delenv(f"PULSE_ARCHIVE_{key}", raising=False)
    (name,) = [fn.name for fn in real.wiring.functions if fn.archive == "write"]
    for key, value in environment(real, name).items():
        if key.startswith("PULSE_ARCHIVE_"):
            monkeypatch.setenv(key, value if isinstance(value, str) else "pulse-archive-bucket")
    # Then pulse.settings reads the bucket and the cache ceiling, no local directory, and the
    # cache in /tmp (the ephemeral storage)
    settings = Settings()
    assert settings.archive_bucket == "pulse-archive-bucket"
    assert settings.archive_cache_mb == names.ARCHIVE_CACHE_MB
    assert settings.archive_dir == ""
    assert settings.archive_cache_dir.startswith("/tmp/")


def test_the_real_wiring_has_one_reader_and_one_writer(real: Synthesized) -> None:
    # What the least-privilege tests hold the roles to (test_least_privilege.py)
    assert WIRING.function("api").archive == "read"
    assert WIRING.function("rollup").archive == "write"
    assert {fn.name for fn in WIRING.functions if fn.archive != "none"} == {"api", "rollup"}


def test_the_bucket_is_named_in_an_output(synth: Synthesized) -> None:
    assert synth.outputs[names.OUTPUT_ARCHIVE_BUCKET]["Value"] == {"Ref": archive_bucket(synth)}


def test_no_archive_no_bucket_no_gateway_endpoint() -> None:
    # Given a wiring where no function reads or writes the archive
    wiring = dataclasses.replace(
        WIRING,
        functions=tuple(dataclasses.replace(fn, archive="none") for fn in WIRING.functions),
    )
    app, stack = build_app({**cdk_json_context(), **OFFLINE}, wiring=wiring)
    synth = synthesize(app, stack)
    # Then the stack has no archive bucket, no S3 endpoint and no output for it
    assert names.OUTPUT_ARCHIVE_BUCKET not in synth.outputs
    assert not synth.vpc_endpoints("Gateway")
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == 1  # the site's
    for fn in synth.wiring.functions:
        assert not {a for a in synth.actions(fn.name) if a.startswith("s3:")}, fn.name
