//! The 61 pattern rules, one function per TA-Lib `TA_CDL*` function.
//!
//! Each rule is a transcription of TA-Lib's conditions in TA-Lib's own terms
//! (which candle, which setting, which offset), written so the comparisons and
//! the floating-point order of operations match the C code: the output has to
//! agree bar for bar, including on ties. Every function has the same shape so
//! the catalogue can dispatch to it: bars, penetration (ignored by most),
//! output pre-filled with zeros.

use crate::settings::{
    Avg, BODY_DOJI as DOJI, BODY_LONG as BL, BODY_SHORT as BS, Bars, EQUAL as EQ, FAR, NEAR,
    SHADOW_LONG as SL, SHADOW_SHORT as SS, SHADOW_VERY_LONG as SVL, SHADOW_VERY_SHORT as SVS, cmax,
    cmin, max_period, scan,
};

pub(crate) type PatternFn = fn(&Bars, f64, &mut [i32]);

fn yes(cond: bool, value: i32) -> i32 {
    if cond { value } else { 0 }
}

pub(crate) fn cdl2crows(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, BL.period + 2, [(BL, 2)], |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 2) == 1
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.color(i - 1) == -1
                && b.body_gap_up(i - 1, i - 2)
                && b.color(i) == -1
                && o[i] < o[i - 1]
                && o[i] > c[i - 1]
                && c[i] > o[i - 2]
                && c[i] < c[i - 2],
            -100,
        )
    });
}

pub(crate) fn cdl3blackcrows(b: &Bars, _: f64, out: &mut [i32]) {
    scan(
        b,
        out,
        SVS.period + 3,
        [(SVS, 2), (SVS, 1), (SVS, 0)],
        |i, a| {
            let (o, h, c) = (b.o, b.h, b.c);
            yes(
                b.color(i - 3) == 1
                    && b.color(i - 2) == -1
                    && b.color(i - 1) == -1
                    && b.color(i) == -1
                    && o[i - 1] < o[i - 2]
                    && o[i - 1] > c[i - 2]
                    && o[i] < o[i - 1]
                    && o[i] > c[i - 1]
                    && h[i - 3] > c[i - 2]
                    && c[i - 2] > c[i - 1]
                    && c[i - 1] > c[i]
                    && b.lower(i - 2) < a[0].at(b, i - 2)
                    && b.lower(i - 1) < a[1].at(b, i - 1)
                    && b.lower(i) < a[2].at(b, i),
                -100,
            )
        },
    );
}

pub(crate) fn cdl3inside(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, BL]) + 2;
    scan(b, out, lookback, [(BL, 2), (BS, 1)], |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            cmax(c[i - 1], o[i - 1]) < cmax(c[i - 2], o[i - 2])
                && cmin(c[i - 1], o[i - 1]) > cmin(c[i - 2], o[i - 2])
                && ((b.color(i - 2) == 1 && b.color(i) == -1 && c[i] < o[i - 2])
                    || (b.color(i - 2) == -1 && b.color(i) == 1 && c[i] > o[i - 2]))
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.body(i - 1) <= a[1].at(b, i - 1),
            -b.color(i - 2) * 100,
        )
    });
}

pub(crate) fn cdl3linestrike(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, NEAR.period + 3, [(NEAR, 3), (NEAR, 2)], |i, a| {
        let (o, c) = (b.o, b.c);
        let near3 = a[0].at(b, i - 3);
        let near2 = a[1].at(b, i - 2);
        yes(
            b.color(i - 3) == b.color(i - 2)
                && b.color(i - 2) == b.color(i - 1)
                && b.color(i) == -b.color(i - 1)
                && o[i - 2] >= cmin(o[i - 3], c[i - 3]) - near3
                && o[i - 2] <= cmax(o[i - 3], c[i - 3]) + near3
                && o[i - 1] >= cmin(o[i - 2], c[i - 2]) - near2
                && o[i - 1] <= cmax(o[i - 2], c[i - 2]) + near2
                && ((b.color(i - 1) == 1
                    && c[i - 1] > c[i - 2]
                    && c[i - 2] > c[i - 3]
                    && o[i] > c[i - 1]
                    && c[i] < o[i - 3])
                    || (b.color(i - 1) == -1
                        && c[i - 1] < c[i - 2]
                        && c[i - 2] < c[i - 3]
                        && o[i] < c[i - 1]
                        && c[i] > o[i - 3])),
            b.color(i - 1) * 100,
        )
    });
}

pub(crate) fn cdl3outside(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, 3, [], |i, _| {
        let (o, c) = (b.o, b.c);
        yes(
            (b.color(i - 1) == 1
                && b.color(i - 2) == -1
                && c[i - 1] > o[i - 2]
                && o[i - 1] < c[i - 2]
                && c[i] > c[i - 1])
                || (b.color(i - 1) == -1
                    && b.color(i - 2) == 1
                    && o[i - 1] > c[i - 2]
                    && c[i - 1] < o[i - 2]
                    && c[i] < c[i - 1]),
            b.color(i - 1) * 100,
        )
    });
}

pub(crate) fn cdl3starsinsouth(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[SVS, SL, BL, BS]) + 2;
    let specs = [(BL, 2), (SL, 2), (SVS, 1), (SVS, 0), (BS, 0)];
    scan(b, out, lookback, specs, |i, a| {
        let (o, h, l, c) = (b.o, b.h, b.l, b.c);
        yes(
            b.color(i - 2) == -1
                && b.color(i - 1) == -1
                && b.color(i) == -1
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.lower(i - 2) > a[1].at(b, i - 2)
                && b.body(i - 1) < b.body(i - 2)
                && o[i - 1] > c[i - 2]
                && o[i - 1] <= h[i - 2]
                && l[i - 1] < c[i - 2]
                && l[i - 1] >= l[i - 2]
                && b.lower(i - 1) > a[2].at(b, i - 1)
                && b.body(i) < a[4].at(b, i)
                && b.lower(i) < a[3].at(b, i)
                && b.upper(i) < a[3].at(b, i)
                && l[i] > l[i - 1]
                && h[i] < h[i - 1],
            100,
        )
    });
}

pub(crate) fn cdl3whitesoldiers(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[SVS, BS, FAR, NEAR]) + 2;
    let specs = [
        (SVS, 2),
        (SVS, 1),
        (SVS, 0),
        (NEAR, 2),
        (NEAR, 1),
        (FAR, 2),
        (FAR, 1),
        (BS, 0),
    ];
    scan(b, out, lookback, specs, |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 2) == 1
                && b.upper(i - 2) < a[0].at(b, i - 2)
                && b.color(i - 1) == 1
                && b.upper(i - 1) < a[1].at(b, i - 1)
                && b.color(i) == 1
                && b.upper(i) < a[2].at(b, i)
                && c[i] > c[i - 1]
                && c[i - 1] > c[i - 2]
                && o[i - 1] > o[i - 2]
                && o[i - 1] <= c[i - 2] + a[3].at(b, i - 2)
                && o[i] > o[i - 1]
                && o[i] <= c[i - 1] + a[4].at(b, i - 1)
                && b.body(i - 1) > b.body(i - 2) - a[5].at(b, i - 2)
                && b.body(i) > b.body(i - 1) - a[6].at(b, i - 1)
                && b.body(i) > a[7].at(b, i),
            100,
        )
    });
}

pub(crate) fn cdlabandonedbaby(b: &Bars, pen: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, BL, BS]) + 2;
    scan(b, out, lookback, [(BL, 2), (DOJI, 1), (BS, 0)], |i, a| {
        let c = b.c;
        yes(
            b.body(i - 2) > a[0].at(b, i - 2)
                && b.body(i - 1) <= a[1].at(b, i - 1)
                && b.body(i) > a[2].at(b, i)
                && ((b.color(i - 2) == 1
                    && b.color(i) == -1
                    && c[i] < c[i - 2] - b.body(i - 2) * pen
                    && b.gap_up(i - 1, i - 2)
                    && b.gap_down(i, i - 1))
                    || (b.color(i - 2) == -1
                        && b.color(i) == 1
                        && c[i] > c[i - 2] + b.body(i - 2) * pen
                        && b.gap_down(i - 1, i - 2)
                        && b.gap_up(i, i - 1))),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdladvanceblock(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[SL, SS, FAR, NEAR, BL]) + 2;
    let specs = [
        (SS, 2),
        (SS, 1),
        (SS, 0),
        (SL, 1),
        (SL, 0),
        (NEAR, 2),
        (NEAR, 1),
        (FAR, 2),
        (FAR, 1),
        (BL, 2),
    ];
    scan(b, out, lookback, specs, |i, a| {
        let (o, c) = (b.o, b.c);
        let near1 = a[6].at(b, i - 1);
        yes(
            b.color(i - 2) == 1
                && b.color(i - 1) == 1
                && b.color(i) == 1
                && c[i] > c[i - 1]
                && c[i - 1] > c[i - 2]
                && o[i - 1] > o[i - 2]
                && o[i - 1] <= c[i - 2] + a[5].at(b, i - 2)
                && o[i] > o[i - 1]
                && o[i] <= c[i - 1] + near1
                && b.body(i - 2) > a[9].at(b, i - 2)
                && b.upper(i - 2) < a[0].at(b, i - 2)
                && ((b.body(i - 1) < b.body(i - 2) - a[7].at(b, i - 2)
                    && b.body(i) < b.body(i - 1) + near1)
                    || (b.body(i) < b.body(i - 1) - a[8].at(b, i - 1))
                    || (b.body(i) < b.body(i - 1)
                        && b.body(i - 1) < b.body(i - 2)
                        && (b.upper(i) > a[2].at(b, i) || b.upper(i - 1) > a[1].at(b, i - 1)))
                    || (b.body(i) < b.body(i - 1) && b.upper(i) > a[4].at(b, i))),
            -100,
        )
    });
}

pub(crate) fn cdlbelthold(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, SVS]);
    scan(b, out, lookback, [(BL, 0), (SVS, 0)], |i, a| {
        yes(
            b.body(i) > a[0].at(b, i)
                && ((b.color(i) == 1 && b.lower(i) < a[1].at(b, i))
                    || (b.color(i) == -1 && b.upper(i) < a[1].at(b, i))),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlbreakaway(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, BL.period + 4, [(BL, 4)], |i, a| {
        let (o, h, l, c) = (b.o, b.h, b.l, b.c);
        yes(
            b.color(i - 4) == b.color(i - 3)
                && b.color(i - 3) == b.color(i - 1)
                && b.color(i - 1) == -b.color(i)
                && b.body(i - 4) > a[0].at(b, i - 4)
                && ((b.color(i - 4) == -1
                    && b.body_gap_down(i - 3, i - 4)
                    && h[i - 2] < h[i - 3]
                    && l[i - 2] < l[i - 3]
                    && h[i - 1] < h[i - 2]
                    && l[i - 1] < l[i - 2]
                    && c[i] > o[i - 3]
                    && c[i] < c[i - 4])
                    || (b.color(i - 4) == 1
                        && b.body_gap_up(i - 3, i - 4)
                        && h[i - 2] > h[i - 3]
                        && l[i - 2] > l[i - 3]
                        && h[i - 1] > h[i - 2]
                        && l[i - 1] > l[i - 2]
                        && c[i] < o[i - 3]
                        && c[i] > c[i - 4])),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlclosingmarubozu(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, SVS]);
    scan(b, out, lookback, [(BL, 0), (SVS, 0)], |i, a| {
        yes(
            b.body(i) > a[0].at(b, i)
                && ((b.color(i) == 1 && b.upper(i) < a[1].at(b, i))
                    || (b.color(i) == -1 && b.lower(i) < a[1].at(b, i))),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlconcealbabyswall(b: &Bars, _: f64, out: &mut [i32]) {
    let specs = [(SVS, 3), (SVS, 2), (SVS, 1)];
    scan(b, out, SVS.period + 3, specs, |i, a| {
        let (h, l, c) = (b.h, b.l, b.c);
        yes(
            b.color(i - 3) == -1
                && b.color(i - 2) == -1
                && b.color(i - 1) == -1
                && b.color(i) == -1
                && b.lower(i - 3) < a[0].at(b, i - 3)
                && b.upper(i - 3) < a[0].at(b, i - 3)
                && b.lower(i - 2) < a[1].at(b, i - 2)
                && b.upper(i - 2) < a[1].at(b, i - 2)
                && b.body_gap_down(i - 1, i - 2)
                && b.upper(i - 1) > a[2].at(b, i - 1)
                && h[i - 1] > c[i - 2]
                && h[i] > h[i - 1]
                && l[i] < l[i - 1],
            100,
        )
    });
}

pub(crate) fn cdlcounterattack(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[EQ, BL]) + 1;
    scan(b, out, lookback, [(EQ, 1), (BL, 1), (BL, 0)], |i, a| {
        let c = b.c;
        let eq = a[0].at(b, i - 1);
        yes(
            b.color(i - 1) == -b.color(i)
                && b.body(i - 1) > a[1].at(b, i - 1)
                && b.body(i) > a[2].at(b, i)
                && c[i] <= c[i - 1] + eq
                && c[i] >= c[i - 1] - eq,
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdldarkcloudcover(b: &Bars, pen: f64, out: &mut [i32]) {
    scan(b, out, BL.period + 1, [(BL, 1)], |i, a| {
        let (o, h, c) = (b.o, b.h, b.c);
        yes(
            b.color(i - 1) == 1
                && b.body(i - 1) > a[0].at(b, i - 1)
                && b.color(i) == -1
                && o[i] > h[i - 1]
                && c[i] > o[i - 1]
                && c[i] < c[i - 1] - b.body(i - 1) * pen,
            -100,
        )
    });
}

pub(crate) fn cdldoji(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, DOJI.period, [(DOJI, 0)], |i, a| {
        yes(b.body(i) <= a[0].at(b, i), 100)
    });
}

pub(crate) fn cdldojistar(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, BL]) + 1;
    scan(b, out, lookback, [(BL, 1), (DOJI, 0)], |i, a| {
        yes(
            b.body(i - 1) > a[0].at(b, i - 1)
                && b.body(i) <= a[1].at(b, i)
                && ((b.color(i - 1) == 1 && b.body_gap_up(i, i - 1))
                    || (b.color(i - 1) == -1 && b.body_gap_down(i, i - 1))),
            -b.color(i - 1) * 100,
        )
    });
}

pub(crate) fn cdldragonflydoji(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, SVS]);
    scan(b, out, lookback, [(DOJI, 0), (SVS, 0)], |i, a| {
        yes(
            b.body(i) <= a[0].at(b, i) && b.upper(i) < a[1].at(b, i) && b.lower(i) > a[1].at(b, i),
            100,
        )
    });
}

pub(crate) fn cdlengulfing(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, 2, [], |i, _| {
        let (o, c) = (b.o, b.c);
        let engulfs = (b.color(i) == 1
            && b.color(i - 1) == -1
            && ((c[i] >= o[i - 1] && o[i] < c[i - 1]) || (c[i] > o[i - 1] && o[i] <= c[i - 1])))
            || (b.color(i) == -1
                && b.color(i - 1) == 1
                && ((o[i] >= c[i - 1] && c[i] < o[i - 1])
                    || (o[i] > c[i - 1] && c[i] <= o[i - 1])));
        if !engulfs {
            0
        } else if o[i] != c[i - 1] && c[i] != o[i - 1] {
            b.color(i) * 100
        } else {
            // One end of the bodies matches: TA-Lib grades it as a weaker engulfing.
            b.color(i) * 80
        }
    });
}

fn evening_doji_like(
    b: &Bars,
    pen: f64,
    out: &mut [i32],
    star: crate::settings::Setting,
    bullish: bool,
) {
    let lookback = max_period(&[star, BL, BS]) + 2;
    // The star (candle 2) and the third candle each get their own running sum,
    // even when both are judged with BodyShort: TA-Lib keeps two sums there.
    scan(b, out, lookback, [(BL, 2), (star, 1), (BS, 0)], |i, a| {
        let c = b.c;
        let shape = b.body(i - 2) > a[0].at(b, i - 2)
            && b.body(i - 1) <= a[1].at(b, i - 1)
            && b.body(i) > a[2].at(b, i);
        if bullish {
            yes(
                b.color(i - 2) == -1
                    && b.color(i) == 1
                    && b.body_gap_down(i - 1, i - 2)
                    && c[i] > c[i - 2] + b.body(i - 2) * pen
                    && shape,
                100,
            )
        } else {
            yes(
                b.color(i - 2) == 1
                    && b.color(i) == -1
                    && b.body_gap_up(i - 1, i - 2)
                    && c[i] < c[i - 2] - b.body(i - 2) * pen
                    && shape,
                -100,
            )
        }
    });
}

pub(crate) fn cdleveningdojistar(b: &Bars, pen: f64, out: &mut [i32]) {
    evening_doji_like(b, pen, out, DOJI, false);
}

pub(crate) fn cdleveningstar(b: &Bars, pen: f64, out: &mut [i32]) {
    evening_doji_like(b, pen, out, BS, false);
}

pub(crate) fn cdlgapsidesidewhite(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[NEAR, EQ]) + 2;
    scan(b, out, lookback, [(NEAR, 1), (EQ, 1)], |i, a| {
        let o = b.o;
        let near = a[0].at(b, i - 1);
        let eq = a[1].at(b, i - 1);
        yes(
            ((b.body_gap_up(i - 1, i - 2) && b.body_gap_up(i, i - 2))
                || (b.body_gap_down(i - 1, i - 2) && b.body_gap_down(i, i - 2)))
                && b.color(i - 1) == 1
                && b.color(i) == 1
                && b.body(i) >= b.body(i - 1) - near
                && b.body(i) <= b.body(i - 1) + near
                && o[i] >= o[i - 1] - eq
                && o[i] <= o[i - 1] + eq,
            if b.body_gap_up(i - 1, i - 2) {
                100
            } else {
                -100
            },
        )
    });
}

pub(crate) fn cdlgravestonedoji(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, SVS]);
    scan(b, out, lookback, [(DOJI, 0), (SVS, 0)], |i, a| {
        yes(
            b.body(i) <= a[0].at(b, i) && b.lower(i) < a[1].at(b, i) && b.upper(i) > a[1].at(b, i),
            100,
        )
    });
}

pub(crate) fn cdlhammer(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SL, SVS, NEAR]) + 1;
    let specs = [(BS, 0), (SL, 0), (SVS, 0), (NEAR, 1)];
    scan(b, out, lookback, specs, |i, a| {
        yes(
            b.body(i) < a[0].at(b, i)
                && b.lower(i) > a[1].at(b, i)
                && b.upper(i) < a[2].at(b, i)
                && b.c[i].min(b.o[i]) <= b.l[i - 1] + a[3].at(b, i - 1),
            100,
        )
    });
}

pub(crate) fn cdlhangingman(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SL, SVS, NEAR]) + 1;
    let specs = [(BS, 0), (SL, 0), (SVS, 0), (NEAR, 1)];
    scan(b, out, lookback, specs, |i, a| {
        yes(
            b.body(i) < a[0].at(b, i)
                && b.lower(i) > a[1].at(b, i)
                && b.upper(i) < a[2].at(b, i)
                && cmin(b.c[i], b.o[i]) >= b.h[i - 1] - a[3].at(b, i - 1),
            -100,
        )
    });
}

fn harami_like(b: &Bars, out: &mut [i32], second: crate::settings::Setting) {
    let lookback = max_period(&[second, BL]) + 1;
    scan(b, out, lookback, [(BL, 1), (second, 0)], |i, a| {
        let (o, c) = (b.o, b.c);
        if !(b.body(i - 1) > a[0].at(b, i - 1) && b.body(i) <= a[1].at(b, i)) {
            return 0;
        }
        if cmax(c[i], o[i]) < cmax(c[i - 1], o[i - 1])
            && cmin(c[i], o[i]) > cmin(c[i - 1], o[i - 1])
        {
            -b.color(i - 1) * 100
        } else if cmax(c[i], o[i]) <= cmax(c[i - 1], o[i - 1])
            && cmin(c[i], o[i]) >= cmin(c[i - 1], o[i - 1])
        {
            // One end of the small body touches the big one: graded weaker.
            -b.color(i - 1) * 80
        } else {
            0
        }
    });
}

pub(crate) fn cdlharami(b: &Bars, _: f64, out: &mut [i32]) {
    harami_like(b, out, BS);
}

pub(crate) fn cdlharamicross(b: &Bars, _: f64, out: &mut [i32]) {
    harami_like(b, out, DOJI);
}

pub(crate) fn cdlhighwave(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SVL]);
    scan(b, out, lookback, [(BS, 0), (SVL, 0)], |i, a| {
        yes(
            b.body(i) < a[0].at(b, i) && b.upper(i) > a[1].at(b, i) && b.lower(i) > a[1].at(b, i),
            b.color(i) * 100,
        )
    });
}

/// Shared state machine of the two hikkake patterns: a setup bar emits ±100
/// and opens a three-bar window in which a close beyond the inside bar's
/// range confirms it (±200). TA-Lib replays the three bars before the first
/// output so that a setup just before it can still be confirmed.
struct Hikkake {
    countdown: i32,
    result: i32,
    high: f64,
    low: f64,
}

impl Hikkake {
    fn new() -> Self {
        Hikkake {
            countdown: 0,
            result: 0,
            high: 0.0,
            low: 0.0,
        }
    }

    fn step(&mut self, b: &Bars, i: usize, setup: bool) -> i32 {
        let (h, l, c) = (b.h, b.l, b.c);
        let value = if setup {
            self.result = 100 * if h[i] < h[i - 1] { 1 } else { -1 };
            self.high = h[i - 1];
            self.low = l[i - 1];
            self.countdown = 4;
            self.result
        } else if self.countdown > 0
            && ((self.result > 0 && c[i] > self.high) || (self.result < 0 && c[i] < self.low))
        {
            self.countdown = 0;
            self.result + 100 * if self.result > 0 { 1 } else { -1 }
        } else {
            0
        };
        if self.countdown > 0 {
            self.countdown -= 1;
        }
        value
    }
}

pub(crate) fn cdlhikkake(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = 5;
    if b.len() <= lookback {
        return;
    }
    let (h, l) = (b.h, b.l);
    let mut state = Hikkake::new();
    for i in lookback - 3..b.len() {
        let setup = h[i - 1] < h[i - 2]
            && l[i - 1] > l[i - 2]
            && ((h[i] < h[i - 1] && l[i] < l[i - 1]) || (h[i] > h[i - 1] && l[i] > l[i - 1]));
        let value = state.step(b, i, setup);
        if i >= lookback {
            out[i] = value;
        }
    }
}

pub(crate) fn cdlhikkakemod(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = NEAR.period.max(1) + 5;
    if b.len() <= lookback {
        return;
    }
    let (h, l, c) = (b.h, b.l, b.c);
    let first = lookback - 3;
    let mut near = Avg::new(b, NEAR, 2, first);
    let mut state = Hikkake::new();
    for i in first..b.len() {
        let n = near.at(b, i - 2);
        let setup = h[i - 2] < h[i - 3]
            && l[i - 2] > l[i - 3]
            && h[i - 1] < h[i - 2]
            && l[i - 1] > l[i - 2]
            && ((h[i] < h[i - 1] && l[i] < l[i - 1] && c[i - 2] <= l[i - 2] + n)
                || (h[i] > h[i - 1] && l[i] > l[i - 1] && c[i - 2] >= h[i - 2] - n));
        let value = state.step(b, i, setup);
        if i >= lookback {
            out[i] = value;
        }
        near.roll(b, i);
    }
}

pub(crate) fn cdlhomingpigeon(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, BL]) + 1;
    scan(b, out, lookback, [(BL, 1), (BS, 0)], |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 1) == -1
                && b.color(i) == -1
                && b.body(i - 1) > a[0].at(b, i - 1)
                && b.body(i) <= a[1].at(b, i)
                && o[i] < o[i - 1]
                && c[i] > c[i - 1],
            100,
        )
    });
}

pub(crate) fn cdlidentical3crows(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[SVS, EQ]) + 2;
    let specs = [(SVS, 2), (SVS, 1), (SVS, 0), (EQ, 2), (EQ, 1)];
    scan(b, out, lookback, specs, |i, a| {
        let (o, c) = (b.o, b.c);
        let eq2 = a[3].at(b, i - 2);
        let eq1 = a[4].at(b, i - 1);
        yes(
            b.color(i - 2) == -1
                && b.lower(i - 2) < a[0].at(b, i - 2)
                && b.color(i - 1) == -1
                && b.lower(i - 1) < a[1].at(b, i - 1)
                && b.color(i) == -1
                && b.lower(i) < a[2].at(b, i)
                && c[i - 2] > c[i - 1]
                && c[i - 1] > c[i]
                && o[i - 1] <= c[i - 2] + eq2
                && o[i - 1] >= c[i - 2] - eq2
                && o[i] <= c[i - 1] + eq1
                && o[i] >= c[i - 1] - eq1,
            -100,
        )
    });
}

pub(crate) fn cdlinneck(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[EQ, BL]) + 1;
    scan(b, out, lookback, [(EQ, 1), (BL, 1)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        yes(
            b.color(i - 1) == -1
                && b.body(i - 1) > a[1].at(b, i - 1)
                && b.color(i) == 1
                && o[i] < l[i - 1]
                && c[i] <= c[i - 1] + a[0].at(b, i - 1)
                && c[i] >= c[i - 1],
            -100,
        )
    });
}

pub(crate) fn cdlinvertedhammer(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SL, SVS]) + 1;
    scan(b, out, lookback, [(BS, 0), (SL, 0), (SVS, 0)], |i, a| {
        yes(
            b.body_gap_down(i, i - 1)
                && b.body(i) < a[0].at(b, i)
                && b.upper(i) > a[1].at(b, i)
                && b.lower(i) < a[2].at(b, i),
            100,
        )
    });
}

fn kicking_like(b: &Bars, out: &mut [i32], by_length: bool) {
    let lookback = max_period(&[SVS, BL]) + 1;
    let specs = [(SVS, 1), (SVS, 0), (BL, 1), (BL, 0)];
    scan(b, out, lookback, specs, |i, a| {
        let found = b.color(i - 1) == -b.color(i)
            && b.body(i - 1) > a[2].at(b, i - 1)
            && b.upper(i - 1) < a[0].at(b, i - 1)
            && b.lower(i - 1) < a[0].at(b, i - 1)
            && b.body(i) > a[3].at(b, i)
            && b.upper(i) < a[1].at(b, i)
            && b.lower(i) < a[1].at(b, i)
            && ((b.color(i - 1) == -1 && b.gap_up(i, i - 1))
                || (b.color(i - 1) == 1 && b.gap_down(i, i - 1)));
        // By length: the longer marubozu decides the sign (TA-Lib's `>` picks
        // the first candle on a tie).
        let decider = if !by_length || b.body(i) > b.body(i - 1) {
            i
        } else {
            i - 1
        };
        yes(found, b.color(decider) * 100)
    });
}

pub(crate) fn cdlkicking(b: &Bars, _: f64, out: &mut [i32]) {
    kicking_like(b, out, false);
}

pub(crate) fn cdlkickingbylength(b: &Bars, _: f64, out: &mut [i32]) {
    kicking_like(b, out, true);
}

pub(crate) fn cdlladderbottom(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, SVS.period + 4, [(SVS, 1)], |i, a| {
        let (o, h, c) = (b.o, b.h, b.c);
        yes(
            b.color(i - 4) == -1
                && b.color(i - 3) == -1
                && b.color(i - 2) == -1
                && o[i - 4] > o[i - 3]
                && o[i - 3] > o[i - 2]
                && c[i - 4] > c[i - 3]
                && c[i - 3] > c[i - 2]
                && b.color(i - 1) == -1
                && b.upper(i - 1) > a[0].at(b, i - 1)
                && b.color(i) == 1
                && o[i] > o[i - 1]
                && c[i] > h[i - 1],
            100,
        )
    });
}

pub(crate) fn cdllongleggeddoji(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, SL]);
    scan(b, out, lookback, [(DOJI, 0), (SL, 0)], |i, a| {
        yes(
            b.body(i) <= a[0].at(b, i)
                && (b.lower(i) > a[1].at(b, i) || b.upper(i) > a[1].at(b, i)),
            100,
        )
    });
}

pub(crate) fn cdllongline(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, SS]);
    scan(b, out, lookback, [(BL, 0), (SS, 0)], |i, a| {
        yes(
            b.body(i) > a[0].at(b, i) && b.upper(i) < a[1].at(b, i) && b.lower(i) < a[1].at(b, i),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlmarubozu(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, SVS]);
    scan(b, out, lookback, [(BL, 0), (SVS, 0)], |i, a| {
        yes(
            b.body(i) > a[0].at(b, i) && b.upper(i) < a[1].at(b, i) && b.lower(i) < a[1].at(b, i),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlmatchinglow(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, EQ.period + 1, [(EQ, 1)], |i, a| {
        let c = b.c;
        let eq = a[0].at(b, i - 1);
        yes(
            b.color(i - 1) == -1
                && b.color(i) == -1
                && c[i] <= c[i - 1] + eq
                && c[i] >= c[i - 1] - eq,
            100,
        )
    });
}

pub(crate) fn cdlmathold(b: &Bars, pen: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, BL]) + 4;
    let specs = [(BL, 4), (BS, 3), (BS, 2), (BS, 1)];
    scan(b, out, lookback, specs, |i, a| {
        let (o, h, c) = (b.o, b.h, b.c);
        yes(
            b.color(i - 4) == 1
                && b.color(i - 3) == -1
                && b.color(i) == 1
                && b.body_gap_up(i - 3, i - 4)
                && cmin(o[i - 2], c[i - 2]) < c[i - 4]
                && cmin(o[i - 1], c[i - 1]) < c[i - 4]
                && cmin(o[i - 2], c[i - 2]) > c[i - 4] - b.body(i - 4) * pen
                && cmin(o[i - 1], c[i - 1]) > c[i - 4] - b.body(i - 4) * pen
                && cmax(c[i - 2], o[i - 2]) < o[i - 3]
                && cmax(c[i - 1], o[i - 1]) < cmax(c[i - 2], o[i - 2])
                && o[i] > c[i - 1]
                && c[i] > cmax(cmax(h[i - 3], h[i - 2]), h[i - 1])
                && b.body(i - 4) > a[0].at(b, i - 4)
                && b.body(i - 3) < a[1].at(b, i - 3)
                && b.body(i - 2) < a[2].at(b, i - 2)
                && b.body(i - 1) < a[3].at(b, i - 1),
            100,
        )
    });
}

pub(crate) fn cdlmorningdojistar(b: &Bars, pen: f64, out: &mut [i32]) {
    evening_doji_like(b, pen, out, DOJI, true);
}

pub(crate) fn cdlmorningstar(b: &Bars, pen: f64, out: &mut [i32]) {
    evening_doji_like(b, pen, out, BS, true);
}

pub(crate) fn cdlonneck(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[EQ, BL]) + 1;
    scan(b, out, lookback, [(EQ, 1), (BL, 1)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        let eq = a[0].at(b, i - 1);
        yes(
            b.color(i - 1) == -1
                && b.body(i - 1) > a[1].at(b, i - 1)
                && b.color(i) == 1
                && o[i] < l[i - 1]
                && c[i] <= l[i - 1] + eq
                && c[i] >= l[i - 1] - eq,
            -100,
        )
    });
}

pub(crate) fn cdlpiercing(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, BL.period + 1, [(BL, 1), (BL, 0)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        yes(
            b.color(i - 1) == -1
                && b.body(i - 1) > a[0].at(b, i - 1)
                && b.color(i) == 1
                && b.body(i) > a[1].at(b, i)
                && o[i] < l[i - 1]
                && c[i] < o[i - 1]
                && c[i] > c[i - 1] + b.body(i - 1) * 0.5,
            100,
        )
    });
}

pub(crate) fn cdlrickshawman(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, SL, NEAR]);
    scan(b, out, lookback, [(DOJI, 0), (SL, 0), (NEAR, 0)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        let near = a[2].at(b, i);
        yes(
            b.body(i) <= a[0].at(b, i)
                && b.lower(i) > a[1].at(b, i)
                && b.upper(i) > a[1].at(b, i)
                && cmin(o[i], c[i]) <= l[i] + b.hl(i) / 2.0 + near
                && cmax(o[i], c[i]) >= l[i] + b.hl(i) / 2.0 - near,
            100,
        )
    });
}

pub(crate) fn cdlrisefall3methods(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, BL]) + 4;
    let specs = [(BL, 4), (BS, 3), (BS, 2), (BS, 1), (BL, 0)];
    scan(b, out, lookback, specs, |i, a| {
        let (o, h, l, c) = (b.o, b.h, b.l, b.c);
        // Multiplying by the first candle's colour (±1) turns "falling" into
        // "rising" for the bearish variant, exactly as TA-Lib writes it.
        let k = f64::from(b.color(i - 4));
        yes(
            b.color(i - 4) == -b.color(i - 3)
                && b.color(i - 3) == b.color(i - 2)
                && b.color(i - 2) == b.color(i - 1)
                && b.color(i - 1) == -b.color(i)
                && cmin(o[i - 3], c[i - 3]) < h[i - 4]
                && cmax(o[i - 3], c[i - 3]) > l[i - 4]
                && cmin(o[i - 2], c[i - 2]) < h[i - 4]
                && cmax(o[i - 2], c[i - 2]) > l[i - 4]
                && cmin(o[i - 1], c[i - 1]) < h[i - 4]
                && cmax(o[i - 1], c[i - 1]) > l[i - 4]
                && c[i - 2] * k < c[i - 3] * k
                && c[i - 1] * k < c[i - 2] * k
                && o[i] * k > c[i - 1] * k
                && c[i] * k > c[i - 4] * k
                && b.body(i - 4) > a[0].at(b, i - 4)
                && b.body(i - 3) < a[1].at(b, i - 3)
                && b.body(i - 2) < a[2].at(b, i - 2)
                && b.body(i - 1) < a[3].at(b, i - 1)
                && b.body(i) > a[4].at(b, i),
            100 * b.color(i - 4),
        )
    });
}

pub(crate) fn cdlseparatinglines(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[SVS, BL, EQ]) + 1;
    scan(b, out, lookback, [(SVS, 0), (BL, 0), (EQ, 1)], |i, a| {
        let o = b.o;
        let eq = a[2].at(b, i - 1);
        yes(
            b.color(i - 1) == -b.color(i)
                && o[i] <= o[i - 1] + eq
                && o[i] >= o[i - 1] - eq
                && b.body(i) > a[1].at(b, i)
                && ((b.color(i) == 1 && b.lower(i) < a[0].at(b, i))
                    || (b.color(i) == -1 && b.upper(i) < a[0].at(b, i))),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlshootingstar(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SL, SVS]) + 1;
    scan(b, out, lookback, [(BS, 0), (SL, 0), (SVS, 0)], |i, a| {
        yes(
            b.body_gap_up(i, i - 1)
                && b.body(i) < a[0].at(b, i)
                && b.upper(i) > a[1].at(b, i)
                && b.lower(i) < a[2].at(b, i),
            -100,
        )
    });
}

pub(crate) fn cdlshortline(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, SS]);
    scan(b, out, lookback, [(BS, 0), (SS, 0)], |i, a| {
        yes(
            b.body(i) < a[0].at(b, i) && b.upper(i) < a[1].at(b, i) && b.lower(i) < a[1].at(b, i),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlspinningtop(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, BS.period, [(BS, 0)], |i, a| {
        yes(
            b.upper(i) > b.body(i) && b.lower(i) > b.body(i) && b.body(i) < a[0].at(b, i),
            b.color(i) * 100,
        )
    });
}

pub(crate) fn cdlstalledpattern(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, BS, SVS, NEAR]) + 2;
    let specs = [(BL, 2), (BL, 1), (BS, 0), (SVS, 1), (NEAR, 2), (NEAR, 1)];
    scan(b, out, lookback, specs, |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 2) == 1
                && b.color(i - 1) == 1
                && b.color(i) == 1
                && c[i] > c[i - 1]
                && c[i - 1] > c[i - 2]
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.body(i - 1) > a[1].at(b, i - 1)
                && b.upper(i - 1) < a[3].at(b, i - 1)
                && o[i - 1] > o[i - 2]
                && o[i - 1] <= c[i - 2] + a[4].at(b, i - 2)
                && b.body(i) < a[2].at(b, i)
                && o[i] >= c[i - 1] - b.body(i) - a[5].at(b, i - 1),
            -100,
        )
    });
}

pub(crate) fn cdlsticksandwich(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, EQ.period + 2, [(EQ, 2)], |i, a| {
        let (l, c) = (b.l, b.c);
        let eq = a[0].at(b, i - 2);
        yes(
            b.color(i - 2) == -1
                && b.color(i - 1) == 1
                && b.color(i) == -1
                && l[i - 1] > c[i - 2]
                && c[i] <= c[i - 2] + eq
                && c[i] >= c[i - 2] - eq,
            100,
        )
    });
}

pub(crate) fn cdltakuri(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[DOJI, SVS, SVL]);
    scan(b, out, lookback, [(DOJI, 0), (SVS, 0), (SVL, 0)], |i, a| {
        yes(
            b.body(i) <= a[0].at(b, i) && b.upper(i) < a[1].at(b, i) && b.lower(i) > a[2].at(b, i),
            100,
        )
    });
}

pub(crate) fn cdltasukigap(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, NEAR.period + 2, [(NEAR, 1)], |i, a| {
        let (o, c) = (b.o, b.c);
        let near = a[0].at(b, i - 1);
        yes(
            (b.body_gap_up(i - 1, i - 2)
                && b.color(i - 1) == 1
                && b.color(i) == -1
                && o[i] < c[i - 1]
                && o[i] > o[i - 1]
                && c[i] < o[i - 1]
                && c[i] > cmax(c[i - 2], o[i - 2])
                && (b.body(i - 1) - b.body(i)).abs() < near)
                || (b.body_gap_down(i - 1, i - 2)
                    && b.color(i - 1) == -1
                    && b.color(i) == 1
                    && o[i] < o[i - 1]
                    && o[i] > c[i - 1]
                    && c[i] > o[i - 1]
                    && c[i] < cmin(c[i - 2], o[i - 2])
                    && (b.body(i - 1) - b.body(i)).abs() < near),
            b.color(i - 1) * 100,
        )
    });
}

pub(crate) fn cdlthrusting(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[EQ, BL]) + 1;
    scan(b, out, lookback, [(EQ, 1), (BL, 1)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        yes(
            b.color(i - 1) == -1
                && b.body(i - 1) > a[1].at(b, i - 1)
                && b.color(i) == 1
                && o[i] < l[i - 1]
                && c[i] > c[i - 1] + a[0].at(b, i - 1)
                && c[i] <= c[i - 1] + b.body(i - 1) * 0.5,
            -100,
        )
    });
}

pub(crate) fn cdltristar(b: &Bars, _: f64, out: &mut [i32]) {
    // TA-Lib judges all three dojis against the average before the first one.
    scan(b, out, DOJI.period + 2, [(DOJI, 2)], |i, a| {
        let (o, c) = (b.o, b.c);
        let doji = a[0].at(b, i - 2);
        if !(b.body(i - 2) <= doji && b.body(i - 1) <= doji && b.body(i) <= doji) {
            return 0;
        }
        let mut value = 0;
        if b.body_gap_up(i - 1, i - 2) && cmax(o[i], c[i]) < cmax(o[i - 1], c[i - 1]) {
            value = -100;
        }
        if b.body_gap_down(i - 1, i - 2) && cmin(o[i], c[i]) > cmin(o[i - 1], c[i - 1]) {
            value = 100;
        }
        value
    });
}

pub(crate) fn cdlunique3river(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BL, BS]) + 2;
    scan(b, out, lookback, [(BL, 2), (BS, 0)], |i, a| {
        let (o, l, c) = (b.o, b.l, b.c);
        yes(
            b.color(i - 2) == -1
                && b.color(i - 1) == -1
                && b.color(i) == 1
                && c[i - 1] > c[i - 2]
                && o[i - 1] <= o[i - 2]
                && l[i - 1] < l[i - 2]
                && o[i] > l[i - 1]
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.body(i) < a[1].at(b, i),
            100,
        )
    });
}

pub(crate) fn cdlupsidegap2crows(b: &Bars, _: f64, out: &mut [i32]) {
    let lookback = max_period(&[BS, BL]) + 2;
    scan(b, out, lookback, [(BL, 2), (BS, 1)], |i, a| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 2) == 1
                && b.body(i - 2) > a[0].at(b, i - 2)
                && b.color(i - 1) == -1
                && b.body(i - 1) <= a[1].at(b, i - 1)
                && b.body_gap_up(i - 1, i - 2)
                && b.color(i) == -1
                && o[i] > o[i - 1]
                && c[i] < c[i - 1]
                && c[i] > c[i - 2],
            -100,
        )
    });
}

pub(crate) fn cdlxsidegap3methods(b: &Bars, _: f64, out: &mut [i32]) {
    scan(b, out, 2, [], |i, _| {
        let (o, c) = (b.o, b.c);
        yes(
            b.color(i - 2) == b.color(i - 1)
                && b.color(i - 1) == -b.color(i)
                && o[i] < cmax(c[i - 1], o[i - 1])
                && o[i] > cmin(c[i - 1], o[i - 1])
                && c[i] < cmax(c[i - 2], o[i - 2])
                && c[i] > cmin(c[i - 2], o[i - 2])
                && ((b.color(i - 2) == 1 && b.body_gap_up(i - 1, i - 2))
                    || (b.color(i - 2) == -1 && b.body_gap_down(i - 1, i - 2))),
            b.color(i - 2) * 100,
        )
    });
}
