"""A synthesized Pulse template, indexed by what the tests ask about: functions by declared
name, their roles' statements, routes, event source mappings, schedules, outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from pulse.wiring import Wiring
from pulse_infra import names
from pulse_infra.stack import PulseStack

Resource = dict[str, Any]


def ref_id(value: Any) -> str:
    """The logical id in ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"not a reference: {value!r}")


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether ``value`` is a ``Ref``/``GetAtt`` of ``logical_id`` (an ARN built with
    ``Fn::Join`` is not)."""
    return (
        isinstance(value, dict)
        and ("Ref" in value or "Fn::GetAtt" in value)
        and (ref_id(value) == logical_id)
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def objects_of(value: Any, logical_id: str) -> bool:
    """Whether ``value`` is the ARN of every object of the bucket ``logical_id``:
    ``{"Fn::Join": ["", [{"Fn::GetAtt": [id, "Arn"]}, "/*"]]}``."""
    if not (isinstance(value, dict) and "Fn::Join" in value):
        return False
    separator, parts = value["Fn::Join"]
    return (
        separator == ""
        and len(parts) == 2
        and parts[0] == {"Fn::GetAtt": [logical_id, "Arn"]}
        and parts[1] == "/*"
    )


@dataclass
class Synthesized:
    app: App
    stack: PulseStack
    wiring: Wiring
    template: Template
    json: dict[str, Any] = field(repr=False)

    @property
    def resources(self) -> dict[str, Resource]:
        return dict(self.json["Resources"])

    def of_type(self, cfn_type: str) -> dict[str, Resource]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    @cached_property
    def functions(self) -> dict[str, tuple[str, Resource]]:
        """Declared function name → (logical id, properties), for the ``pulse-*`` functions."""
        found: dict[str, tuple[str, Resource]] = {}
        for logical_id, res in self.of_type("AWS::Lambda::Function").items():
            physical = res["Properties"].get("FunctionName")
            if isinstance(physical, str) and physical.startswith(f"{names.RESOURCE_PREFIX}-"):
                name = physical.removeprefix(f"{names.RESOURCE_PREFIX}-")
                assert name not in found, f"two functions named {physical}"
                found[name] = (logical_id, res["Properties"])
        return found

    @cached_property
    def function_by_logical_id(self) -> dict[str, str]:
        return {logical_id: name for name, (logical_id, _) in self.functions.items()}

    def function_of(self, value: Any) -> str:
        """The declared function a ``Ref``/``GetAtt`` (or a version of it) points to."""
        logical_id = ref_id(value)
        res = self.resources[logical_id]
        if res["Type"] == "AWS::Lambda::Version":
            logical_id = ref_id(res["Properties"]["FunctionName"])
        return self.function_by_logical_id[logical_id]

    def role_id(self, function: str) -> str:
        return ref_id(self.functions[function][1]["Role"])

    def statements(self, function: str) -> list[dict[str, Any]]:
        """Every statement of the inline policies attached to the function's role."""
        role = self.role_id(function)
        out: list[dict[str, Any]] = []
        for res in self.of_type("AWS::IAM::Policy").values():
            if any(ref_id(r) == role for r in res["Properties"]["Roles"]):
                out.extend(res["Properties"]["PolicyDocument"]["Statement"])
        out.extend(
            statement
            for policy in self.resources[role]["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        )
        return out

    def actions_on(self, function: str, logical_id: str) -> set[str]:
        """The actions the function's role is allowed on the resource ``logical_id``."""
        actions: set[str] = set()
        for statement in self.statements(function):
            if statement["Effect"] != "Allow":
                continue
            targets = as_list(statement["Resource"])
            if any(refers_to(t, logical_id) for t in targets):
                actions.update(as_list(statement["Action"]))
        return actions

    def actions_on_objects(self, function: str, bucket: str) -> set[str]:
        """The actions the function's role is allowed on every object of the bucket
        ``bucket`` (a logical id)."""
        actions: set[str] = set()
        for statement in self.statements(function):
            if statement["Effect"] != "Allow":
                continue
            if any(objects_of(t, bucket) for t in as_list(statement["Resource"])):
                actions.update(as_list(statement["Action"]))
        return actions

    def actions(self, function: str) -> set[str]:
        return {
            action
            for statement in self.statements(function)
            if statement["Effect"] == "Allow"
            for action in as_list(statement["Action"])
        }

    def vpc_endpoints(self, endpoint_type: str) -> dict[str, Resource]:
        """The VPC endpoints of a type (``Interface``, ``Gateway``), by logical id."""
        return {
            logical_id: res
            for logical_id, res in self.of_type("AWS::EC2::VPCEndpoint").items()
            if res["Properties"]["VpcEndpointType"] == endpoint_type
        }

    def apis_of_protocol(self, protocol: str) -> set[str]:
        """Logical ids of the API Gateway v2 APIs of a protocol (``HTTP``, ``WEBSOCKET``)."""
        return {
            logical_id
            for logical_id, res in self.of_type("AWS::ApiGatewayV2::Api").items()
            if res["Properties"]["ProtocolType"] == protocol
        }

    def _routes_of(self, protocol: str) -> list[dict[str, Any]]:
        apis = self.apis_of_protocol(protocol)
        return [
            res["Properties"]
            for res in self.of_type("AWS::ApiGatewayV2::Route").values()
            if ref_id(res["Properties"]["ApiId"]) in apis
        ]

    @cached_property
    def routes(self) -> dict[str, str]:
        """HTTP API route key → the declared function its integration invokes."""
        integrations = self.of_type("AWS::ApiGatewayV2::Integration")
        out: dict[str, str] = {}
        for props in self._routes_of("HTTP"):
            target = props["Target"]["Fn::Join"][1]
            assert target[0] == "integrations/", target
            integration = integrations[ref_id(target[1])]["Properties"]
            assert integration["IntegrationType"] == "AWS_PROXY"
            assert integration["PayloadFormatVersion"] == "2.0"
            assert props["RouteKey"] not in out, f"duplicate route {props['RouteKey']}"
            out[props["RouteKey"]] = self.function_of(integration["IntegrationUri"])
        return out

    @cached_property
    def websocket_routes(self) -> dict[str, str]:
        """WebSocket API route key → the declared function its Lambda proxy integration invokes."""
        integrations = self.of_type("AWS::ApiGatewayV2::Integration")
        out: dict[str, str] = {}
        for props in self._routes_of("WEBSOCKET"):
            target = props["Target"]["Fn::Join"][1]
            assert target[0] == "integrations/", target
            integration = integrations[ref_id(target[1])]["Properties"]
            assert integration["IntegrationType"] == "AWS_PROXY"
            assert props["RouteKey"] not in out, f"duplicate route {props['RouteKey']}"
            # The URI is arn:...:apigateway:{region}:lambda:path/.../functions/{arn}/invocations
            parts = integration["IntegrationUri"]["Fn::Join"][1]
            (function_arn,) = [p for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p]
            out[props["RouteKey"]] = self.function_of(function_arn)
        return out

    @cached_property
    def streams(self) -> dict[str, tuple[str, Resource]]:
        """Physical stream name → (logical id, properties)."""
        return {
            res["Properties"]["Name"]: (logical_id, res["Properties"])
            for logical_id, res in self.of_type("AWS::Kinesis::Stream").items()
        }

    def stream_name_of(self, value: Any) -> str:
        logical_id = ref_id(value)
        return str(self.resources[logical_id]["Properties"]["Name"])

    @cached_property
    def event_source_mappings(self) -> list[Resource]:
        return [r["Properties"] for r in self.of_type("AWS::Lambda::EventSourceMapping").values()]

    @cached_property
    def schedules(self) -> list[tuple[str, list[str], Resource]]:
        """(expression, target functions, rule properties) per scheduled rule."""
        return [
            (
                props["ScheduleExpression"],
                [self.function_of(t["Arn"]) for t in props["Targets"]],
                props,
            )
            for props in (r["Properties"] for r in self.of_type("AWS::Events::Rule").values())
            if "ScheduleExpression" in props
        ]

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.json.get("Outputs", {}))


def synthesize(app: App, stack: PulseStack) -> Synthesized:
    template = Template.from_stack(stack)
    return Synthesized(app, stack, stack.wiring, template, template.to_json())
