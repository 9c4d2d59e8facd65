"""Monitoring: health, Prometheus metrics, request logs, threshold alerts and a dashboard."""
