//! Seeded synthetic headlines and posts for the demo symbols, whose tone
//! follows the demo prices, with planted events (earnings beats and misses,
//! upgrades and downgrades, guidance raises and cuts) on the days of the
//! largest moves. Every item says `synthetic: true`; planted ones name
//! their event in `planted_event`, so the finance layer and the event study
//! can be measured against a known answer.
//!
//! Timing: a planted event is published at 12:00 UTC on its day (before the
//! US open), so the day's move is its reaction; routine headlines and posts
//! about a day's move come after the close (21:30 UTC onward), so nothing
//! is known before it happened.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::items::{NewsItem, Post, TickerIndex, content_id};

/// Names the generator in every demo item's source.
pub const DEMO_SOURCE: &str = "GoldenSignals demo wire (synthetic)";
pub const DEMO_PLATFORM: &str = "demo-social";
/// Days of history (counted back from each symbol's last bar) that get news.
pub const NEWS_DAYS: usize = 365;
/// Days that get posts.
pub const POST_DAYS: usize = 120;
/// Bars a planted event needs before it (an estimation window).
pub const EVENT_HISTORY: usize = 130;
/// Bars a planted event needs after it.
pub const EVENT_AFTER: usize = 6;
const MAX_EVENTS_PER_SYMBOL: usize = 6;
const EVENT_SPACING: usize = 15;
const EVENT_Z: f64 = 2.2;

/// Symbols that get planted events (single stocks, not the index or crypto).
const EVENT_SYMBOLS: &[&str] = &[
    "AAPL", "MSFT", "NVDA", "TSLA", "JPM", "XOM", "AMZN", "GOOGL", "META", "AMD", "NFLX",
];

/// The name headlines use for a symbol: its first alias in the metadata
/// (Apple, not Apple Inc.), else its name, else the symbol itself.
pub fn headline_name(meta: &[crate::items::SymbolMeta], symbol: &str) -> String {
    meta.iter()
        .find(|m| m.symbol == symbol)
        .map(|m| m.aliases.first().cloned().unwrap_or_else(|| m.name.clone()))
        .unwrap_or_else(|| symbol.to_string())
}

/// One symbol's daily closes, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPrices {
    pub symbol: String,
    /// Company name used in headlines.
    pub name: String,
    pub bars: Vec<(DateTime<Utc>, f64)>,
}

/// What the generator wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoItems {
    pub news: Vec<NewsItem>,
    pub posts: Vec<Post>,
}

/// A planted event's kind and the sign of its tone.
pub fn planted_sign(kind: &str) -> Option<f64> {
    match kind {
        "earnings_beat" | "upgrade" | "guidance_raise" => Some(1.0),
        "earnings_miss" | "downgrade" | "guidance_cut" => Some(-1.0),
        _ => None,
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = u64::try_from(items.len()).unwrap_or(1).max(1);
        let i = usize::try_from(self.next().checked_rem(n).unwrap_or(0)).unwrap_or(0);
        items.get(i).copied().unwrap_or("")
    }
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const SEGMENTS: &[&str] = &[
    "cloud",
    "services",
    "data-center",
    "consumer",
    "trading",
    "refining",
    "advertising",
    "automotive",
];
const BROKERS: &[&str] = &[
    "Morgan Stanley",
    "Goldman Sachs",
    "Barclays",
    "UBS",
    "Jefferies",
    "Bernstein",
];

fn event_headline(rng: &mut Rng, kind: &str, name: &str) -> String {
    let seg = rng.pick(SEGMENTS);
    let broker = rng.pick(BROKERS);
    let t = match kind {
        "earnings_beat" => rng.pick(&[
            "{n} beats estimates as {s} revenue climbs",
            "{n} crushes estimates on record {s} sales",
            "{n} tops estimates and raises guidance",
            "{n} beats expectations; {s} growth accelerates",
        ]),
        "upgrade" => rng.pick(&[
            "{b} upgrades {n} to buy",
            "{n} upgraded to outperform at {b}",
        ]),
        "guidance_raise" => rng.pick(&[
            "{n} raises guidance after a strong quarter",
            "{n} boosts outlook on {s} demand",
        ]),
        "earnings_miss" => rng.pick(&[
            "{n} misses estimates as {s} sales slow",
            "{n} falls short of forecasts in the {s} business",
            "{n} posts wider loss than expected",
            "{n} missed expectations for the quarter",
        ]),
        "downgrade" => rng.pick(&[
            "{b} downgrades {n} to sell",
            "{n} downgraded to underperform at {b}",
        ]),
        _ => rng.pick(&[
            "{n} cuts guidance as {s} demand cools",
            "{n} lowers guidance for the year",
        ]),
    };
    t.replace("{n}", name)
        .replace("{s}", seg)
        .replace("{b}", broker)
}

fn routine_headline(rng: &mut Rng, name: &str, ret: f64) -> String {
    let pct = format!("{:.1}", (ret * 100.0).abs());
    let t = if ret > 0.01 {
        rng.pick(&[
            "{n} shares gain {p}% as investors cheer strong demand",
            "{n} rises {p}% in a strong session",
            "Investors welcome {n} progress; stock up {p}%",
        ])
    } else if ret < -0.01 {
        rng.pick(&[
            "{n} shares fall {p}% amid worries over demand",
            "{n} drops {p}% as concerns weigh on the stock",
            "Weak session for {n}: stock down {p}%",
        ])
    } else {
        rng.pick(&[
            "{n} shares little changed ahead of the weekend",
            "{n} trades flat as the market waits for data",
            "What to watch for {n} this week",
        ])
    };
    t.replace("{n}", name).replace("{p}", &pct)
}

fn post_text(rng: &mut Rng, symbol: &str, tone: f64, event: Option<&str>) -> String {
    let t = match event {
        Some(k) if planted_sign(k) == Some(1.0) => rng.pick(&[
            "${s} just beat estimates, what a quarter!",
            "Huge news for ${s}, loving this move",
            "${s} earnings were great, adding more",
        ]),
        Some(_) => rng.pick(&[
            "${s} missed estimates, ugly quarter",
            "Terrible news for ${s}, I'm out",
            "${s} guidance is awful, selling",
        ]),
        None if tone > 0.0 => rng.pick(&[
            "${s} looking strong today",
            "Bought more ${s}, great setup",
            "${s} breaking out, nice",
            "Happy with my ${s} position",
        ]),
        None if tone < 0.0 => rng.pick(&[
            "${s} looks weak, cutting my losses",
            "Not happy with ${s} today",
            "${s} is a disaster this week",
            "Worried about ${s} here",
        ]),
        None => rng.pick(&[
            "Watching ${s} into the close",
            "${s} flat, waiting for a catalyst",
            "Any thoughts on ${s}?",
        ]),
    };
    t.replace("{s}", symbol)
}

fn at_time(day: DateTime<Utc>, h: u32, m: u32) -> DateTime<Utc> {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => day.date_naive().and_time(t).and_utc(),
        None => day,
    }
}

/// Planted event days of one symbol: (bar index, kind).
fn planted_events(rng: &mut Rng, returns: &[f64], first: usize) -> Vec<(usize, &'static str)> {
    // Room after the event for a [0, +5] window.
    let last = returns.len().saturating_sub(EVENT_AFTER);
    let usable: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
    if usable.len() < 2 {
        return Vec::new();
    }
    let mean = usable.iter().sum::<f64>() / usable.len() as f64;
    let sd = (usable.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>()
        / (usable.len() as f64 - 1.0))
        .sqrt();
    let mut candidates: Vec<(usize, f64)> = returns
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            *i >= first && *i < last && r.is_finite() && ((**r - mean) / sd).abs() > EVENT_Z
        })
        .map(|(i, r)| (i, *r))
        .collect();
    candidates.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let mut chosen: Vec<(usize, &'static str)> = Vec::new();
    for (i, r) in candidates {
        if chosen.len() >= MAX_EVENTS_PER_SYMBOL {
            break;
        }
        if chosen.iter().any(|(j, _)| i.abs_diff(*j) < EVENT_SPACING) {
            continue;
        }
        let kind = if r > 0.0 {
            rng.pick(&[
                "earnings_beat",
                "earnings_beat",
                "upgrade",
                "guidance_raise",
            ])
        } else {
            rng.pick(&[
                "earnings_miss",
                "earnings_miss",
                "downgrade",
                "guidance_cut",
            ])
        };
        chosen.push((i, kind));
    }
    chosen.sort_unstable();
    chosen
}

/// Generates the demo items for the given prices.
pub fn generate(prices: &[DemoPrices], seed: u64, index: &TickerIndex) -> DemoItems {
    let mut out = DemoItems::default();
    for p in prices {
        let mut rng = Rng(seed ^ fnv1a(&p.symbol));
        let closes: Vec<f64> = p.bars.iter().map(|b| b.1).collect();
        let returns: Vec<f64> = std::iter::once(f64::NAN)
            .chain(closes.windows(2).map(|w| match w {
                [a, b] if *a > 0.0 => b / a - 1.0,
                _ => f64::NAN,
            }))
            .collect();
        let n = p.bars.len();
        let news_from = n.saturating_sub(NEWS_DAYS);
        let posts_from = n.saturating_sub(POST_DAYS);
        let events = if EVENT_SYMBOLS.contains(&p.symbol.as_str()) {
            planted_events(&mut rng, &returns, news_from.max(EVENT_HISTORY))
        } else {
            Vec::new()
        };
        for (i, (day, _)) in p.bars.iter().enumerate().skip(news_from) {
            let ret = returns.get(i).copied().unwrap_or(f64::NAN);
            let event = events.iter().find(|(j, _)| *j == i).map(|(_, k)| *k);
            let date = day.format("%Y-%m-%d").to_string();
            if let Some(kind) = event {
                let headline = event_headline(&mut rng, kind, &p.name);
                let time = at_time(*day, 12, 0);
                out.news
                    .push(news_item(&p.symbol, time, headline, Some(kind), index));
            }
            if ret.is_finite() && (rng.unit() < 0.25 || ret.abs() > 0.03) {
                let headline = routine_headline(&mut rng, &p.name, ret);
                let time = at_time(*day, 21, 30);
                out.news
                    .push(news_item(&p.symbol, time, headline, None, index));
            }
            if i >= posts_from && ret.is_finite() {
                let count = if event.is_some() {
                    4
                } else {
                    usize::try_from(rng.next() % 3).unwrap_or(0)
                };
                for k in 0..count {
                    let follows = rng.unit() < 0.75;
                    let tone = if ret.abs() < 0.004 {
                        0.0
                    } else if follows {
                        ret.signum()
                    } else {
                        -ret.signum()
                    };
                    let (time, ev) = match event {
                        Some(kind) => (at_time(*day, 13, 0), Some(kind)),
                        None => (at_time(*day, 21, 30), None),
                    };
                    let minutes = i64::try_from(k).unwrap_or(0).saturating_mul(7);
                    let time = time
                        .checked_add_signed(Duration::minutes(minutes))
                        .unwrap_or(time);
                    let text = post_text(&mut rng, &p.symbol, tone, ev);
                    let author = format!("demo_trader_{}", rng.next() % 50);
                    let url = format!(
                        "https://demo.goldensignals.invalid/posts/{}/{date}/{k}",
                        p.symbol
                    );
                    out.posts.push(Post {
                        id: content_id(Some(&url), DEMO_PLATFORM, &text),
                        time,
                        platform: DEMO_PLATFORM.into(),
                        author,
                        cashtags: TickerIndex::cashtags(&text),
                        tickers: index.extract(&text),
                        engagement: (rng.unit() * 200.0).floor(),
                        text,
                        synthetic: true,
                        planted_event: ev.map(str::to_string),
                    });
                }
            }
        }
    }
    out.news
        .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    out.posts
        .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    out
}

/// A demo headline about `symbol` (its URL names the symbol, the day and
/// whether it is a planted event or a routine story).
fn news_item(
    symbol: &str,
    time: DateTime<Utc>,
    headline: String,
    event: Option<&str>,
    index: &TickerIndex,
) -> NewsItem {
    let url = format!(
        "https://demo.goldensignals.invalid/news/{symbol}/{}/{}",
        time.format("%Y-%m-%d"),
        if event.is_some() { "event" } else { "close" }
    );
    let mut tickers = index.extract(&headline);
    if !tickers.iter().any(|t| t == symbol) {
        tickers.push(symbol.to_string());
        tickers.sort();
    }
    NewsItem {
        id: content_id(Some(&url), DEMO_SOURCE, &headline),
        time,
        source: DEMO_SOURCE.into(),
        headline,
        summary: None,
        url: Some(url),
        tickers,
        synthetic: true,
        planted_event: event.map(str::to_string),
    }
}
