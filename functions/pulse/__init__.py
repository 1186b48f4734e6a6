"""Pulse: the Lambda code of the self-hosted event-analytics platform.

Nothing in this package knows whether it runs in AWS or in the local runtime: AWS clients come
from boto3 with the standard ``AWS_ENDPOINT_URL`` settings, and every setting from ``settings``.
"""
