"""The example shop: an order that keeps its history in the audit trail."""
