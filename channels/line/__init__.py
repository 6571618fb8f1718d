"""LINE Messaging API channel: adapter, webhook route, ingestion and jobs (see adapter.py)."""
