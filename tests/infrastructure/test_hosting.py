"""The front door: a private bucket behind CloudFront (OAC), `/api/*` to the HTTP API uncached,
cache headers per kind of file, security headers, routes to their index.html, config.json from
the stack's own values, and the dashboard URL and SDK snippet as outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from pulse_infra import names
from pulse_infra.constructs import hosting
from tests.infrastructure.synthesized import Synthesized, ref_id

# CloudFront's managed policies (ids fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution(synth: Synthesized) -> dict[str, Any]:
    (dist,) = synth.of_type("AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = dist["Properties"]["DistributionConfig"]
    return config


def behaviours(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {b["PathPattern"]: b for b in distribution(synth)["CacheBehaviors"]}


def origin(synth: Synthesized, origin_id: str) -> dict[str, Any]:
    (found,) = [o for o in distribution(synth)["Origins"] if o["Id"] == origin_id]
    return found


def site_bucket(synth: Synthesized) -> str:
    return ref_id(synth.outputs[names.OUTPUT_SITE_BUCKET]["Value"])


def deployments(synth: Synthesized) -> list[dict[str, Any]]:
    return [r["Properties"] for r in synth.of_type("Custom::CDKBucketDeployment").values()]


def test_the_bucket_is_private_encrypted_and_tls_only(real: Synthesized) -> None:
    bucket = real.resources[site_bucket(real)]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in bucket
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "BucketEncryption" in bucket
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in real.of_type("AWS::S3::BucketPolicy").values()
        if ref_id(p["Properties"]["Bucket"]) == site_bucket(real)
    ]
    # Nobody but CloudFront reads: no statement allows an anonymous principal
    for statement in policy:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
    insecure = [s for s in policy if s["Effect"] == "Deny"]
    assert insecure[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_reads_the_bucket_through_origin_access_control(real: Synthesized) -> None:
    (oac,) = real.of_type("AWS::CloudFront::OriginAccessControl").values()
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    default = distribution(real)["DefaultCacheBehavior"]
    s3_origin = origin(real, default["TargetOriginId"])
    assert "S3OriginConfig" in s3_origin and "OriginAccessControlId" in s3_origin
    assert s3_origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    # The bucket policy lets this distribution, and only it, get objects
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in real.of_type("AWS::S3::BucketPolicy").values()
        if ref_id(p["Properties"]["Bucket"]) == site_bucket(real)
    ]
    (grant,) = [s for s in policy if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert grant["Action"] == "s3:GetObject"
    source = json.dumps(grant["Condition"]["StringEquals"]["AWS:SourceArn"])
    (dist_id,) = real.of_type("AWS::CloudFront::Distribution")
    assert dist_id in source


def test_api_behaviour_is_uncached_and_passes_the_request_through(real: Synthesized) -> None:
    api = behaviours(real)["/api/*"]
    assert api["CachePolicyId"] == CACHING_DISABLED
    # All viewer headers but Host (X-API-Key, Authorization, Origin), the query string and
    # cookies; with caching disabled this is how CloudFront lets Authorization through.
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    target = origin(real, api["TargetOriginId"])
    assert target["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # ... and the origin is the HTTP API of this stack
    (http_api,) = real.apis_of_protocol("HTTP")
    assert http_api in json.dumps(target["DomainName"])
    assert ".execute-api." in json.dumps(target["DomainName"])


def test_static_behaviours_use_the_objects_cache_headers(real: Synthesized) -> None:
    found = behaviours(real)
    for pattern in ("/_next/static/*", "/sdk/*"):
        assert found[pattern]["CachePolicyId"] == CACHING_OPTIMIZED, pattern
        assert "FunctionAssociations" not in found[pattern], pattern
    assert distribution(real)["DefaultCacheBehavior"]["CachePolicyId"] == CACHING_OPTIMIZED
    by_kind = {
        tuple(d.get("Include", []))
        or tuple(d.get("Exclude", []))
        or d.get("DestinationBucketKeyPrefix", "config"): d["SystemMetadata"]["cache-control"]
        for d in deployments(real)
    }
    assert by_kind[("_next/static/*",)] == names.CACHE_HASHED
    assert "immutable" in names.CACHE_HASHED and "max-age=31536000" in names.CACHE_HASHED
    assert by_kind[("_next/static/*", "config.json", "sdk/*")] == names.CACHE_HTML
    assert by_kind["sdk/"] == names.CACHE_SDK
    assert by_kind["config"] == names.CACHE_HTML
    assert "max-age=0" in names.CACHE_HTML
    every = list(deployments(real))
    assert all(d["Prune"] is False for d in every)  # four deployments share one bucket
    hashed = next(d for d in every if d.get("Include") == ["_next/static/*"])
    assert hashed["Exclude"] == ["*"]


def test_every_response_gets_the_security_headers(real: Synthesized) -> None:
    (policy_id, policy), *_ = real.of_type("AWS::CloudFront::ResponseHeadersPolicy").items()
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "frame-ancestors 'none'" in csp and "wss://" in csp
    every = [distribution(real)["DefaultCacheBehavior"], *behaviours(real).values()]
    for behaviour in every:
        assert ref_id(behaviour["ResponseHeadersPolicyId"]) == policy_id
        if behaviour.get("PathPattern") != "/api/*":
            assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


def test_routes_resolve_through_the_cloudfront_function(real: Synthesized) -> None:
    (fn_id, fn), *_ = real.of_type("AWS::CloudFront::Function").items()
    assert fn["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    (association,) = distribution(real)["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert ref_id(association["FunctionARN"]) == fn_id
    assert fn["Properties"]["FunctionCode"] == hosting.ROUTE_FUNCTION.read_text()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_route_function_maps_a_route_to_its_index_html() -> None:
    # Given the function's code, run by node on CloudFront viewer-request events
    cases = {
        "/": "/index.html",
        "/projects/": "/projects/index.html",
        "/projects/view": "/projects/view/index.html",
        "/projects/view/": "/projects/view/index.html",
        "/config.json": "/config.json",
        "/sdk/tracker.min.js": "/sdk/tracker.min.js",
        "/_next/static/chunks/app-1a2b.js": "/_next/static/chunks/app-1a2b.js",
    }
    script = (
        hosting.ROUTE_FUNCTION.read_text()
        + "\nconst uris = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(uris.map((u) => handler({request: {uri: u}}).uri)));"
    )
    # When each is handled
    result = subprocess.run(
        ["node", "-e", script, json.dumps(list(cases))],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    # Then routes get their index.html and files are left alone
    assert json.loads(result.stdout) == list(cases.values())


def test_config_json_is_written_at_deploy_time_from_the_stacks_values(real: Synthesized) -> None:
    (config,) = [d for d in deployments(real) if "SourceMarkers" in d]
    markers = json.dumps(config["SourceMarkers"])
    (http_api,) = real.apis_of_protocol("HTTP")
    (websocket_api,) = real.apis_of_protocol("WEBSOCKET")
    assert http_api in markers and websocket_api in markers and "wss://" in markers
    assert real.stack.hosting.config["apiUrl"] == ""  # first party: this origin's /api/*
    assert real.stack.hosting.config["sdkUrl"] == names.SDK_PATH


def test_a_deploy_invalidates_cloudfront_after_the_files_are_in_place(real: Synthesized) -> None:
    (pages_id, pages), *_ = [
        (k, r)
        for k, r in real.of_type("Custom::CDKBucketDeployment").items()
        if "DistributionPaths" in r["Properties"]
    ]
    assert pages["Properties"]["DistributionPaths"] == ["/*"]
    others = set(real.of_type("Custom::CDKBucketDeployment")) - {pages_id}
    depends = set(pages.get("DependsOn", []))
    # the hashed assets and config.json go first (the SDK has its own short cache)
    assert len(others & depends) >= 2


def test_outputs_give_the_dashboard_url_and_the_sdk_snippet(real: Synthesized) -> None:
    url = json.dumps(real.outputs[names.OUTPUT_DASHBOARD_URL]["Value"])
    assert "https://" in url and "DomainName" in url
    snippet = json.dumps(real.outputs[names.OUTPUT_SDK_SNIPPET]["Value"])
    assert names.SDK_PATH in snippet and "data-project=" in snippet and "defer" in snippet
