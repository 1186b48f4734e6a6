"""One Lambda function per ``WIRING.functions``, each with its own least-privilege role.

A role starts empty and gets exactly: writing its own log group; the ENI permissions if the
function runs in the VPC; reading the database secret if ``needs_database``; reading the secrets
``access.secrets_read_by`` names; putting records on the streams ``access.streams_written_by``
names; reading (or also writing) the archive's files as ``access.archive_access`` says. Reading a
stream is granted by its event source mapping (``constructs.stream_triggers``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse.wiring import Function, Wiring
from pulse_infra import access, names
from pulse_infra.constructs.archive import Archive
from pulse_infra.constructs.network import Network
from pulse_infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}[
    names.ARCHITECTURE
]
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        code: lambda_.Code,
        network: Network,
        database_url: str,
        database_secret: secretsmanager.ISecret | None,
        redis_url: str,
        secrets: dict[str, secretsmanager.Secret],
        streams: dict[str, kinesis.Stream],
        archive: Archive | None = None,
    ) -> None:
        """``database_secret``: the secret holding the password of ``database_url``'s user
        (RDS); ``None`` when the URL carries it (the LocalStack variant's compose Postgres).
        ``archive``: the columnar archive's bucket, required when a function uses it."""
        super().__init__(scope, construct_id)
        self._database_url = database_url
        self._database_secret = database_secret
        self._redis_url = redis_url
        self._archive = archive
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.urls: dict[str, lambda_.FunctionUrl] = {}
        for spec in wiring.functions:
            self._add(spec, wiring, code, network, secrets, streams)

    def _add(
        self,
        spec: Function,
        wiring: Wiring,
        code: lambda_.Code,
        network: Network,
        secrets: dict[str, secretsmanager.Secret],
        streams: dict[str, kinesis.Stream],
    ) -> None:
        label = names.pascal(spec.name)
        function_name = names.function_name(spec.name)

        role = iam.Role(
            self,
            f"{label}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Pulse function {spec.name}: {spec.description}"[:1000],
        )
        log_group = logs.LogGroup(
            self,
            f"{label}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=logs.RetentionDays[names.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )

        environment = {
            "PULSE_ENVIRONMENT": "production",
            "POWERTOOLS_SERVICE_NAME": names.METRICS_SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # X-Ray from inside the VPC would need another interface endpoint; off until wanted.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        if spec.needs_database:
            environment["PULSE_DATABASE_URL"] = self._database_url
            if self._database_secret is not None:
                environment["PULSE_DATABASE_SECRET_ARN"] = self._database_secret.secret_arn
                self._database_secret.grant_read(role)
        if spec.needs_redis:
            environment["PULSE_REDIS_URL"] = self._redis_url
        settings = {declared.name: declared.setting for declared in wiring.secrets}
        for secret_name in access.secrets_read_by(wiring, spec):
            environment[settings[secret_name]] = secrets[secret_name].secret_arn
            secrets[secret_name].grant_read(role)
        for stream_name in access.streams_written_by(wiring, spec):
            environment[names.stream_setting(stream_name)] = streams[stream_name].stream_name
            streams[stream_name].grant_write(role)
        archive_options: dict[str, Any] = {}
        archive_access = access.archive_access(spec)
        if archive_access != "none":
            if self._archive is None:
                raise ValueError(f"function {spec.name!r} uses the archive, and there is none")
            environment[names.ARCHIVE_BUCKET_SETTING] = self._archive.bucket.bucket_name
            environment[names.ARCHIVE_CACHE_MB_SETTING] = str(names.ARCHIVE_CACHE_MB)
            self._archive.grant(role, archive_access)
            # /tmp holds the cache of day files it fetched (docs/deploy.md, "Archive").
            archive_options["ephemeral_storage_size"] = Size.mebibytes(
                names.ARCHIVE_EPHEMERAL_STORAGE_MB
            )

        vpc_options: dict[str, Any] = {}
        if access.in_vpc(spec):
            role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name(VPC_ACCESS_POLICY)
            )
            vpc_options = {
                "vpc": network.vpc,
                "vpc_subnets": network.subnets_for(spec),
                "security_groups": [network.functions_sg],
            }
            if access.needs_internet(spec) and network.ipv6_egress:
                vpc_options["ipv6_allowed_for_dual_stack"] = True
            acknowledge(
                role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{VPC_ACCESS_POLICY}]",
                "AWSLambdaVPCAccessExecutionRole is the AWS-maintained set of "
                "ENI actions a function in a VPC needs; they cannot be scoped to "
                "interfaces that do not exist yet.",
            )

        function = lambda_.Function(
            self,
            label,
            function_name=function_name,
            description=spec.description[:256],
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment=environment,
            role=role,
            log_group=log_group,
            # JSON logs so that Lambda filters them: platform lines at WARN drop the START,
            # END and REPORT lines of every invocation (their figures are in the free Lambda
            # metrics); the application's INFO lines and the Powertools metrics (EMF, no
            # "level": INFO) still go through (docs/cost.md, CloudWatch).
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=lambda_.SystemLogLevel[names.SYSTEM_LOG_LEVEL],
            application_log_level_v2=lambda_.ApplicationLogLevel[names.APPLICATION_LOG_LEVEL],
            reserved_concurrent_executions=spec.reserved_concurrency,
            **vpc_options,
            **archive_options,
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            f"Pinned to {RUNTIME.name}: the dependencies are bundled as "
            f"cp{names.PYTHON_VERSION.replace('.', '')} wheels and the suites run on it; "
            "move runtime and bundling together.",
        )
        if spec.function_url:
            # Public on purpose: the tracker posts here from any site. The function checks the
            # project's key, origin and rate itself, as it does behind the HTTP API; CORS is
            # answered by the function (pulse.ingest.cors), so the URL sets none of its own.
            self.urls[spec.name] = function.add_function_url(
                auth_type=lambda_.FunctionUrlAuthType.NONE,
                invoke_mode=lambda_.InvokeMode.BUFFERED,
            )
        self.functions[spec.name] = function
        self.roles[spec.name] = role
