# The project package keeps no tables of its own; roles are auth groups (see roles.py).
