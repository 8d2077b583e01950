"""Reports: a session (or a user's history) composed into one self-contained HTML document
that opens offline in any browser: summary, per-set table, plots (matplotlib, inlined as SVG),
the measurement-quality record.

``session`` gathers what a report says from a recording and its analysis (plain data);
``figures`` draws it (matplotlib's SVG backend, no pyplot: no global figure state, no display);
``html`` writes the document (every piece of user text escaped).

May import the layers below it (``storage``, ``processing``, ``simulator``, core types) and
matplotlib (only here); not ``app``, ``ui`` or ``cli``, which use it.
"""
