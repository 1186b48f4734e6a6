"""Real-time: the WebSocket API's "ws" function (connect, disconnect, client messages), the
connection registry in Redis, the messages and their size limits, and the processor's fan-out
through the API Gateway management API (``post_to_connection``). See docs/realtime.md.
"""
