"""The two tables every spec case is written against.

``p`` has one row per patient and ``e`` many; each has two columns of every type so that a case
can combine values of one type (``i1 + i2``) or compare two dates (``d1 < d2``).
"""

import datetime

from fedsafe.codes import SNOMEDCTCode
from fedsafe.language import EventFrame, PatientFrame, Series, table


@table
class p(PatientFrame):
    i1 = Series(int)
    i2 = Series(int)
    f1 = Series(float)
    f2 = Series(float)
    b1 = Series(bool)
    b2 = Series(bool)
    s1 = Series(str)
    s2 = Series(str)
    d1 = Series(datetime.date)
    d2 = Series(datetime.date)
    c1 = Series(SNOMEDCTCode)


@table
class e(EventFrame):
    i1 = Series(int)
    i2 = Series(int)
    f1 = Series(float)
    f2 = Series(float)
    b1 = Series(bool)
    b2 = Series(bool)
    s1 = Series(str)
    s2 = Series(str)
    d1 = Series(datetime.date)
    d2 = Series(datetime.date)
    c1 = Series(SNOMEDCTCode)
