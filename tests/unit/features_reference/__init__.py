"""MFT features checked against an independent, plain-pandas reference, and for causality.

``candles.py`` generates a deterministic world of candle tables (the ``CANDLES`` schema)
holding the awkward cases: empty bars, a whole missing day in the look-back, month and
year boundaries, an instrument listed a few days before the day under test whose first
trade comes late, instruments with and without ticker, book and option data, a silent
stretch long enough that whole windows are empty, and a low-priced instrument.
``reference.py`` recomputes every feature bar by bar from its written definition
(``market_assets/features/columns.py``) with explicit windows and loops, and says why
each null is null. The tests compare ``day_features`` with it, check that nothing at a
bar depends on later bars, and that the look-back is long enough.
"""
