"""Each role may do what its function needs and nothing else."""

from __future__ import annotations

from pulse_infra import access, names
from tests.infrastructure.synthesized import Synthesized, ref_id

KINESIS_READ = {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:SubscribeToShard"}
KINESIS_WRITE = {"kinesis:PutRecord", "kinesis:PutRecords"}
SECRET_READ = "secretsmanager:GetSecretValue"


def test_no_function_statement_allows_every_resource(synth: Synthesized) -> None:
    # ENI management comes from the AWS-managed VPC policy; inline statements are all scoped.
    for fn in synth.wiring.functions:
        for statement in synth.statements(fn.name):
            assert statement["Resource"] != "*", (fn.name, statement)
            assert "*" not in str(statement["Action"]), (fn.name, statement)


def test_only_stream_triggered_functions_can_read_kinesis(synth: Synthesized) -> None:
    for fn in synth.wiring.functions:
        read = KINESIS_READ & synth.actions(fn.name)
        for stream in synth.wiring.streams:
            logical_id, _ = synth.streams[names.resource_name(stream.name)]
            on_stream = KINESIS_READ & synth.actions_on(fn.name, logical_id)
            if stream.name in access.streams_read_by(synth.wiring, fn):
                assert on_stream == KINESIS_READ, fn.name
        if not access.streams_read_by(synth.wiring, fn):
            assert not read, f"{fn.name} has no stream trigger but may read Kinesis: {read}"


def test_only_declared_writers_can_put_records(synth: Synthesized) -> None:
    for fn in synth.wiring.functions:
        written = access.streams_written_by(synth.wiring, fn)
        if not written:
            assert not KINESIS_WRITE & synth.actions(fn.name), fn.name
        env = synth.functions[fn.name][1].get("Environment", {}).get("Variables", {})
        for stream in written:
            logical_id, _ = synth.streams[names.resource_name(stream)]
            assert KINESIS_WRITE <= synth.actions_on(fn.name, logical_id), fn.name
            assert synth.stream_name_of(env[names.stream_setting(stream)]) == (
                names.resource_name(stream)
            )


def test_every_stream_of_the_real_wiring_has_a_writer(real: Synthesized) -> None:
    # Guards the fallback table in names.py: a writer renamed in WIRING would lose its grant.
    for stream in real.wiring.streams:
        writers = [
            fn.name
            for fn in real.wiring.functions
            if stream.name in access.streams_written_by(real.wiring, fn)
        ]
        assert writers, f"no function may put records on {stream.name}"


def test_only_declared_readers_can_read_each_secret(synth: Synthesized) -> None:
    secrets = synth.stack.node.find_child("Secrets")
    for declared in synth.wiring.secrets:
        logical_id = synth.stack.get_logical_id(
            secrets.node.find_child(names.pascal(declared.name)).node.default_child
        )
        for fn in synth.wiring.functions:
            env = synth.functions[fn.name][1].get("Environment", {}).get("Variables", {})
            may_read = SECRET_READ in synth.actions_on(fn.name, logical_id)
            reads = declared.name in access.secrets_read_by(synth.wiring, fn)
            assert may_read == reads, (fn.name, declared.name)
            assert (declared.setting in env) == reads, (fn.name, declared.setting)


def test_the_api_and_only_functions_that_sign_tokens_read_the_jwt_secret(
    real: Synthesized,
) -> None:
    readers = {
        fn.name
        for fn in real.wiring.functions
        if "jwt-secret" in access.secrets_read_by(real.wiring, fn)
    }
    assert "api" in readers
    assert not readers & {"ingest", "processor", "migrate"}


def test_only_database_functions_can_read_the_database_secret(synth: Synthesized) -> None:
    secret_ref = synth.functions[
        next(fn.name for fn in synth.wiring.functions if fn.needs_database)
    ][1]["Environment"]["Variables"]["PULSE_DATABASE_SECRET_ARN"]
    for fn in synth.wiring.functions:
        may_read = SECRET_READ in synth.actions_on(fn.name, secret_ref["Ref"])
        assert may_read == fn.needs_database, fn.name


ARCHIVE_READ = {"s3:GetObject"}
ARCHIVE_WRITE = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
ARCHIVE_LIST = {"s3:ListBucket"}


def _archive_bucket(synth: Synthesized) -> str:
    return ref_id(synth.outputs[names.OUTPUT_ARCHIVE_BUCKET]["Value"])


def test_each_function_may_do_to_the_archive_what_its_wiring_says_and_no_more(
    synth: Synthesized,
) -> None:
    bucket = _archive_bucket(synth)
    for fn in synth.wiring.functions:
        mode = access.archive_access(fn)
        on_bucket = synth.actions_on(fn.name, bucket)
        on_objects = synth.actions_on_objects(fn.name, bucket)
        s3_anywhere = {a for a in synth.actions(fn.name) if a.startswith("s3:")}
        # every S3 action a role has is on the archive's bucket or its objects
        assert s3_anywhere == on_bucket | on_objects, fn.name
        if mode == "none":
            assert not s3_anywhere, fn.name
        elif mode == "read":
            assert on_bucket == ARCHIVE_LIST, fn.name
            assert on_objects == ARCHIVE_READ, fn.name
        else:
            assert on_bucket == ARCHIVE_LIST, fn.name
            assert on_objects == ARCHIVE_READ | ARCHIVE_WRITE, fn.name


def test_the_api_reads_the_archive_and_cannot_write_or_delete_in_it(real: Synthesized) -> None:
    bucket = _archive_bucket(real)
    # The API reads (filtered reports with DuckDB), the rollup writes
    assert ARCHIVE_READ <= real.actions_on_objects("api", bucket)
    assert not ARCHIVE_WRITE & real.actions("api")
    assert ARCHIVE_WRITE <= real.actions_on_objects("rollup", bucket)
