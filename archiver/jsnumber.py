"""JavaScript's ``Number.prototype.toString(radix)`` for Python floats.

X's syndication endpoint checks a token computed in the browser with
``(x).toString(36)``, so the archiver must produce the very digits V8 produces,
rounding quirks included. This is a line-for-line port of V8's
``DoubleToRadixCString`` (src/numbers/conversions.cc). Python floats are IEEE
doubles and every step below is a single IEEE operation, so the results match.
"""

from __future__ import annotations

import math

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_MIN_POSITIVE = math.ulp(0.0)  # smallest denormal, V8's Double(0.0).NextDouble()


def _exponent(value: float) -> int:
    """V8's ``Double::Exponent()``: ``value == significand * 2**exponent``, significand < 2**53."""
    if value == 0.0:
        return -1074
    _, exp = math.frexp(value)  # value = m * 2**exp, 0.5 <= m < 1
    return max(exp - 53, -1074)


def _decimal_string(value: float) -> str:
    """ECMAScript Number::toString(10): shortest round-trip digits (as ``repr``) in JS layout."""
    text = repr(abs(value))
    mantissa, _, exp = text.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    point = len(int_part) + int(exp or 0)
    stripped = digits.lstrip("0")
    n = point - (len(digits) - len(stripped))  # value == 0.<s> * 10**n
    s = stripped.rstrip("0")
    k = len(s)
    sign = "-" if value < 0 else ""
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    head = s if k == 1 else s[0] + "." + s[1:]
    return f"{sign}{head}e{'+' if e >= 0 else '-'}{abs(e)}"


def js_number_to_string(value: float, radix: int = 10) -> str:
    """Return ``value.toString(radix)`` exactly as V8 (node, Chrome) writes it."""
    if not 2 <= radix <= 36:
        raise ValueError(f"radix must be 2..36, not {radix}")
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:  # also -0.0, which JS prints as "0"
        return "0"
    if radix == 10:  # JS does not use the radix algorithm for base 10
        return _decimal_string(value)

    negative = value < 0
    if negative:
        value = -value

    integer = float(math.floor(value))
    fraction = value - integer
    # Only emit fraction digits down to the input's own precision: half the gap to
    # the next double, but never below the smallest denormal.
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), _MIN_POSITIVE)

    frac_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac_digits.append(digit)
            fraction -= digit
            # Round half to even; carry into earlier digits if rounding up overflows.
            if fraction > 0.5 or (fraction == 0.5 and (digit & 1)):
                if fraction + delta > 1:
                    while True:
                        if not frac_digits:
                            integer += 1
                            break
                        last = frac_digits.pop()
                        if last + 1 < radix:
                            frac_digits.append(last + 1)
                            break
                    break
            if not fraction >= delta:
                break

    # Integer digits below the double's precision are unknown: V8 writes zeros.
    int_digits: list[str] = []
    while _exponent(integer / radix) > 0:
        integer /= radix
        int_digits.append("0")
    while True:
        remainder = math.fmod(integer, radix)
        int_digits.append(_DIGITS[int(remainder)])
        integer = (integer - remainder) / radix
        if not integer > 0:
            break

    out = ("-" if negative else "") + "".join(reversed(int_digits))
    if frac_digits:
        out += "." + "".join(_DIGITS[d] for d in frac_digits)
    return out
