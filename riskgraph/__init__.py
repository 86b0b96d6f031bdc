"""riskgraph: a knowledge-graph platform for early warning of illegal fundraising (非法集资)."""

__version__ = "0.1.0"
