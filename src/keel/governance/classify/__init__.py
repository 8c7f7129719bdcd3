"""Classification: word tables (``vocab``), name rules (``names``), value detectors
(``values``), the column matcher (``column``) and table names (``tables``).

The public entry points are re-exported by :mod:`keel.governance.classify_rules`.
"""
