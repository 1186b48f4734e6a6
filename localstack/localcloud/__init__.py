"""The embedded local cloud: runs the platform's Lambda handlers on one machine, no Docker.

It stands in for API Gateway (HTTP, later WebSocket), the Lambda runtime, event source mappings
and EventBridge schedules, and runs moto for the AWS APIs the handlers call. Nothing in
``functions/`` imports this package. (Not named ``localstack``: that would shadow LocalStack.)
"""
