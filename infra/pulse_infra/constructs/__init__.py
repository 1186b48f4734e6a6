"""One construct per capability; ``pulse_infra.stack`` composes them."""
