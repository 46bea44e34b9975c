"""The coding workbench (``qualcode open``): a local web server over the project's library.

The server listens on 127.0.0.1 only, renders pages with Jinja2 on the server and changes the
project only through the library (recode, review, memos, codebook, progress), one command each.
"""
