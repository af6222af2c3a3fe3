"""Candles: exact bars of every timeframe from the ticks, with microstructure features."""
