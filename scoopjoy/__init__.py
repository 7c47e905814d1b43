"""ScoopJoy Ops: a Frappe v15 app for the ScoopJoy ice-cream franchise.

This package file must stay free of ``import frappe``: the pure core (``scoopjoy.core``) and the API
client (``scoopjoy.client``) are imported by tier-1 tests and by the ``scoopjoy`` console script on
machines without Frappe.
"""

__version__ = "0.1.0"
