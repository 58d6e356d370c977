"""Fee models against hand-computed contract-note arithmetic, dated rates, rounding, specs."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from exec_builders import fill
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.execution import (
    CombinedFees,
    FeeModel,
    FillEvent,
    IndiaIndexOptions,
    NoFees,
    PerContract,
    PerOrder,
    SpecError,
    parse_fees,
)
from workbench.execution.india_rates import NSE_INDEX_OPTION_RATES, DatedRate
from workbench.execution.money import allocate

D = Decimal
ZERODHA_STYLE = IndiaIndexOptions(brokerage=PerOrder(20.0, per_leg=True))


def bull_call_credit(day: date) -> list[FillEvent]:
    """NIFTY bear call spread, 2 lots of 25: sell 25000 CE at 182.45, buy 25200 CE at 101.30."""
    return [
        fill("SELL", qty=2, units=50, price=182.45, day=day, strike=25000),
        fill("BUY", qty=2, units=50, price=101.30, day=day, strike=25200),
    ]


def test_india_contract_note_2024_10_07():
    # Contract-note arithmetic by hand (rates from 2024-10-01):
    #   sell premium 50 x 182.45 = 9122.50; buy premium 50 x 101.30 = 5065.00; turnover 14187.50
    #   brokerage 2 executed orders x 20                               = 40.00
    #   STT 0.1% x 9122.50 = 9.1225                                    ->  9.12
    #   NSE txn 0.03503% x 14187.50 = 4.96988...                        ->  4.97
    #   SEBI 10/crore = 1e-6 x 14187.50 = 0.0141875                    ->  0.01
    #   stamp 0.003% x 5065.00 = 0.15195                               ->  0.15
    #   GST 18% x (40 + 4.97 + 0.01) = 8.0964                          ->  8.10
    #   total                                                          = 62.35
    fills = bull_call_credit(date(2024, 10, 7))
    charges = ZERODHA_STYLE.charges(fills)
    assert sum(c.brokerage for c in charges) == D("40.00")
    assert sum(c.stt for c in charges) == D("9.12")
    assert sum(c.transaction for c in charges) == D("4.97")
    assert sum(c.sebi for c in charges) == D("0.01")
    assert sum(c.stamp for c in charges) == D("0.15")
    assert sum(c.gst for c in charges) == D("8.10")
    # Split over the fills (largest remainder, in paise):
    #   txn 497 paise by premium 9122.5 : 5065 -> 319.57 / 177.43 -> 320 / 177
    #   GST 810 paise by taxable 23.21 : 21.77 -> 417.97 / 392.03 -> 418 / 392
    #   sell: 20 + 9.12 + 3.20 + 0.01 + 0.00 + 4.18 = 36.51
    #   buy:  20 + 0.00 + 1.77 + 0.00 + 0.15 + 3.92 = 25.84
    assert ZERODHA_STYLE.fees(fills) == [36.51, 25.84]
    assert charges[0].transaction == D("3.20") and charges[1].transaction == D("1.77")
    assert charges[0].gst == D("4.18") and charges[1].gst == D("3.92")


def test_india_contract_note_2024_09_30_old_rates():
    # STT 0.0625% x 9122.50 = 5.7015625 -> 5.70; txn 0.053% x 14187.50 = 7.519375 -> 7.52;
    # SEBI 0.01; stamp 0.15; GST 18% x (40 + 7.52 + 0.01) = 8.5554 -> 8.56; total 61.94.
    fills = bull_call_credit(date(2024, 9, 30))
    charges = ZERODHA_STYLE.charges(fills)
    assert sum(c.stt for c in charges) == D("5.70")
    assert sum(c.transaction for c in charges) == D("7.52")
    assert sum(c.gst for c in charges) == D("8.56")
    assert sum(ZERODHA_STYLE.fees(fills)) == pytest.approx(61.94, abs=1e-9)


@pytest.mark.parametrize(
    ("day", "stt"),
    [
        # STT on 9122.50 of premium sold
        (date(2016, 5, 31), "1.55"),  # 0.017%  -> 1.550825
        (date(2016, 6, 1), "4.56"),  # 0.05%   -> 4.56125
        (date(2023, 3, 31), "4.56"),
        (date(2023, 4, 1), "5.70"),  # 0.0625% -> 5.7015625
        (date(2024, 9, 30), "5.70"),
        (date(2024, 10, 1), "9.12"),  # 0.1%    -> 9.1225
        (date(2026, 3, 31), "9.12"),
        (date(2026, 4, 1), "13.68"),  # 0.15%   -> 13.68375
    ],
)
def test_stt_dated_boundaries(day, stt):
    charges = IndiaIndexOptions().charges(bull_call_credit(day))
    assert sum(c.stt for c in charges) == D(stt)


@pytest.mark.parametrize(
    ("day", "txn", "sebi", "gst_rate"),
    [
        (date(2015, 5, 31), "7.52", "0.02", "0.1236"),  # service tax 12.36%
        (date(2015, 6, 1), "7.52", "0.02", "0.14"),
        (date(2015, 11, 15), "7.52", "0.02", "0.145"),
        (date(2016, 6, 1), "7.52", "0.02", "0.15"),
        (date(2017, 6, 30), "7.52", "0.02", "0.15"),  # SEBI 15/crore: 0.0212813 -> 0.02
        (date(2017, 7, 1), "7.52", "0.02", "0.18"),
        (date(2020, 5, 31), "7.52", "0.02", "0.18"),
        (date(2020, 6, 1), "7.52", "0.01", "0.18"),
        (date(2024, 9, 30), "7.52", "0.01", "0.18"),
        (date(2024, 10, 1), "4.97", "0.01", "0.18"),
    ],
)
def test_transaction_sebi_gst_boundaries(day, txn, sebi, gst_rate):
    charges = ZERODHA_STYLE.charges(bull_call_credit(day))
    total_txn = sum(c.transaction for c in charges)
    total_sebi = sum(c.sebi for c in charges)
    assert total_txn == D(txn)
    assert total_sebi == D(sebi)
    expected_gst = (D(gst_rate) * (D("40") + total_txn + total_sebi)).quantize(
        D("0.01"), ROUND_HALF_UP
    )
    assert sum(c.gst for c in charges) == expected_gst


def test_stt_rupee_rounding_option():
    # 9.1225 rounds to 9 rupees on a contract note.
    model = IndiaIndexOptions(stt_rounding="rupee")
    assert sum(c.stt for c in model.charges(bull_call_credit(date(2024, 10, 7)))) == D("9")


def test_india_settlement_stt_on_itm_long_only():
    day = date(2024, 10, 3)
    settlements = [
        # long 50 units of 25000 CE settled at 25123.40: intrinsic 123.40; STT 0.125% x 6170
        # = 7.7125 -> 7.71
        fill("SELL", qty=2, units=50, price=123.40, day=day),
        # a short ITM leg (closed by a BUY at intrinsic) pays no STT
        fill("BUY", qty=2, units=50, price=123.40, day=day),
        # OTM: worthless, nothing to pay
        fill("SELL", qty=2, units=50, price=0.0, day=day, strike=25500),
    ]
    assert ZERODHA_STYLE.settlement_fees(settlements) == [7.71, 0.0, 0.0]
    # From 2026-04-01 exercise STT is 0.15%: 6170 x 0.0015 = 9.255 -> 9.26 (half-up)
    later = [fill("SELL", qty=2, units=50, price=123.40, day=date(2026, 4, 30))]
    assert IndiaIndexOptions().settlement_fees(later) == [9.26]


def test_india_order_must_share_a_day():
    fills = [fill(day=date(2024, 10, 1)), fill(day=date(2024, 10, 2))]
    with pytest.raises(ValueError, match="share a trade date"):
        IndiaIndexOptions().fees(fills)


def test_india_rejects_bad_configuration():
    with pytest.raises(ValueError, match="stt_rounding"):
        IndiaIndexOptions(stt_rounding="lakh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="brokerage"):
        IndiaIndexOptions(brokerage="20")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="double"):
        IndiaIndexOptions(brokerage=IndiaIndexOptions())


def test_dated_rate_lookup_and_validation():
    rate = DatedRate("x", ((date(2020, 1, 1), "0.1"), (date(2021, 1, 1), "0.2")))
    assert rate.on(date(2020, 12, 31)) == D("0.1")
    assert rate.on(date(2021, 1, 1)) == D("0.2")
    with pytest.raises(ValueError, match="not known before 2020-01-01"):
        rate.on(date(2019, 12, 31))
    with pytest.raises(ValueError, match="strictly increasing"):
        DatedRate("x", ((date(2021, 1, 1), "0.1"), (date(2020, 1, 1), "0.2")))
    with pytest.raises(ValueError, match="negative"):
        DatedRate("x", ((date(2021, 1, 1), "-0.1"),))
    assert NSE_INDEX_OPTION_RATES.transaction.on(date(2024, 10, 1)) == D("0.0003503")


def test_per_contract_minimum_and_split():
    one = [fill("BUY", qty=1, units=100, price=2.0)]
    assert PerContract(0.65, minimum=1.0).fees(one) == [1.00]  # 0.65 < minimum 1.00
    two = [fill("SELL", qty=1, units=100), fill("BUY", qty=2, units=200)]
    assert PerContract(0.65, minimum=1.0).fees(two) == [0.65, 1.30]  # 3 x 0.65 = 1.95
    three = [fill(qty=1), fill(qty=1), fill(qty=1)]
    # 3 x 0.333 = 0.999 -> 1.00 for the order, split 0.34 / 0.33 / 0.33 (ties to the first)
    assert PerContract(0.333).fees(three) == [0.34, 0.33, 0.33]
    assert PerContract(1.0).fees([]) == []


def test_per_contract_fees_remembered_per_order_shape_stay_each_models_own():
    """The fees of an order shape are remembered (studies repeat a few shapes thousands of
    times): models with other rates or minimums get their own, and a caller changing the list
    it got changes nothing later."""
    two = [fill(qty=1), fill(qty=1)]
    first = PerContract(0.65, minimum=1.0).fees(two)
    assert first == [0.65, 0.65]
    first[0] = 99.0
    assert PerContract(0.65, minimum=1.0).fees(two) == [0.65, 0.65]
    assert PerContract(0.65, minimum=2.0).fees(two) == [1.00, 1.00]
    assert PerContract(0.70).fees(two) == [0.70, 0.70]
    assert PerContract(0.65).fees([fill(qty=3), fill(qty=1)]) == [1.95, 0.65]


def test_per_contract_settlement_no_fee_when_otm():
    model = PerContract(0.65, minimum=1.0, settlement_rate=0.50)
    settlements = [
        fill("SELL", qty=3, units=300, price=0.0),
        fill("SELL", qty=3, units=300, price=4.2),
    ]
    assert model.settlement_fees(settlements) == [0.0, 1.50]
    assert PerContract(0.65).settlement_fees(settlements) == [0.0, 0.0]


def test_per_order():
    three = [fill(), fill(), fill()]
    assert PerOrder(20).fees(three) == [6.67, 6.67, 6.66]
    assert PerOrder(20, per_leg=True).fees(three) == [20.0, 20.0, 20.0]
    assert PerOrder(20).settlement_fees(three) == [0.0, 0.0, 0.0]


def test_no_fees_and_combined():
    fills = [fill(qty=1), fill(qty=2)]
    assert NoFees().fees(fills) == [0.0, 0.0]
    combined = CombinedFees((PerContract(0.65), PerOrder(1.0)))
    assert combined.fees(fills) == [0.65 + 0.50, 1.30 + 0.50]
    with pytest.raises(ValueError, match="at least one"):
        CombinedFees(())


@pytest.mark.parametrize(
    ("factory", "param"),
    [
        (lambda: PerContract(-0.65), "rate"),
        (lambda: PerContract(0.65, minimum=float("nan")), "minimum"),
        (lambda: PerContract(0.65, settlement_rate=-1), "settlement_rate"),
        (lambda: PerOrder(-20), "amount"),
        (lambda: PerOrder(20, per_leg="yes"), "per_leg"),  # type: ignore[arg-type]
        (lambda: fill(qty=0), "qty"),
        (lambda: fill(qty=1.5), "qty"),  # type: ignore[arg-type]
        (lambda: fill(units=0), "units"),
        (lambda: fill(price=-1), "price"),
        (lambda: fill(price=float("inf")), "price"),
    ],
)
def test_bad_parameters_name_the_parameter(factory, param):
    with pytest.raises(ValueError, match=param):
        factory()


def test_fee_models_reject_non_fill_events():
    with pytest.raises(ValueError, match=r"fills\[0\]"):
        PerContract(0.65).fees([("SELL", 1)])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", NoFees()),
        ("per-contract:0.65,min=1", PerContract(0.65, minimum=1.0)),
        ("per-contract:1", PerContract(1.0)),
        ("per-contract:0.65,min=1,settle=0.5", PerContract(0.65, 1.0, 0.5)),
        ("per-order:20", PerOrder(20.0)),
        ("per-order:20,per_leg=true", PerOrder(20.0, per_leg=True)),
        ("india", IndiaIndexOptions()),
        ("india,stt_rounding=rupee", IndiaIndexOptions(stt_rounding="rupee")),
        ("per-order:20,per_leg=true+india", ZERODHA_STYLE),
        ("india+per-order:20,per_leg=true", ZERODHA_STYLE),
        (
            "per-contract:0.5+per-order:1",
            CombinedFees((PerContract(0.5), PerOrder(1.0))),
        ),
    ],
)
def test_parse_fees(spec, expected):
    model = parse_fees(spec)
    assert model == expected
    assert isinstance(model, FeeModel)


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("", "non-empty"),
        ("ibkr", "unknown fee model 'ibkr'"),
        ("per-contract", "needs a rate"),
        ("per-contract:0.65,max=3", "unknown option"),
        ("per-contract:-1", "rate must be a finite number >= 0"),
        ("per-order:x", "'x' is not a number"),
        ("per-order:20,per_leg=maybe", "not true/false"),
        ("india+india", "more than once"),
        ("india:2024", "takes no ':' value"),
        ("none+", "empty model"),
    ],
)
def test_parse_fees_errors(spec, fault):
    with pytest.raises(SpecError) as err:
        parse_fees(spec)
    assert fault in str(err.value)


def test_describe_is_plain_data():
    import json

    text = json.dumps(ZERODHA_STYLE.describe())
    assert '"per_leg": true' in text and '"0.0003503"' in text


@settings(deadline=None)
@given(total=st.integers(0, 10**7), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_allocate_is_exact_and_fair(total, weights):
    amount = D(total) / 100
    parts = allocate(amount, [D(w) for w in weights])
    assert sum(parts) == amount
    wsum = sum(weights) or len(weights)
    for part, w in zip(parts, weights if sum(weights) else [1] * len(weights)):
        assert abs(part - amount * w / wsum) < D("0.01")


fill_events = st.builds(
    fill,
    side=st.sampled_from(["BUY", "SELL"]),
    qty=st.integers(1, 50),
    units=st.sampled_from([15.0, 25.0, 50.0, 75.0, 100.0]),
    price=st.floats(0.0, 5000.0, allow_nan=False).map(lambda p: round(p, 2)),
    day=st.dates(date(2015, 1, 1), date(2027, 12, 31)),
)


@settings(deadline=None)
@given(events=st.lists(fill_events, min_size=1, max_size=6), rate=st.floats(0.0, 5.0))
def test_fees_non_negative(events, rate):
    day = events[0].day
    same_day = [FillEvent(e.contract, e.side, e.qty, e.units, e.price, day) for e in events]
    for model in (
        NoFees(),
        PerContract(rate, minimum=1.0),
        PerOrder(rate),
        IndiaIndexOptions(),
        ZERODHA_STYLE,
    ):
        fees = model.fees(same_day)
        assert len(fees) == len(same_day)
        assert all(f >= 0 for f in fees)
        assert all(f >= 0 for f in model.settlement_fees(same_day))
    total = sum(D(str(f)) for f in PerContract(rate, minimum=1.0).fees(same_day))
    expected = max(D(repr(rate)) * sum(e.qty for e in same_day), D(1)).quantize(
        D("0.01"), rounding=ROUND_HALF_UP
    )
    assert total == expected


def test_for_contract_takes_units_from_the_registry():
    # NIFTY lot size was 25 from 2024-04-26 and 75 from 2024-11-20 (registry history)
    nifty = fill().contract
    assert FillEvent.for_contract(nifty, "SELL", 2, 100.0, date(2024, 10, 7)).units == 50.0
    assert FillEvent.for_contract(nifty, "SELL", 2, 100.0, date(2024, 11, 20)).units == 150.0
    spx = fill(underlying="SPX", strike=4800).contract
    assert FillEvent.for_contract(spx, "BUY", 3, 1.5, date(2024, 1, 5)).units == 300.0


def test_india_refuses_other_venues():
    sensex = [fill(underlying="SENSEX", strike=80000)]
    with pytest.raises(ValueError, match="trades on BSE"):
        IndiaIndexOptions().fees(sensex)
    with pytest.raises(ValueError, match="venue"):
        IndiaIndexOptions(venue="")


@pytest.mark.parametrize(
    "model",
    [
        NoFees(),
        PerContract(0.65, 1.0, 0.5),
        PerOrder(20.0, per_leg=True),
        ZERODHA_STYLE,
        IndiaIndexOptions(stt_rounding="rupee"),
        CombinedFees((PerContract(0.5), PerOrder(1.0))),
    ],
    ids=lambda m: m.name,
)
def test_describe_round_trips_through_json(model):
    import json

    assert parse_fees(json.loads(json.dumps(model.describe()))) == model


def test_fees_from_bad_dict():
    with pytest.raises(SpecError, match="unknown name"):
        parse_fees({"name": "ibkr"})
    with pytest.raises(SpecError, match="rate"):
        parse_fees({"name": "per-contract", "rate": -1})
    bad_rates = ZERODHA_STYLE.describe()
    bad_rates["rates"] = {"gst": []}
    with pytest.raises(SpecError, match="exactly the keys"):
        parse_fees(bad_rates)
