"""The Pulse CDK app: one stack, composed of one construct per capability, built from
``pulse.wiring.WIRING`` (the declaration the local runtime reads too)."""

import os

# jsii prints a banner on every import of aws_cdk under Node 20; the CDK itself still works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
