"""The front door: a private S3 bucket behind CloudFront (origin access control) serving the
dashboard's static export and the SDK, and ``/api/*`` forwarded to the HTTP API.

Behaviours, most specific first:

- ``/api/*`` → the HTTP API, uncached (``CachingDisabled``); every viewer header but ``Host``
  (so ``X-API-Key``, ``Authorization``, ``Origin``), the query string and cookies go through
  (``AllViewerExceptHostHeader``); every method. A viewer-request CloudFront Function writes
  the visitor's address into ``true-client-ip``, and the origin gets the stack's edge secret
  in ``x-pulse-edge``: the functions believe the one only with the other (``pulse.edge``).
- ``/_next/static/*`` → the bucket; content-hashed names, cached a year (immutable).
- ``/sdk/*`` → the bucket; the tracker every tracked page loads, cached 5 minutes.
- default → the bucket; HTML and ``config.json`` revalidated on each load; a CloudFront
  Function maps a route to its ``index.html``.

Objects carry their ``Cache-Control`` (set by the deployments below, see ``names.CACHE_*``);
the managed ``CachingOptimized`` policy honours it at the edge. Every response gets the security
headers of one response headers policy.

``config.json`` is written at deploy time from this stack's own values (the WebSocket URL, the
HTTP API URL), so one build of the dashboard serves any account. Its ``apiUrl`` is ``""``: the
dashboard calls its own origin's ``/api/*`` (first party, no CORS), which is this distribution.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse import edge
from pulse.wiring import API_PREFIX
from pulse_infra import names, site_assets
from pulse_infra.buckets import private_bucket
from pulse_infra.constructs.http_api import HttpApi
from pulse_infra.constructs.websocket_api import WebSocketApi
from pulse_infra.nag import acknowledge

ROUTE_FUNCTION = Path(__file__).resolve().parents[1] / "edge" / "route_index.js"
CLIENT_IP_FUNCTION = Path(__file__).resolve().parents[1] / "edge" / "client_ip.js"
API_PATH_PATTERN = "/api/*"
SDK_PATH_PATTERN = f"/{names.SDK_PREFIX}*"
HASHED_PATH_PATTERN = f"/{names.HASHED_ASSETS_PATTERN}"
# One memory size for every deployment: they then share one handler function (a singleton).
DEPLOY_MEMORY_MB = 1024
INGEST_PATH = f"{API_PREFIX}/events/ingest"


def content_security_policy(websocket_origin: str | None) -> str:
    """The dashboard's CSP. Next.js's static export inlines its bootstrap scripts and styles,
    hence ``'unsafe-inline'``; the only other origin it talks to is the WebSocket API."""
    connect = "'self'" + (f" {websocket_origin}" if websocket_origin else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def ingest_endpoint(function_url: str) -> str:
    """The tracker's ``data-api`` for a function URL (which ends with ``/``): the path is the
    HTTP API's, so that a log line reads the same whichever way the event came in."""
    return f"{function_url}{INGEST_PATH.lstrip('/')}"


def sdk_snippet(site_url: str, ingest_url: str | None) -> str:
    api = f' data-api="{ingest_url}"' if ingest_url else ""
    return (
        f'<script src="{site_url}{names.SDK_PATH}" data-project="YOUR_PROJECT_KEY"{api} '
        "defer></script>"
    )


class Hosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api: HttpApi,
        websocket_api: WebSocketApi | None,
        edge_secret: secretsmanager.ISecret | None,
        ingest_url: str | None = None,
    ) -> None:
        """``edge_secret``: sent to the HTTP API as ``x-pulse-edge`` (a CloudFormation dynamic
        reference: the value never appears in the template). ``ingest_url``: the ingest
        function's own URL, which the SDK snippet and ``config.json`` give the tracker."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.bucket = private_bucket(
            self, "Bucket", removal_policy=RemovalPolicy.DESTROY, auto_delete_objects=True
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only the public build of the dashboard and the SDK, "
            "written by the deploy; CloudFront is its one reader (origin access control), "
            "so S3 access logs would record CloudFront's fetches and nothing else.",
        )

        security_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Pulse: security headers on every response",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        self._websocket_origin(websocket_api)
                    ),
                    # The API's own answers keep what the functions set (none today).
                    override=False,
                ),
            ),
        )

        routes = cloudfront.Function(
            self,
            "RouteToIndex",
            comment="Pulse: a dashboard route to its index.html",
            code=cloudfront.FunctionCode.from_file(file_path=str(ROUTE_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

        client_ip = cloudfront.Function(
            self,
            "ClientIp",
            comment="Pulse: the visitor's address to the API (true-client-ip)",
            code=cloudfront.FunctionCode.from_file(file_path=str(CLIENT_IP_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

        site = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        api_domain = f"{http_api.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        api = origins.HttpOrigin(
            api_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(30),
            custom_headers=(
                {edge.EDGE_SECRET_HEADER: edge_secret.secret_value.unsafe_unwrap()}
                if edge_secret is not None
                else None
            ),
        )

        def static(cache: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=site,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cache,
                response_headers_policy=security_headers,
                compress=True,
            )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Pulse: dashboard, SDK and /api/*",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=site,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=security_headers,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=routes, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=api,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    # With caching disabled, this managed policy is the one way to pass
                    # Authorization on (a custom origin request policy may not name it).
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=security_headers,
                    compress=True,
                    function_associations=[
                        cloudfront.FunctionAssociation(
                            function=client_ip,
                            event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        )
                    ],
                ),
                HASHED_PATH_PATTERN: static(cloudfront.CachePolicy.CACHING_OPTIMIZED),
                SDK_PATH_PATTERN: static(cloudfront.CachePolicy.CACHING_OPTIMIZED),
            },
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: a tracker's visitors come from anywhere, and the dashboard "
            "is behind its own login.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default (~$5/month plus $1 per rule and $0.60 per million "
            "requests): the HTTP API throttles per stage and ingest limits each key's rate. "
            "Attach a web ACL with web_acl_id for a public production install.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "No CloudFront access logs by default: the HTTP API's access logs already record "
            "every /api/* call, and static reads of a public build are not worth their cost.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The *.cloudfront.net name serves CloudFront's default certificate, whose policy "
            "CloudFront fixes; with a custom domain and certificate the distribution's minimum "
            "should be raised to TLSv1.2_2021 (minimum_protocol_version).",
        )

        site_files = site_assets.source(site_assets.DASHBOARD)
        # Hashed assets: a year, immutable. Kept across deploys (no prune), so a page loaded
        # before a deploy can still fetch the chunks it names.
        hashed = s3deploy.BucketDeployment(
            self,
            "DeployHashedAssets",
            destination_bucket=self.bucket,
            sources=[site_files],
            exclude=["*"],
            include=[names.HASHED_ASSETS_PATTERN],
            cache_control=[s3deploy.CacheControl.from_string(names.CACHE_HASHED)],
            prune=False,
            memory_limit=DEPLOY_MEMORY_MB,
        )
        # Pages and everything else of the export: revalidated on each load, and the deploy
        # invalidates CloudFront's copies (after the hashed assets they name are in place).
        pages = s3deploy.BucketDeployment(
            self,
            "DeployPages",
            destination_bucket=self.bucket,
            sources=[site_files],
            exclude=[names.HASHED_ASSETS_PATTERN, names.CONFIG_FILE, f"{names.SDK_PREFIX}*"],
            cache_control=[s3deploy.CacheControl.from_string(names.CACHE_HTML)],
            prune=False,
            memory_limit=DEPLOY_MEMORY_MB,
            distribution=self.distribution,
            distribution_paths=["/*"],
        )
        pages.node.add_dependency(hashed)
        s3deploy.BucketDeployment(
            self,
            "DeploySdk",
            destination_bucket=self.bucket,
            sources=[site_assets.source(site_assets.SDK)],
            destination_key_prefix=names.SDK_PREFIX,
            cache_control=[s3deploy.CacheControl.from_string(names.CACHE_SDK)],
            prune=False,
            memory_limit=DEPLOY_MEMORY_MB,
        )
        self.config = {
            "apiUrl": "",
            "httpApiUrl": http_api.url,
            "wsUrl": websocket_api.url if websocket_api is not None else "",
            "sdkUrl": names.SDK_PATH,
            # Where the tracker posts (its data-api): the ingest function's URL, or "" for the
            # script's own origin (/api/* through this distribution).
            "ingestUrl": ingest_url or "",
        }
        config = s3deploy.BucketDeployment(
            self,
            "DeployConfig",
            destination_bucket=self.bucket,
            sources=[s3deploy.Source.json_data(names.CONFIG_FILE, self.config)],
            cache_control=[s3deploy.CacheControl.from_string(names.CACHE_HTML)],
            prune=False,
            memory_limit=DEPLOY_MEMORY_MB,
        )
        # The pages' invalidation runs last, so that it also drops a cached config.json.
        pages.node.add_dependency(config)

        self._acknowledge_deploy_handler(hashed)

        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.sdk_snippet = sdk_snippet(self.url, ingest_url)

    def _acknowledge_deploy_handler(self, deployment: s3deploy.BucketDeployment) -> None:
        """The deployments' one handler (a CDK singleton at the stack's root), described."""
        handler = deployment.handler_role.node.scope
        assert handler is not None
        bucket = Stack.of(self).get_logical_id(self._cfn_bucket())
        for finding in (
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            f"Resource::<{bucket}.Arn>/*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*",
        ):
            acknowledge(
                handler,
                f"AwsSolutions-IAM5[{finding}]",
                "CDK's BucketDeployment handler: it reads the deploy's asset objects from the "
                "bootstrap bucket and syncs them into this stack's site bucket (S3 grants "
                "generated by grantRead/grantReadWrite on those two buckets only).",
            )
        acknowledge(
            handler,
            "AwsSolutions-IAM5[Resource::*]",
            "CDK's BucketDeployment handler creates and waits for the CloudFront invalidation "
            "of the deploy; CloudFront's invalidation actions take no narrower resource here.",
        )
        acknowledge(
            handler,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment handler (deploy time only) logs with the AWS-managed "
            "basic execution policy; its role is CDK's, not one of Pulse's functions.",
        )
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib together with "
            "its bundled AWS CLI layer and moves when aws-cdk-lib is upgraded.",
        )

    def _cfn_bucket(self) -> s3.CfnBucket:
        cfn = self.bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        return cfn

    @staticmethod
    def _websocket_origin(websocket_api: WebSocketApi | None) -> str | None:
        if websocket_api is None:
            return None
        stack = Stack.of(websocket_api)
        return f"wss://{websocket_api.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
