"""SQL, one module per aggregate. Nothing outside this package builds SQL."""
