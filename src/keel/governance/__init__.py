"""Governance: desired state, classification, audit and catalog."""
