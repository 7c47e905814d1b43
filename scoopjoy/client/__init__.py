"""The ScoopJoy API client and ``scoopjoy`` console script (requests + python-socketio, no frappe)."""
