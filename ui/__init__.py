"""Streamlit glue shared by the pages: cached settings and clients, session state, small widgets.

The only Streamlit code outside app.py and pages/; everything it does with data is a call into core.
"""
