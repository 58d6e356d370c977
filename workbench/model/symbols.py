"""Display symbols: format an :class:`OptionContract` in its venue's style and parse one back.

Styles
------
``nse`` (NSE, BSE, MCX)
    Monthly expiry: ``<ROOT><YY><MON><STRIKE><CE|PE>``, e.g. ``NIFTY24JAN21500CE`` (the
    expiry is the underlying's monthly expiry of that contract month).
    Any other expiry: ``<ROOT><YY><M><DD><STRIKE><CE|PE>``, e.g. ``NIFTY2411821500CE``, with
    the month code ``1``-``9``, ``O`` (Oct), ``N`` (Nov), ``D`` (Dec).
    The strike is written without a decimal point when whole (``21500``), else with its
    decimals (``21512.5``).
``occ`` (US)
    ``<ROOT padded to 6><YYMMDD><C|P><strike x 1000 in 8 digits>``, e.g.
    ``SPXW  240119C04800000``. The parser also accepts the unpadded form found in CBOE files
    (``SPXW240119C04800000``) and any run of blanks between root and date.

Parsing is strict: every fault raises :class:`SymbolError` naming the text and what is wrong.
"""

from __future__ import annotations

import re
from datetime import date

from workbench.model.calendars import monthly_expiry, monthly_label
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right
from workbench.model.instruments import (
    UnknownInstrumentError,
    get_instrument,
    instrument_by_occ_root,
    instruments,
)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_CODES = "123456789OND"
_OCC_STRIKE_MAX = 99_999_999  # 8 digits of strike x 1000


class SymbolError(ValueError):
    """A display symbol that cannot be parsed (or a contract that cannot be written as one)."""


def _nse_strike(strike: float) -> str:
    if strike.is_integer():
        return str(int(strike))
    text = f"{strike:.6f}".rstrip("0").rstrip(".")
    if float(text) != strike:
        raise SymbolError(f"strike {strike!r} has more decimals than a symbol can carry")
    return text


def format_symbol(contract: OptionContract) -> str:
    """Display symbol of ``contract`` in its underlying's style (see the module docstring)."""
    try:
        spec = get_instrument(contract.underlying)
    except UnknownInstrumentError as exc:
        raise SymbolError(f"cannot format a symbol for {contract!r}: {exc}") from None
    expiry = contract.expiry
    if not 2000 <= expiry.year <= 2099:
        raise SymbolError(
            f"cannot format a symbol for {contract!r}: two-digit years cover 2000..2099 only"
        )
    if spec.symbol_style == "nse":
        strike = _nse_strike(contract.strike)
        right = "CE" if contract.right is Right.CALL else "PE"
        label = monthly_label(spec.name, expiry)
        if label is not None:
            year, month = label
            return f"{spec.name}{year % 100:02d}{_MONTHS[month - 1]}{strike}{right}"
        code = _MONTH_CODES[expiry.month - 1]
        return f"{spec.name}{expiry.year % 100:02d}{code}{expiry.day:02d}{strike}{right}"
    hit = _OCC_MEMO.get(contract)
    if hit is not None and hit[0] is spec:
        return hit[1]
    milli = round(contract.strike * 1000)
    if abs(milli - contract.strike * 1000) > 1e-6 * max(1.0, contract.strike):
        raise SymbolError(f"strike {contract.strike!r} of {spec.name} is not a multiple of 0.001")
    if milli > _OCC_STRIKE_MAX:
        raise SymbolError(
            f"strike {contract.strike!r} of {spec.name} exceeds the OCC 8-digit field"
        )
    root = spec.occ_root or spec.name
    text = f"{root:<6}{expiry:%y%m%d}{contract.right.value}{milli:08d}"
    if len(_OCC_MEMO) >= _OCC_MEMO_MAX:
        _OCC_MEMO.clear()
    _OCC_MEMO[contract] = (spec, text)
    return text


#: OCC symbols already written: contract -> (the spec it was written with, symbol). A book
#: names each leg many times (tradebook rows, warnings); an OCC symbol depends only on the
#: contract and its spec, so a hit under the same spec object is the same text.
_OCC_MEMO: dict[OptionContract, tuple[object, str]] = {}
_OCC_MEMO_MAX = 1 << 16


_NSE_RE = re.compile(
    r"^(?P<root>[A-Z]+)(?P<yy>\d{2})"
    r"(?:(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)|(?P<code>[1-9OND])(?P<dd>\d{2}))"
    r"(?P<strike>\d+(?:\.\d+)?)(?P<right>CE|PE)$"
)
_OCC_RE = re.compile(r"^(?P<root>[A-Z]{1,6}) *(?P<ymd>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
_NSE_ROOTS = tuple(
    sorted((s.name for s in instruments() if s.symbol_style == "nse"), key=len, reverse=True)
)


def _fail(text: str, why: str) -> SymbolError:
    return SymbolError(f"cannot parse option symbol {text!r}: {why}")


def _nse_fault(text: str) -> str:
    """Best diagnosis of why ``text`` is not a valid NSE-style symbol."""
    root = next((r for r in _NSE_ROOTS if text.startswith(r)), None)
    if root is None:
        lead = re.match(r"[A-Z]*", text)
        return f"unknown root {lead.group(0) if lead else text!r} (known: {', '.join(_NSE_ROOTS)})"
    rest = text[len(root) :]
    if not re.match(r"\d{2}", rest):
        return f"expected a 2-digit year after {root!r}, found {rest[:2]!r}"
    after = rest[2:]
    if not (
        re.match(r"(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)", after)
        or re.match(r"[1-9OND]\d{2}", after)
    ):
        return f"bad month code {after[:3]!r} (expected JAN..DEC, or 1-9/O/N/D followed by a 2-digit day)"
    if not (text.endswith("CE") or text.endswith("PE")):
        return "missing right: the symbol must end in CE or PE"
    return "the strike is not a number"


def _parse_nse(text: str) -> OptionContract | None:
    m = _NSE_RE.match(text)
    if m is None:
        return None
    root = m["root"]
    try:
        spec = get_instrument(root)
    except UnknownInstrumentError:
        raise _fail(text, f"unknown root {root!r} (known: {', '.join(_NSE_ROOTS)})") from None
    if spec.symbol_style != "nse":
        raise _fail(text, f"{root} symbols are OCC style, not NSE style")
    year = 2000 + int(m["yy"])
    if m["mon"]:
        try:
            expiry = monthly_expiry(spec.name, year, _MONTHS.index(m["mon"]) + 1)
        except ValueError as exc:
            raise _fail(text, str(exc)) from None
    else:
        month = _MONTH_CODES.index(m["code"]) + 1
        try:
            expiry = date(year, month, int(m["dd"]))
        except ValueError:
            raise _fail(text, f"no such date {year}-{month:02d}-{m['dd']}") from None
    strike = float(m["strike"])
    if strike <= 0:
        raise _fail(text, "strike must be positive")
    return OptionContract(
        spec.name, expiry, strike, Right.CALL if m["right"] == "CE" else Right.PUT
    )


def _parse_occ(text: str) -> OptionContract | None:
    m = _OCC_RE.match(text)
    if m is None:
        return None
    try:
        spec = instrument_by_occ_root(m["root"])
    except UnknownInstrumentError as exc:
        raise _fail(
            text, f"unknown root {m['root']!r} (known OCC roots: {', '.join(exc.known)})"
        ) from None
    ymd = m["ymd"]
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        raise _fail(text, f"no such date 20{ymd[:2]}-{ymd[2:4]}-{ymd[4:]}") from None
    strike = int(m["strike"]) / 1000.0
    if strike <= 0:
        raise _fail(text, "strike must be positive")
    return OptionContract(spec.name, expiry, strike, Right(m["right"]))


def _occ_fault(text: str) -> str:
    m = re.match(r"^([A-Z]{1,6}) *", text)
    if m is None:
        return "expected an OCC root of 1-6 letters at the start"
    rest = text[m.end() :]
    if not re.match(r"\d{6}", rest):
        return f"expected YYMMDD after the root, found {rest[:6]!r}"
    if len(rest) < 7 or rest[6] not in "CP":
        return f"missing right: expected C or P after the date, found {rest[6:7]!r}"
    strike = rest[7:]
    if not re.fullmatch(r"\d{8}", strike):
        return f"strike {strike!r} is not 8 digits (strike x 1000)"
    return "malformed OCC symbol"


def parse_symbol(text: str) -> OptionContract:
    """Parse a display symbol (NSE or OCC style) into an :class:`OptionContract`.

    Raises
    ------
    SymbolError
        The message quotes ``text`` and names the fault (unknown root, bad month code,
        missing right, non-numeric strike, impossible date, ...).
    """
    if not isinstance(text, str):
        raise SymbolError(f"option symbol must be a string, got {text!r}")
    raw = text
    text = text.strip().upper()
    if not text:
        raise SymbolError(f"cannot parse option symbol {raw!r}: empty")
    contract = _parse_occ(text)
    if contract is not None:
        return contract
    contract = _parse_nse(text)
    if contract is not None:
        return contract
    # Diagnose: OCC-looking (date digits then C/P then 8 digits) versus NSE-looking.
    looks_occ = " " in text or re.match(r"^[A-Z]{1,6} *\d{6}", text) is not None
    if looks_occ and not any(text.startswith(r) for r in _NSE_ROOTS):
        raise _fail(raw, _occ_fault(text))
    raise _fail(raw, _nse_fault(text))
