"""Execution layer: fill models, limit-order fill rule, fee models, position sizing, margin.

Public names (see each module for conventions and units):

* fills: ``FillModel``, ``FillPrice``, ``BarClose``, ``Mid``, ``CrossSpread``,
  ``SpreadFraction``, ``OratsSlippage``, ``PercentSlippage``, ``FillPolicy``, ``parse_fill``
* limits: ``LimitFill``
* fees: ``FillEvent``, ``FeeModel``, ``NoFees``, ``PerContract``, ``PerOrder``,
  ``IndiaIndexOptions``, ``IndiaCharges``, ``CombinedFees``, ``parse_fees``
* sizing: ``fixed_quantity``, ``percent_of_capital``, ``risk_based``, ``kelly_fraction``, ``kelly``
* payoff: ``PositionLeg``, ``expiry_value``, ``expiry_pnl``, ``value_at``, ``pnl_at``,
  ``max_loss_at_expiry``, ``price_grid``
* heat: ``portfolio_heat``, ``fits_risk_limits``
* margin: ``MarginModel``, ``DefinedRisk``, ``RegTIndex``, ``SpanLike``, ``parse_margin``,
  ``MarginUnavailableError`` (base of ``UndefinedRiskError`` and ``MissingVolatilityError``)
* ``SpecError`` for every bad spec string.
"""

from workbench.execution.fees import (
    CombinedFees,
    FeeModel,
    FillEvent,
    IndiaCharges,
    IndiaIndexOptions,
    NoFees,
    PerContract,
    PerOrder,
    fees_from_dict,
    parse_fees,
)
from workbench.execution.fills import (
    BarClose,
    CrossSpread,
    FillModel,
    FillPolicy,
    FillPrice,
    Mid,
    OratsSlippage,
    PercentSlippage,
    SpreadFraction,
    parse_fill,
)
from workbench.execution.heat import fits_risk_limits, portfolio_heat
from workbench.execution.limits import LimitFill
from workbench.execution.margin import (
    DefinedRisk,
    MarginModel,
    MarginUnavailableError,
    MissingVolatilityError,
    RegTIndex,
    SpanLike,
    UndefinedRiskError,
    parse_margin,
)
from workbench.execution.payoff import (
    PositionLeg,
    expiry_pnl,
    expiry_value,
    max_loss_at_expiry,
    pnl_at,
    price_grid,
    value_at,
)
from workbench.execution.sizing import (
    fixed_quantity,
    kelly,
    kelly_fraction,
    percent_of_capital,
    risk_based,
)
from workbench.execution.spec import SpecError

__all__ = [
    "BarClose",
    "CombinedFees",
    "CrossSpread",
    "DefinedRisk",
    "FeeModel",
    "FillEvent",
    "FillModel",
    "FillPolicy",
    "FillPrice",
    "IndiaCharges",
    "IndiaIndexOptions",
    "LimitFill",
    "MarginModel",
    "MarginUnavailableError",
    "Mid",
    "MissingVolatilityError",
    "NoFees",
    "OratsSlippage",
    "PerContract",
    "PerOrder",
    "PercentSlippage",
    "PositionLeg",
    "RegTIndex",
    "SpanLike",
    "SpecError",
    "SpreadFraction",
    "UndefinedRiskError",
    "expiry_pnl",
    "expiry_value",
    "fees_from_dict",
    "fits_risk_limits",
    "fixed_quantity",
    "kelly",
    "kelly_fraction",
    "max_loss_at_expiry",
    "parse_fees",
    "parse_fill",
    "parse_margin",
    "percent_of_capital",
    "pnl_at",
    "portfolio_heat",
    "price_grid",
    "risk_based",
    "value_at",
]
