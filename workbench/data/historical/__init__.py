"""The synthetic historical provider (seed 002, "BT-001"): listed options priced with
Black-Scholes on a real close series under a declared volatility regime, written as a canonical
end-of-day dataset (:func:`synth_history`), so the engine, event comparisons and every other
reader use it exactly as they use stored real chains (seed 002's one provider contract)."""

from workbench.data.historical.build import provider_snapshot, synth_history, vol_levels
from workbench.data.historical.config import HistoryConfig

__all__ = ["HistoryConfig", "provider_snapshot", "synth_history", "vol_levels"]
