//! The indicators this crate ships, described the way TA-Lib's abstract API
//! describes them. A TA-Lib indicator is listed here only once its parity
//! test against recorded TA-Lib output passes; the few TA-Lib lacks
//! (`talib: false`) are checked against an independent implementation.

use serde::Serialize;

use crate::directional::{self, Direction};
use crate::moving_average::{self as ma, MaType};
use crate::overlap::{Acceleration, SarSettings};
use crate::statistics::{self, Regression};
use crate::{channels, hilbert, momentum, overlap, volatility, volume};

/// How a parameter's `f64` value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A whole number (periods).
    Integer,
    /// Any real number in range (multipliers, factors).
    Real,
    /// A TA-Lib `TA_MAType` number: 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA,
    /// 5 TRIMA, 6 KAMA, 7 MAMA, 8 T3.
    MaType,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamSpec {
    /// TA-Lib's parameter name, e.g. `timeperiod`.
    pub name: &'static str,
    pub kind: ParamKind,
    /// TA-Lib's default.
    pub default: f64,
    /// Smallest value TA-Lib accepts.
    pub min: f64,
    /// Largest value TA-Lib accepts.
    pub max: f64,
    pub description: &'static str,
}

/// Computes an indicator from one slice per entry of `inputs` (already
/// trimmed to start at the first all-number bar) and the parameters in
/// catalogue order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kernel {
    /// Returns one full-length series per output, NaN in the warm-up.
    Values(ValuesKernel),
    /// Appends every bar of every output straight onto `compute_series`'s
    /// final outputs (allocated for the whole input, already holding the
    /// skipped leading bars): no intermediate series and no copy, for the
    /// indicators called on long histories.
    Direct(DirectKernel),
}

pub(crate) type ValuesKernel = fn(&[&[f64]], &[f64]) -> Vec<Vec<f64>>;
pub(crate) type DirectKernel = fn(&[&[f64]], &[f64], &mut [Vec<f64>]);

#[derive(Debug, Clone, Copy, Serialize)]
pub struct IndicatorSpec {
    /// TA-Lib's function name in lower case, e.g. `macd`.
    pub name: &'static str,
    /// `overlap`, `momentum`, `volume`, `volatility` or `statistics`.
    pub group: &'static str,
    /// True when this is TA-Lib's function of the same name, reproduced bar
    /// for bar; false for indicators TA-Lib lacks, whose `description`
    /// states the convention used (there is no single standard for them).
    pub talib: bool,
    pub description: &'static str,
    /// The `Ohlcv` columns read, in TA-Lib's input order (`open`, `high`,
    /// `low`, `close`, `volume`).
    pub inputs: &'static [&'static str],
    pub params: &'static [ParamSpec],
    /// TA-Lib's output names; single-output functions use `real`.
    pub outputs: &'static [&'static str],
    #[serde(skip)]
    pub(crate) kernel: Kernel,
}

/// Every shipped indicator, in a stable order.
pub fn catalogue() -> &'static [IndicatorSpec] {
    CATALOGUE
}

/// The indicator called `name`, compared case-insensitively.
pub fn find(name: &str) -> Option<&'static IndicatorSpec> {
    CATALOGUE.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

pub(crate) fn indicator_names() -> String {
    CATALOGUE
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

const PERIOD_MAX: f64 = 100_000.0;
/// TA-Lib's bound for "any real" parameters such as deviation multipliers.
const REAL_BOUND: f64 = 3e37;

const fn period(default: f64, min: f64, description: &'static str) -> ParamSpec {
    named_period("timeperiod", default, min, description)
}

const fn named_period(
    name: &'static str,
    default: f64,
    min: f64,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Integer,
        default,
        min,
        max: PERIOD_MAX,
        description,
    }
}

const fn real(
    name: &'static str,
    default: f64,
    min: f64,
    max: f64,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Real,
        default,
        min,
        max,
        description,
    }
}

const fn ma_type(name: &'static str, default: f64, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::MaType,
        default,
        min: 0.0,
        max: 8.0,
        description,
    }
}

const MA_TYPE_HELP: &str = "Moving average type: 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 7 MAMA (ignores the period; fast limit 0.5, slow limit 0.05), 8 T3";

const CLOSE: &[&str] = &["close"];
const HL: &[&str] = &["high", "low"];
const HLC: &[&str] = &["high", "low", "close"];
const HLCV: &[&str] = &["high", "low", "close", "volume"];
const REAL: &[&str] = &["real"];

/// Parameters arrive validated, so these conversions cannot lose anything.
fn int(value: f64) -> usize {
    value as usize
}

static CATALOGUE: &[IndicatorSpec] = &[
    IndicatorSpec {
        name: "sma",
        group: "overlap",
        talib: true,
        description: "Simple moving average of the close.",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Number of bars averaged")],
        outputs: REAL,
        kernel: Kernel::Direct(|x, p, out| ma::sma_into(x[0], int(p[0]), &mut out[0])),
    },
    IndicatorSpec {
        name: "ema",
        group: "overlap",
        talib: true,
        description: "Exponential moving average of the close (k = 2 / (period + 1)), seeded with the SMA of the first period bars.",
        inputs: CLOSE,
        params: &[period(
            30.0,
            1.0,
            "Number of bars; sets the smoothing factor",
        )],
        outputs: REAL,
        kernel: Kernel::Direct(|x, p, out| ma::ema_into(x[0], int(p[0]), &mut out[0])),
    },
    IndicatorSpec {
        name: "rsi",
        group: "momentum",
        talib: true,
        description: "Relative strength index (Wilder), 0 to 100; above 70 is usually read as overbought, below 30 as oversold.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Direct(|x, p, out| momentum::rsi_into(x[0], int(p[0]), &mut out[0])),
    },
    IndicatorSpec {
        name: "macd",
        group: "momentum",
        talib: true,
        description: "Moving average convergence/divergence: fast EMA minus slow EMA, its EMA signal line, and their difference (histogram).",
        inputs: CLOSE,
        params: &[
            named_period("fastperiod", 12.0, 2.0, "Period of the fast EMA"),
            named_period("slowperiod", 26.0, 2.0, "Period of the slow EMA"),
            named_period("signalperiod", 9.0, 1.0, "Period of the signal-line EMA"),
        ],
        outputs: &["macd", "macdsignal", "macdhist"],
        kernel: Kernel::Direct(|x, p, out| {
            let [line, signal, hist] = out else { return };
            momentum::macd_into(x[0], int(p[0]), int(p[1]), int(p[2]), [line, signal, hist]);
        }),
    },
    IndicatorSpec {
        name: "bbands",
        group: "overlap",
        talib: true,
        description: "Bollinger bands: a moving average of the close with bands a number of (population) standard deviations above and below.",
        inputs: CLOSE,
        params: &[
            period(
                20.0,
                2.0,
                "Number of bars for the average and the deviation",
            ),
            real(
                "nbdevup",
                2.0,
                -REAL_BOUND,
                REAL_BOUND,
                "Standard deviations above the middle band",
            ),
            real(
                "nbdevdn",
                2.0,
                -REAL_BOUND,
                REAL_BOUND,
                "Standard deviations below the middle band",
            ),
            ma_type("matype", 0.0, MA_TYPE_HELP),
        ],
        outputs: &["upperband", "middleband", "lowerband"],
        kernel: Kernel::Direct(|x, p, out| {
            let [upper, middle, lower] = out else { return };
            let kind = MaType::from_param(p[3]);
            overlap::bbands(x[0], int(p[0]), p[1], p[2], kind, [upper, middle, lower]);
        }),
    },
    IndicatorSpec {
        name: "atr",
        group: "volatility",
        talib: true,
        description: "Average true range (Wilder): the first value is the mean true range over the period, then Wilder smoothing.",
        inputs: HLC,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Direct(|x, p, out| {
            volatility::atr_into(x[0], x[1], x[2], int(p[0]), &mut out[0]);
        }),
    },
    IndicatorSpec {
        name: "wma",
        group: "overlap",
        talib: true,
        description: "Weighted moving average of the close (linear weights, newest heaviest).",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Number of bars averaged")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::wma(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "stddev",
        group: "statistics",
        talib: true,
        description: "Rolling population standard deviation of the close, times nbdev.",
        inputs: CLOSE,
        params: &[
            period(5.0, 2.0, "Number of bars"),
            real(
                "nbdev",
                1.0,
                -REAL_BOUND,
                REAL_BOUND,
                "Multiplier applied to the deviation",
            ),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![statistics::stddev(x[0], int(p[0]), p[1])]),
    },
    IndicatorSpec {
        name: "var",
        group: "statistics",
        talib: true,
        description: "Rolling population variance of the close. TA-Lib accepts nbdev but does not apply it.",
        inputs: CLOSE,
        params: &[
            period(5.0, 1.0, "Number of bars"),
            real(
                "nbdev",
                1.0,
                -REAL_BOUND,
                REAL_BOUND,
                "Accepted for TA-Lib compatibility; TA-Lib ignores it",
            ),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![statistics::variance(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "trange",
        group: "volatility",
        talib: true,
        description: "True range: the largest of high - low, |high - previous close| and |low - previous close|.",
        inputs: HLC,
        params: &[],
        outputs: REAL,
        kernel: Kernel::Values(|x, _| vec![volatility::trange(x[0], x[1], x[2])]),
    },
    IndicatorSpec {
        name: "natr",
        group: "volatility",
        talib: true,
        description: "Normalized average true range: ATR as a percentage of the close.",
        inputs: HLC,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![volatility::natr(x[0], x[1], x[2], int(p[0]))]),
    },
    IndicatorSpec {
        name: "obv",
        group: "volume",
        talib: true,
        description: "On-balance volume: running total of volume, added on up closes and subtracted on down closes, starting at the first bar's volume.",
        inputs: &["close", "volume"],
        params: &[],
        outputs: REAL,
        kernel: Kernel::Values(|x, _| vec![volume::obv(x[0], x[1])]),
    },
    IndicatorSpec {
        name: "ad",
        group: "volume",
        talib: true,
        description: "Chaikin accumulation/distribution line: running total of close-location value times volume.",
        inputs: HLCV,
        params: &[],
        outputs: REAL,
        kernel: Kernel::Values(|x, _| vec![volume::ad(x[0], x[1], x[2], x[3])]),
    },
    IndicatorSpec {
        name: "adosc",
        group: "volume",
        talib: true,
        description: "Chaikin A/D oscillator: fast EMA minus slow EMA of the A/D line (both seeded with the first A/D value).",
        inputs: HLCV,
        params: &[
            named_period("fastperiod", 3.0, 2.0, "Period of the fast EMA"),
            named_period("slowperiod", 10.0, 2.0, "Period of the slow EMA"),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![volume::adosc(x[0], x[1], x[2], x[3], int(p[0]), int(p[1]))]
        }),
    },
    IndicatorSpec {
        name: "mom",
        group: "momentum",
        talib: true,
        description: "Momentum: close minus the close timeperiod bars ago.",
        inputs: CLOSE,
        params: &[period(10.0, 1.0, "Number of bars back")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::mom(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "roc",
        group: "momentum",
        talib: true,
        description: "Rate of change in percent: ((close / close n bars ago) - 1) * 100.",
        inputs: CLOSE,
        params: &[period(10.0, 1.0, "Number of bars back")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::roc(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "rocp",
        group: "momentum",
        talib: true,
        description: "Rate of change as a fraction: (close - close n bars ago) / close n bars ago.",
        inputs: CLOSE,
        params: &[period(10.0, 1.0, "Number of bars back")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::rocp(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "rocr",
        group: "momentum",
        talib: true,
        description: "Rate of change ratio: close / close n bars ago.",
        inputs: CLOSE,
        params: &[period(10.0, 1.0, "Number of bars back")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::rocr(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "willr",
        group: "momentum",
        talib: true,
        description: "Williams %R, 0 to -100: where the close sits between the period's highest high (0) and lowest low (-100).",
        inputs: HLC,
        params: &[period(14.0, 2.0, "Number of bars in the range")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::willr(x[0], x[1], x[2], int(p[0]))]),
    },
    IndicatorSpec {
        name: "cci",
        group: "momentum",
        talib: true,
        description: "Commodity channel index: typical price's distance from its SMA over 0.015 times the mean absolute deviation.",
        inputs: HLC,
        params: &[period(14.0, 2.0, "Number of bars")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::cci(x[0], x[1], x[2], int(p[0]))]),
    },
    IndicatorSpec {
        name: "stoch",
        group: "momentum",
        talib: true,
        description: "Slow stochastic: %K (close within the high-low range) smoothed into slow %K, smoothed again into slow %D; 0 to 100.",
        inputs: HLC,
        params: &[
            named_period(
                "fastk_period",
                5.0,
                1.0,
                "Bars in the high-low range for raw %K",
            ),
            named_period("slowk_period", 3.0, 1.0, "Smoothing of raw %K into slow %K"),
            ma_type("slowk_matype", 0.0, MA_TYPE_HELP),
            named_period(
                "slowd_period",
                3.0,
                1.0,
                "Smoothing of slow %K into slow %D",
            ),
            ma_type("slowd_matype", 0.0, MA_TYPE_HELP),
        ],
        outputs: &["slowk", "slowd"],
        kernel: Kernel::Direct(|x, p, out| {
            let [slowk, slowd] = out else { return };
            momentum::stoch_into(
                x[0],
                x[1],
                x[2],
                int(p[0]),
                int(p[1]),
                MaType::from_param(p[2]),
                int(p[3]),
                MaType::from_param(p[4]),
                [slowk, slowd],
            );
        }),
    },
    IndicatorSpec {
        name: "stochf",
        group: "momentum",
        talib: true,
        description: "Fast stochastic: raw %K and its moving average %D; 0 to 100.",
        inputs: HLC,
        params: &[
            named_period(
                "fastk_period",
                5.0,
                1.0,
                "Bars in the high-low range for %K",
            ),
            named_period("fastd_period", 3.0, 1.0, "Smoothing of %K into %D"),
            ma_type("fastd_matype", 0.0, MA_TYPE_HELP),
        ],
        outputs: &["fastk", "fastd"],
        kernel: Kernel::Values(|x, p| {
            momentum::stochf(
                x[0],
                x[1],
                x[2],
                int(p[0]),
                int(p[1]),
                MaType::from_param(p[2]),
            )
            .into()
        }),
    },
    IndicatorSpec {
        name: "adx",
        group: "momentum",
        talib: true,
        description: "Average directional movement index (Wilder): trend strength, 0 to 100, regardless of direction.",
        inputs: HLC,
        params: &[period(14.0, 2.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Direct(|x, p, out| {
            directional::adx_into(x[0], x[1], x[2], int(p[0]), &mut out[0]);
        }),
    },
    IndicatorSpec {
        name: "adxr",
        group: "momentum",
        talib: true,
        description: "ADX rating: mean of today's ADX and the ADX timeperiod - 1 bars ago.",
        inputs: HLC,
        params: &[period(14.0, 2.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![directional::adxr(x[0], x[1], x[2], int(p[0]))]),
    },
    IndicatorSpec {
        name: "dx",
        group: "momentum",
        talib: true,
        description: "Directional movement index: |+DI - -DI| / (+DI + -DI) * 100.",
        inputs: HLC,
        params: &[period(14.0, 2.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![directional::dx(x[0], x[1], x[2], int(p[0]))]),
    },
    IndicatorSpec {
        name: "plus_di",
        group: "momentum",
        talib: true,
        description: "Plus directional indicator (Wilder): smoothed +DM over smoothed true range, in percent.",
        inputs: HLC,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![directional::di(
                x[0],
                x[1],
                x[2],
                int(p[0]),
                Direction::Plus,
            )]
        }),
    },
    IndicatorSpec {
        name: "minus_di",
        group: "momentum",
        talib: true,
        description: "Minus directional indicator (Wilder): smoothed -DM over smoothed true range, in percent.",
        inputs: HLC,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![directional::di(
                x[0],
                x[1],
                x[2],
                int(p[0]),
                Direction::Minus,
            )]
        }),
    },
    IndicatorSpec {
        name: "plus_dm",
        group: "momentum",
        talib: true,
        description: "Plus directional movement (Wilder-smoothed up-moves of the high).",
        inputs: HL,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![directional::dm(x[0], x[1], int(p[0]), Direction::Plus)]
        }),
    },
    IndicatorSpec {
        name: "minus_dm",
        group: "momentum",
        talib: true,
        description: "Minus directional movement (Wilder-smoothed down-moves of the low).",
        inputs: HL,
        params: &[period(14.0, 1.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![directional::dm(x[0], x[1], int(p[0]), Direction::Minus)]
        }),
    },
    IndicatorSpec {
        name: "aroon",
        group: "momentum",
        talib: true,
        description: "Aroon down/up, 0 to 100: how recently the lowest low / highest high of the last timeperiod + 1 bars occurred.",
        inputs: HL,
        params: &[period(14.0, 2.0, "Number of bars looked back")],
        outputs: &["aroondown", "aroonup"],
        kernel: Kernel::Values(|x, p| momentum::aroon(x[0], x[1], int(p[0])).into()),
    },
    IndicatorSpec {
        name: "aroonosc",
        group: "momentum",
        talib: true,
        description: "Aroon oscillator: Aroon up minus Aroon down, -100 to 100.",
        inputs: HL,
        params: &[period(14.0, 2.0, "Number of bars looked back")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::aroonosc(x[0], x[1], int(p[0]))]),
    },
    IndicatorSpec {
        name: "mfi",
        group: "momentum",
        talib: true,
        description: "Money flow index: a volume-weighted RSI of the typical price, 0 to 100.",
        inputs: HLCV,
        params: &[period(14.0, 2.0, "Number of bars")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![volume::mfi(x[0], x[1], x[2], x[3], int(p[0]))]),
    },
    IndicatorSpec {
        name: "bop",
        group: "momentum",
        talib: true,
        description: "Balance of power: (close - open) / (high - low), -1 to 1.",
        inputs: &["open", "high", "low", "close"],
        params: &[],
        outputs: REAL,
        kernel: Kernel::Values(|x, _| vec![momentum::bop(x[0], x[1], x[2], x[3])]),
    },
    IndicatorSpec {
        name: "cmo",
        group: "momentum",
        talib: true,
        description: "Chande momentum oscillator, -100 to 100, with RSI's Wilder smoothing of gains and losses.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars smoothed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::cmo(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "apo",
        group: "momentum",
        talib: true,
        description: "Absolute price oscillator: fast MA minus slow MA of the close.",
        inputs: CLOSE,
        params: &[
            named_period("fastperiod", 12.0, 2.0, "Period of the fast MA"),
            named_period("slowperiod", 26.0, 2.0, "Period of the slow MA"),
            ma_type("matype", 1.0, MA_TYPE_HELP),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![momentum::apo(
                x[0],
                int(p[0]),
                int(p[1]),
                MaType::from_param(p[2]),
            )]
        }),
    },
    IndicatorSpec {
        name: "ppo",
        group: "momentum",
        talib: true,
        description: "Percentage price oscillator: (fast MA - slow MA) / slow MA * 100.",
        inputs: CLOSE,
        params: &[
            named_period("fastperiod", 12.0, 2.0, "Period of the fast MA"),
            named_period("slowperiod", 26.0, 2.0, "Period of the slow MA"),
            ma_type("matype", 1.0, MA_TYPE_HELP),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![momentum::ppo(
                x[0],
                int(p[0]),
                int(p[1]),
                MaType::from_param(p[2]),
            )]
        }),
    },
    IndicatorSpec {
        name: "trix",
        group: "momentum",
        talib: true,
        description: "TRIX: one-bar rate of change (percent) of a triple EMA of the close.",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Period of each EMA")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![momentum::trix(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "ultosc",
        group: "momentum",
        talib: true,
        description: "Ultimate oscillator: 4:2:1 weighted buying pressure over true range across three periods, 0 to 100.",
        inputs: HLC,
        params: &[
            named_period("timeperiod1", 7.0, 1.0, "First (usually shortest) period"),
            named_period("timeperiod2", 14.0, 1.0, "Second period"),
            named_period("timeperiod3", 28.0, 1.0, "Third (usually longest) period"),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![momentum::ultosc(
                x[0],
                x[1],
                x[2],
                [int(p[0]), int(p[1]), int(p[2])],
            )]
        }),
    },
    IndicatorSpec {
        name: "dema",
        group: "overlap",
        talib: true,
        description: "Double exponential moving average: 2 * EMA - EMA(EMA).",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Period of each EMA")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::dema(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "tema",
        group: "overlap",
        talib: true,
        description: "Triple exponential moving average: 3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA)).",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Period of each EMA")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::tema(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "trima",
        group: "overlap",
        talib: true,
        description: "Triangular moving average: an SMA of an SMA, weighting the middle of the window most.",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Number of bars averaged")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::trima(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "kama",
        group: "overlap",
        talib: true,
        description: "Kaufman adaptive moving average: smoothing follows the efficiency ratio (fast 2, slow 30).",
        inputs: CLOSE,
        params: &[period(30.0, 1.0, "Bars in the efficiency ratio")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::kama(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "t3",
        group: "overlap",
        talib: true,
        description: "Tillson T3: six chained EMAs combined by the volume factor.",
        inputs: CLOSE,
        params: &[
            period(5.0, 1.0, "Period of each EMA"),
            real(
                "vfactor",
                0.7,
                0.0,
                1.0,
                "Volume factor: 0 behaves like a triple EMA, 1 like DEMA applied thrice",
            ),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::t3(x[0], int(p[0]), p[1])]),
    },
    IndicatorSpec {
        name: "midpoint",
        group: "overlap",
        talib: true,
        description: "Midpoint: (highest close + lowest close) / 2 over the period.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![overlap::midpoint(x[0], int(p[0]))]),
    },
    IndicatorSpec {
        name: "midprice",
        group: "overlap",
        talib: true,
        description: "Midpoint price: (highest high + lowest low) / 2 over the period.",
        inputs: HL,
        params: &[period(14.0, 2.0, "Number of bars")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![overlap::midprice(x[0], x[1], int(p[0]))]),
    },
    IndicatorSpec {
        name: "linearreg",
        group: "statistics",
        talib: true,
        description: "Linear regression: the least-squares line's value at the latest bar.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars fitted")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![statistics::linear_regression(
                x[0],
                int(p[0]),
                Regression::Value,
            )]
        }),
    },
    IndicatorSpec {
        name: "linearreg_slope",
        group: "statistics",
        talib: true,
        description: "Slope of the least-squares line, in price per bar.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars fitted")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![statistics::linear_regression(
                x[0],
                int(p[0]),
                Regression::Slope,
            )]
        }),
    },
    IndicatorSpec {
        name: "linearreg_angle",
        group: "statistics",
        talib: true,
        description: "Slope of the least-squares line as an angle in degrees (atan of price per bar).",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars fitted")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![statistics::linear_regression(
                x[0],
                int(p[0]),
                Regression::Angle,
            )]
        }),
    },
    IndicatorSpec {
        name: "linearreg_intercept",
        group: "statistics",
        talib: true,
        description: "The least-squares line's value at the oldest bar of the window.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars fitted")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![statistics::linear_regression(
                x[0],
                int(p[0]),
                Regression::Intercept,
            )]
        }),
    },
    IndicatorSpec {
        name: "tsf",
        group: "statistics",
        talib: true,
        description: "Time series forecast: the least-squares line extended one bar past the latest.",
        inputs: CLOSE,
        params: &[period(14.0, 2.0, "Number of bars fitted")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            vec![statistics::linear_regression(
                x[0],
                int(p[0]),
                Regression::Forecast,
            )]
        }),
    },
    IndicatorSpec {
        name: "beta",
        group: "statistics",
        talib: true,
        description: "Beta of the low's one-bar returns on the high's (TA-Lib's abstract API feeds high as real0 and low as real1).",
        inputs: HL,
        params: &[period(5.0, 1.0, "Number of returns regressed")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![statistics::beta(x[0], x[1], int(p[0]))]),
    },
    IndicatorSpec {
        name: "correl",
        group: "statistics",
        talib: true,
        description: "Pearson correlation of high and low over the period (TA-Lib's abstract API feeds high and low), -1 to 1.",
        inputs: HL,
        params: &[period(30.0, 1.0, "Number of bars")],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![statistics::correl(x[0], x[1], int(p[0]))]),
    },
    IndicatorSpec {
        name: "sar",
        group: "overlap",
        talib: true,
        description: "Parabolic SAR (Wilder): a trailing stop that accelerates toward price while a trend lasts and flips when hit.",
        inputs: HL,
        params: &[
            real(
                "acceleration",
                0.02,
                0.0,
                REAL_BOUND,
                "Acceleration factor step (and starting value)",
            ),
            real("maximum", 0.2, 0.0, REAL_BOUND, "Acceleration factor cap"),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![overlap::sar(x[0], x[1], p[0], p[1])]),
    },
    IndicatorSpec {
        name: "mama",
        group: "overlap",
        talib: true,
        description: "MESA adaptive moving average (Ehlers): an EMA whose factor follows the Hilbert-transform phase rate, between slowlimit and fastlimit; fama follows mama at half the factor. Hilbert-transform warm-up of 32 bars (TA-Lib's default unstable period 0).",
        inputs: CLOSE,
        params: &[
            real(
                "fastlimit",
                0.5,
                0.01,
                0.99,
                "Largest smoothing factor (fastest adaptation)",
            ),
            real(
                "slowlimit",
                0.05,
                0.01,
                0.99,
                "Smallest smoothing factor (slowest adaptation)",
            ),
        ],
        outputs: &["mama", "fama"],
        kernel: Kernel::Values(|x, p| hilbert::mama(x[0], p[0], p[1], 0).into()),
    },
    IndicatorSpec {
        name: "ht_trendline",
        group: "overlap",
        talib: true,
        description: "Hilbert transform instantaneous trendline (Ehlers): the close averaged over the measured dominant-cycle period, then smoothed. 63-bar warm-up (TA-Lib's default unstable period 0).",
        inputs: CLOSE,
        params: &[],
        outputs: REAL,
        kernel: Kernel::Values(|x, _| vec![hilbert::ht_trendline(x[0])]),
    },
    IndicatorSpec {
        name: "ma",
        group: "overlap",
        talib: true,
        description: "Moving average of the close of any TA-Lib type (matype); period 1 returns the close unchanged.",
        inputs: CLOSE,
        params: &[
            period(30.0, 1.0, "Number of bars averaged (ignored by MAMA)"),
            ma_type("matype", 0.0, MA_TYPE_HELP),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![ma::ma(x[0], int(p[0]), MaType::from_param(p[1]))]),
    },
    IndicatorSpec {
        name: "macdext",
        group: "momentum",
        talib: true,
        description: "MACD with a chosen moving-average type for the fast, slow and signal lines.",
        inputs: CLOSE,
        params: &[
            named_period("fastperiod", 12.0, 2.0, "Period of the fast MA"),
            ma_type("fastmatype", 0.0, MA_TYPE_HELP),
            named_period("slowperiod", 26.0, 2.0, "Period of the slow MA"),
            ma_type("slowmatype", 0.0, MA_TYPE_HELP),
            named_period("signalperiod", 9.0, 1.0, "Period of the signal-line MA"),
            ma_type("signalmatype", 0.0, MA_TYPE_HELP),
        ],
        outputs: &["macd", "macdsignal", "macdhist"],
        kernel: Kernel::Values(|x, p| {
            let choice = |i: usize| (int(p[i]), MaType::from_param(p[i + 1]));
            momentum::macdext(x[0], choice(0), choice(2), choice(4)).into()
        }),
    },
    IndicatorSpec {
        name: "macdfix",
        group: "momentum",
        talib: true,
        description: "MACD 12/26 with fixed smoothing factors 0.15 and 0.075 (not 2 / (period + 1)) and an EMA signal line.",
        inputs: CLOSE,
        params: &[named_period(
            "signalperiod",
            9.0,
            1.0,
            "Period of the signal-line EMA",
        )],
        outputs: &["macd", "macdsignal", "macdhist"],
        kernel: Kernel::Values(|x, p| momentum::macdfix(x[0], int(p[0])).into()),
    },
    IndicatorSpec {
        name: "stochrsi",
        group: "momentum",
        talib: true,
        description: "Stochastic RSI: the fast stochastic (%K and its MA %D) applied to the RSI, 0 to 100.",
        inputs: CLOSE,
        params: &[
            period(14.0, 2.0, "Period of the RSI"),
            named_period("fastk_period", 5.0, 1.0, "Bars in the RSI's range for %K"),
            named_period("fastd_period", 3.0, 1.0, "Smoothing of %K into %D"),
            ma_type("fastd_matype", 0.0, MA_TYPE_HELP),
        ],
        outputs: &["fastk", "fastd"],
        kernel: Kernel::Values(|x, p| {
            momentum::stochrsi(
                x[0],
                int(p[0]),
                int(p[1]),
                int(p[2]),
                MaType::from_param(p[3]),
            )
            .into()
        }),
    },
    IndicatorSpec {
        name: "sarext",
        group: "overlap",
        talib: true,
        description: "Parabolic SAR, extended: separate long/short acceleration, an optional forced start and reversal offset; the value is negative while short.",
        inputs: HL,
        params: &[
            real(
                "startvalue",
                0.0,
                -REAL_BOUND,
                REAL_BOUND,
                "0: automatic start as SAR; > 0: start long at this SAR; < 0: start short at |value|",
            ),
            real(
                "offsetonreverse",
                0.0,
                0.0,
                REAL_BOUND,
                "Fraction by which the SAR is moved away from price on a reversal",
            ),
            real(
                "accelerationinitlong",
                0.02,
                0.0,
                REAL_BOUND,
                "Acceleration factor at the start of a long trend",
            ),
            real(
                "accelerationlong",
                0.02,
                0.0,
                REAL_BOUND,
                "Acceleration factor step in a long trend",
            ),
            real(
                "accelerationmaxlong",
                0.2,
                0.0,
                REAL_BOUND,
                "Acceleration factor cap in a long trend",
            ),
            real(
                "accelerationinitshort",
                0.02,
                0.0,
                REAL_BOUND,
                "Acceleration factor at the start of a short trend",
            ),
            real(
                "accelerationshort",
                0.02,
                0.0,
                REAL_BOUND,
                "Acceleration factor step in a short trend",
            ),
            real(
                "accelerationmaxshort",
                0.2,
                0.0,
                REAL_BOUND,
                "Acceleration factor cap in a short trend",
            ),
        ],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| {
            let settings = SarSettings {
                start_value: p[0],
                offset_on_reverse: p[1],
                long: Acceleration {
                    initial: p[2],
                    step: p[3],
                    maximum: p[4],
                },
                short: Acceleration {
                    initial: p[5],
                    step: p[6],
                    maximum: p[7],
                },
            };
            vec![overlap::sarext(x[0], x[1], &settings)]
        }),
    },
    IndicatorSpec {
        name: "vwap",
        group: "volume",
        talib: false,
        description: "Volume-weighted average price of the typical price (high + low + close) / 3. Not in TA-Lib; convention: timeperiod 0 is a session-less cumulative VWAP from the first bar of the series (never reset; pass one session's bars for a session VWAP); timeperiod n is a rolling VWAP over the last n bars including the current one. No value while the summed volume is zero.",
        inputs: HLCV,
        params: &[ParamSpec {
            name: "timeperiod",
            kind: ParamKind::Integer,
            default: 0.0,
            min: 0.0,
            max: PERIOD_MAX,
            description: "0 for cumulative VWAP over the whole series, else the rolling window in bars",
        }],
        outputs: REAL,
        kernel: Kernel::Values(|x, p| vec![volume::vwap(x[0], x[1], x[2], x[3], int(p[0]))]),
    },
    IndicatorSpec {
        name: "ichimoku",
        group: "overlap",
        talib: false,
        description: "Ichimoku cloud. Not in TA-Lib; convention: every line is aligned to the bar it is computed on, NOT displaced. tenkan/kijun: (highest high + lowest low) / 2 over their periods; senkou_a = (tenkan + kijun) / 2 and senkou_b = the same midpoint over senkou_b_period, both on the bar they are computed from (charts draw them kijun_period bars ahead); chikou = the close of the bar (charts draw it kijun_period bars back). Each line has its own warm-up (period - 1 bars).",
        inputs: HLC,
        params: &[
            named_period(
                "tenkan_period",
                9.0,
                1.0,
                "Bars in the conversion line (tenkan-sen)",
            ),
            named_period(
                "kijun_period",
                26.0,
                1.0,
                "Bars in the base line (kijun-sen); also the usual displacement",
            ),
            named_period(
                "senkou_b_period",
                52.0,
                1.0,
                "Bars in leading span B (senkou span B)",
            ),
        ],
        outputs: &["tenkan", "kijun", "senkou_a", "senkou_b", "chikou"],
        kernel: Kernel::Values(|x, p| {
            channels::ichimoku(x[0], x[1], x[2], int(p[0]), int(p[1]), int(p[2])).into()
        }),
    },
    IndicatorSpec {
        name: "keltner",
        group: "volatility",
        talib: false,
        description: "Keltner channel. Not in TA-Lib; convention: middleband = EMA of the close over timeperiod (TA-Lib's EMA, seeded with an SMA), bands = middle ± multiplier × ATR over atr_period (TA-Lib's Wilder ATR). All three bands start on the first bar where both exist.",
        inputs: HLC,
        params: &[
            period(20.0, 1.0, "Period of the EMA middle band"),
            named_period("atr_period", 10.0, 1.0, "Period of the ATR"),
            real(
                "multiplier",
                2.0,
                0.0,
                REAL_BOUND,
                "ATRs between the middle band and each outer band",
            ),
        ],
        outputs: &["upperband", "middleband", "lowerband"],
        kernel: Kernel::Values(|x, p| {
            channels::keltner(x[0], x[1], x[2], int(p[0]), int(p[1]), p[2]).into()
        }),
    },
    IndicatorSpec {
        name: "donchian",
        group: "volatility",
        talib: false,
        description: "Donchian channel. Not in TA-Lib; convention: upperband = highest high and lowerband = lowest low of the last timeperiod bars including the current one, middleband = their midpoint (a breakout test compares today's price with yesterday's bands).",
        inputs: HL,
        params: &[period(20.0, 1.0, "Number of bars in the channel")],
        outputs: &["upperband", "middleband", "lowerband"],
        kernel: Kernel::Values(|x, p| channels::donchian(x[0], x[1], int(p[0])).into()),
    },
    IndicatorSpec {
        name: "supertrend",
        group: "overlap",
        talib: false,
        description: "SuperTrend. Not in TA-Lib; convention (TradingView's ta.supertrend): ATR is TA-Lib's Wilder ATR over timeperiod; basic bands (high + low) / 2 ± multiplier × ATR; the final lower band only rises and the upper only falls unless the previous close broke them; the first bar starts down; a close above the upper band turns up, a close below the lower band turns down. direction is +1 up (supertrend on the lower band) or -1 down (on the upper band).",
        inputs: HLC,
        params: &[
            period(10.0, 1.0, "Period of the ATR"),
            real(
                "multiplier",
                3.0,
                0.0,
                REAL_BOUND,
                "ATRs between the median price and the bands",
            ),
        ],
        outputs: &["supertrend", "direction"],
        kernel: Kernel::Values(|x, p| {
            channels::supertrend(x[0], x[1], x[2], int(p[0]), p[1]).into()
        }),
    },
];
