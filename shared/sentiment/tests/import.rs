//! News and post files: every format, tickers, dedupe, and all-or-nothing
//! refusals that name the bad lines.

use gs_sentiment::import::{NewsFormat, parse_news, parse_posts};
use gs_sentiment::{TickerIndex, default_symbol_metadata};

fn index() -> TickerIndex {
    TickerIndex::new(Vec::new(), &default_symbol_metadata().unwrap())
}

#[test]
fn jsonl_news_with_tickers_and_duplicates() {
    let file = r#"{"time":"2026-03-02T12:00:00Z","source":"Wire","headline":"Apple beats estimates","url":"https://n.example/a"}
{"time":"2026-03-02T13:00:00Z","title":"Tesla and $NVDA slide","summary":"<p>Chip &amp; car stocks fall</p>","tickers":["xom"]}

{"time":"2026-03-03","headline":"Apple beats estimates again","url":"https://N.example/a/"}
"#;
    let parsed = parse_news(file, NewsFormat::Jsonl, "file.jsonl", &index()).unwrap();
    assert_eq!(parsed.items.len(), 2);
    assert_eq!(
        parsed.duplicates, 1,
        "same URL, different case and trailing slash"
    );
    let a = &parsed.items[0];
    assert_eq!(
        (a.source.as_str(), a.tickers.clone()),
        ("Wire", vec!["AAPL".to_string()])
    );
    let b = &parsed.items[1];
    assert_eq!(b.source, "file.jsonl");
    assert_eq!(b.tickers, vec!["NVDA", "TSLA", "XOM"]);
    assert_eq!(b.summary.as_deref(), Some("Chip & car stocks fall"));
    assert!(!b.synthetic);
}

#[test]
fn a_bad_line_fails_the_whole_file_and_is_named() {
    let file = "{\"time\":\"2026-03-02T12:00:00Z\",\"headline\":\"fine\"}\n\
                {\"time\":\"soon\",\"headline\":\"bad time\"}\n\
                not json\n\
                {\"time\":\"2026-03-02T12:00:00Z\"}\n";
    let err = parse_news(file, NewsFormat::Jsonl, "f", &index()).unwrap_err();
    assert_eq!(err.total, 3);
    let lines: Vec<usize> = err.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    let text = err.to_string();
    assert!(
        text.starts_with("3 bad lines; nothing was stored (quoted values come from the file: untrusted text): line 2: time \"soon\""),
        "{text}"
    );
    assert!(text.contains("line 4: no headline"), "{text}");
}

#[test]
fn csv_news_reports_the_physical_line() {
    let file = "time,headline,tickers\n2026-03-02 12:00,\"Exxon cuts guidance,\nsays CFO\",XOM\n2026-03-02,,AAPL\n";
    let err = parse_news(file, NewsFormat::Csv, "f.csv", &index()).unwrap_err();
    assert_eq!(err.errors[0].line, 4, "{err}");
    let ok = parse_news(
        "time,headline,tickers\n2026-03-02,Exxon cuts guidance,XOM;AAPL\n",
        NewsFormat::Csv,
        "f.csv",
        &index(),
    )
    .unwrap();
    assert_eq!(ok.items[0].tickers, vec!["AAPL", "XOM"]);
}

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Markets Feed</title>
  <item>
    <title>Microsoft raises guidance</title>
    <link>https://feed.example/msft</link>
    <description><![CDATA[<b>Cloud</b> demand strong]]></description>
    <pubDate>Mon, 02 Mar 2026 14:30:00 GMT</pubDate>
    <category>$MSFT</category>
  </item>
  <item>
    <title>JPMorgan &amp; peers fall</title>
    <guid>https://feed.example/jpm</guid>
    <dc:date>2026-03-02T20:00:00Z</dc:date>
  </item>
</channel>
</rss>"#;

#[test]
fn rss_items_take_the_feed_title_as_source() {
    assert_eq!(NewsFormat::detect(RSS), NewsFormat::Rss);
    let parsed = parse_news(RSS, NewsFormat::Rss, "f.xml", &index()).unwrap();
    assert_eq!(parsed.items.len(), 2);
    let a = &parsed.items[0];
    assert_eq!(a.source, "Markets Feed");
    assert_eq!(a.url.as_deref(), Some("https://feed.example/msft"));
    assert_eq!(a.summary.as_deref(), Some("Cloud demand strong"));
    assert_eq!(a.tickers, vec!["MSFT"]);
    assert_eq!(a.time.to_rfc3339(), "2026-03-02T14:30:00+00:00");
    let b = &parsed.items[1];
    assert_eq!(b.headline, "JPMorgan & peers fall");
    assert_eq!(b.url.as_deref(), Some("https://feed.example/jpm"));
    assert_eq!(b.tickers, vec!["JPM"]);
}

#[test]
fn atom_entries_and_a_broken_feed() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title>
<entry><title>Nvidia soars</title><link rel="alternate" href="https://a.example/1"/>
<updated>2026-03-02T15:00:00Z</updated><summary>Record data-center sales</summary></entry>
<entry><title>No time here</title></entry>
</feed>"#;
    assert_eq!(NewsFormat::detect(atom), NewsFormat::Atom);
    let err = parse_news(atom, NewsFormat::Atom, "f", &index()).unwrap_err();
    assert_eq!(err.errors[0].line, 4, "{err}");
    assert!(err.errors[0].message.contains("no time"), "{err}");
    let fixed = atom.replace("<entry><title>No time here</title></entry>\n", "");
    let ok = parse_news(&fixed, NewsFormat::Atom, "f", &index()).unwrap();
    assert_eq!(ok.items[0].source, "Atom Wire");
    assert_eq!(ok.items[0].url.as_deref(), Some("https://a.example/1"));
    assert_eq!(ok.items[0].tickers, vec!["NVDA"]);

    let broken = "<rss><channel>\n<item><title>x</title>\n</channel></rss>";
    let err = parse_news(broken, NewsFormat::Rss, "f", &index()).unwrap_err();
    assert_eq!(err.errors[0].line, 3, "{err}");
    let err = parse_news("<html></html>", NewsFormat::Rss, "f", &index()).unwrap_err();
    assert!(err.to_string().contains("neither an RSS"), "{err}");
}

#[test]
fn posts_with_engagement_and_cashtags() {
    let file = r#"{"time":"2026-03-02T14:00:00Z","platform":"x","author":"a","text":"$TSLA to the moon","engagement":{"likes":10,"reposts":2}}
{"time":"2026-03-02T14:05:00Z","text":"Apple looks weak","likes":3,"replies":1}
"#;
    let parsed = parse_posts(file, &index()).unwrap();
    assert_eq!(parsed.items[0].cashtags, vec!["TSLA"]);
    assert_eq!(parsed.items[0].engagement, 12.0);
    assert_eq!(parsed.items[1].tickers, vec!["AAPL"]);
    assert_eq!(parsed.items[1].engagement, 4.0);
    let err = parse_posts(
        "{\"time\":\"2026-03-02\",\"text\":\"x\",\"likes\":-1}\n",
        &index(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("line 1: likes must be a non-negative number"),
        "{err}"
    );
    assert!(
        parse_posts("\n\n", &index())
            .unwrap_err()
            .to_string()
            .contains("no posts")
    );
}

#[test]
fn hostile_values_are_bounded_and_times_are_sane() {
    let long = "x".repeat(5_000);
    let file = format!(
        "{{\"time\":\"{long}\",\"headline\":\"a\"}}\n{{\"time\":\"2500-01-01\",\"headline\":\"b\"}}\n{{\"time\":\"1772461800123\",\"headline\":\"c\"}}\n"
    );
    let err = parse_news(&file, NewsFormat::Jsonl, "f", &index()).unwrap_err();
    assert_eq!(err.total, 2, "{err}");
    let text = err.to_string();
    assert!(
        text.len() < 600,
        "quoted values are cut: {} bytes",
        text.len()
    );
    assert!(
        text.contains("line 2: time \"2500-01-01\" is in the year 2500"),
        "{text}"
    );
    // 13 digits are milliseconds.
    let ok = parse_news(
        "{\"time\":\"1772461800123\",\"headline\":\"c\"}\n",
        NewsFormat::Jsonl,
        "f",
        &index(),
    )
    .unwrap();
    assert_eq!(ok.items[0].time.timestamp_millis(), 1_772_461_800_123);

    let inf = "{\"time\":\"2026-03-02\",\"text\":\"x\",\"likes\":1e308,\"reposts\":1e308}\n";
    assert!(
        parse_posts(inf, &index())
            .unwrap_err()
            .to_string()
            .contains("engagement")
    );
}

#[test]
fn summaries_keep_comparisons_and_drop_markup() {
    let file = "{\"time\":\"2026-03-02\",\"headline\":\"h\",\"summary\":\"EPS < consensus; revenue > guide <b>ok</b> &rsquo;26 &#0;end\"}\n";
    let parsed = parse_news(file, NewsFormat::Jsonl, "f", &index()).unwrap();
    assert_eq!(
        parsed.items[0].summary.as_deref(),
        Some("EPS < consensus; revenue > guide ok '26 end")
    );
}
