"""The hourly rollup job: recompute dirty hours into rollups and presence sets."""
