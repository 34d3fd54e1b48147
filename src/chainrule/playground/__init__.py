"""The neural-network playground: a browser lab where backprop happens before your eyes.

Run it with ``chainrule playground`` (needs ``pip install chainrule[playground]``).
The model and training live in ``session.py``; the HTTP layer in ``server.py``; the page in ``static/``.
"""
