"""The columnar archive of whole days of events: written by the rollup, read by filtered reports."""
