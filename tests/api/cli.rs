//! The `goldensignals` command line: imports that are all-or-nothing,
//! refusals with a message, and help for every subcommand.

use serde_json::json;

use crate::helpers::{
    TestDir, all_daily_bars, call, expect_ok, expect_tool_error, fixture, import, run_cli,
    spawn_app_in, stored_series, text,
};

#[tokio::test]
async fn import_refuses_bad_files_skips_on_request_and_updates_overlaps() {
    let dir = TestDir::new();
    let data = dir.data_dir();
    let data_arg = data.to_str().unwrap();
    let malformed = fixture("malformed.csv");

    let out = run_cli(&[
        "import",
        "--symbol",
        "BAD",
        "--timeframe",
        "1d",
        "--data-dir",
        data_arg,
        &malformed,
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "a malformed file must fail");
    assert!(
        stderr.contains("line 3"),
        "names the bad number's line: {stderr}"
    );
    assert!(
        stderr.contains("line 5"),
        "names the high < low line: {stderr}"
    );
    assert!(
        !stderr.contains("line 2") && !stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--skip-bad"),
        "says how to proceed: {stderr}"
    );
    assert!(
        !text(&out.stdout).contains("Imported"),
        "{}",
        text(&out.stdout)
    );

    let (stdout, stderr) = import(&data, "SKIP", "malformed.csv", &["--skip-bad"]);
    assert!(stdout.contains("Imported 4 bars"), "{stdout}");
    assert!(stderr.contains("Skipped 2"), "{stderr}");
    assert!(
        stderr.contains("line 3") && stderr.contains("line 5"),
        "{stderr}"
    );

    let (stdout, _) = import(&data, "OVL", "overlap_first.csv", &[]);
    assert!(stdout.contains("10 new, 0 updated"), "{stdout}");
    let (stdout, _) = import(&data, "OVL", "overlap_second.csv", &[]);
    assert!(stdout.contains("5 new, 5 updated"), "{stdout}");

    let app = spawn_app_in(&data, false).await;

    // The server holds the store while it runs: import hands the file to it
    // (import_bars over the authenticated endpoint) and nothing is lost.
    let out = run_cli(&[
        "import",
        "--symbol",
        "LIVE",
        "--timeframe",
        "1d",
        "--data-dir",
        data_arg,
        &fixture("daily_20_bars.csv"),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains("Imported 20 bars of LIVE 1d")
            && stdout.contains("through the running server"),
        "{stdout}"
    );
    // A malformed file is refused before anything is sent, line numbers
    // included, and nothing of it is stored.
    let out = run_cli(&[
        "import",
        "--symbol",
        "LOCKED",
        "--timeframe",
        "1d",
        "--data-dir",
        data_arg,
        &fixture("malformed.csv"),
    ]);
    assert!(!out.status.success(), "a malformed file must be refused");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line ") && stderr.contains("nothing was stored"),
        "{stderr}"
    );
    // So does a second server on the same directory, before printing a banner.
    let out = run_cli(&["serve", "--addr", "127.0.0.1:0", "--data-dir", data_arg]);
    assert!(!out.status.success(), "a second server must not start");
    assert!(
        !text(&out.stdout).contains("endpoint"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains(data_arg),
        "{}",
        text(&out.stderr)
    );

    let client = app.client(&app.token).await;
    let series = stored_series(&client).await;
    assert_eq!(
        series,
        [
            ("LIVE".to_string(), "1d".to_string(), 20),
            ("OVL".to_string(), "1d".to_string(), 15),
            ("SKIP".to_string(), "1d".to_string(), 4),
        ],
        "the import through the server landed; nothing of the refused files was stored"
    );

    let skip = all_daily_bars(&client, "SKIP").await;
    let days: Vec<&str> = skip.iter().map(|b| b["time"].as_str().unwrap()).collect();
    assert_eq!(
        days,
        [
            "2024-02-01T00:00:00Z",
            "2024-02-05T00:00:00Z",
            "2024-02-07T00:00:00Z",
            "2024-02-08T00:00:00Z"
        ]
    );

    // Overlapping days carry the second file's values, once each.
    let ovl = all_daily_bars(&client, "OVL").await;
    let second = std::fs::read_to_string(fixture("overlap_second.csv")).unwrap();
    for row in second.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let at = format!("{}T00:00:00Z", fields[0]);
        let matching: Vec<_> = ovl.iter().filter(|b| b["time"] == at.as_str()).collect();
        assert_eq!(matching.len(), 1, "{at}");
        let close: f64 = fields[4].parse().unwrap();
        assert_eq!(matching[0]["close"], json!(close), "{at}");
    }
    // Only daily bars are stored, so hourly ones cannot be made.
    let finer = call(
        &client,
        "get_historical_data",
        json!({"symbol": "OVL", "timeframe": "1h"}),
    )
    .await;
    let message = expect_tool_error(&finer);
    assert!(
        message.contains("1h") && message.contains("1d"),
        "{message}"
    );
    client.cancel().await.unwrap();
}

#[test]
fn token_and_serve_refuse_bad_arguments_clearly() {
    let dir = TestDir::new();
    let data = dir.data_dir();
    let data_arg = data.to_str().unwrap();

    let out = run_cli(&[
        "token",
        "--sub",
        "a",
        "--scopes",
        "marketdata:*",
        "--data-dir",
        data_arg,
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("marketdata") && stderr.contains("market-data"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no token printed");

    for ttl in ["1.5h", "15", "0m", "forever"] {
        let out = run_cli(&[
            "token",
            "--sub",
            "a",
            "--scopes",
            "*",
            "--ttl",
            ttl,
            "--data-dir",
            data_arg,
        ]);
        assert!(!out.status.success(), "ttl {ttl}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(ttl), "names the bad ttl {ttl}: {stderr}");
        assert!(out.stdout.is_empty(), "no token printed for ttl {ttl}");
    }

    let out = run_cli(&["token", "--sub", "a", "--data-dir", data_arg]);
    assert!(!out.status.success(), "a token granting nothing is refused");
    assert!(
        text(&out.stderr).contains("--scopes"),
        "{}",
        text(&out.stderr)
    );

    let out = run_cli(&["serve", "--addr", "nonsense", "--data-dir", data_arg]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("nonsense") && stderr.contains("--addr"),
        "{stderr}"
    );

    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["token", "--help"],
        &["import", "--help"],
    ] {
        let out = run_cli(args);
        assert!(out.status.success(), "{args:?}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("Usage"), "{args:?}: {stdout}");
    }
    let out = run_cli(&["import", "--help"]);
    assert!(text(&out.stdout).contains("--skip-bad"));
    let out = run_cli(&["token", "--help"]);
    assert!(text(&out.stdout).contains("--groups"));
}

/// `import-news` and `import-posts`: into the data directory, all or
/// nothing with line numbers, deduped on a repeat, and through the running
/// server when it holds the store.
#[tokio::test]
async fn news_and_posts_import_locally_and_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let news = |file: &str| run_cli(&["import-news", "--data-dir", data_arg, &fixture(file)]);

    let out = news("news.rss");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains("Imported 2 news items") && stdout.contains("2 stored"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MSFT 1") && stdout.contains("TSLA 1"),
        "{stdout}"
    );
    let again = text(&news("news.rss").stdout);
    assert!(again.contains("0 stored, 2 already stored"), "{again}");

    let bad = news("news_bad.jsonl");
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("nothing was stored"),
        "{stderr}"
    );

    let app = spawn_app_in(&data, false).await;
    let out = run_cli(&[
        "import-posts",
        "--data-dir",
        data_arg,
        &fixture("posts.jsonl"),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains("Imported 2 posts") && stdout.contains("through the running server"),
        "{stdout}"
    );

    let client = app.client(&app.token).await;
    let end = "2026-03-03T00:00:00Z";
    let apple = expect_ok(
        &call(
            &client,
            "get_news_sentiment",
            json!({"symbol": "AAPL", "end": end}),
        )
        .await,
    );
    assert_eq!(
        apple["total_items"], 0,
        "nothing of the refused file was stored"
    );
    let tsla = expect_ok(
        &call(
            &client,
            "get_news_sentiment",
            json!({"symbol": "TSLA", "end": end}),
        )
        .await,
    );
    assert_eq!(tsla["total_items"], 1);
    assert_eq!(tsla["items"][0]["score"]["categories"][0], "downgrade");
    let nvda = expect_ok(
        &call(
            &client,
            "get_social_sentiment",
            json!({"symbol": "NVDA", "end": end}),
        )
        .await,
    );
    assert_eq!(nvda["total_items"], 2);
    assert_eq!(nvda["tone"]["bullish"], 1);
}

/// `import-options`: chains and trades into the data directory, all or
/// nothing with line numbers, the same records on a repeat, and through the
/// running server when it holds the store.
#[tokio::test]
async fn options_import_locally_and_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let import = |file: &str| run_cli(&["import-options", "--data-dir", data_arg, &fixture(file)]);

    let out = import("options_chain.csv");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains("Imported 1 chain snapshot (6 quotes)") && stdout.contains("CLIX 6"),
        "{stdout}"
    );
    let bad = import("options_bad.csv");
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("nothing was imported"),
        "{stderr}"
    );

    let app = spawn_app_in(&data, false).await;
    let out = import("options_trades.csv");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains("Imported 4 trade prints") && stdout.contains("through the running server"),
        "{stdout}"
    );
    let client = app.client(&app.token).await;
    let chain = expect_ok(
        &call(
            &client,
            "get_option_chain",
            json!({"symbol": "CLIX", "as_of": "2026-12-01"}),
        )
        .await,
    );
    assert_eq!(
        chain["matching"], 6,
        "only the good file's snapshot: {chain}"
    );
    assert_eq!(chain["synthetic"], false);
    let hits = expect_ok(
        &call(
            &client,
            "detect_unusual_activity",
            json!({"symbol": "CLIX", "date": "2026-11-30"}),
        )
        .await,
    );
    assert_eq!(hits["prints_scanned"], 4);
    let sweep = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "sweep")
        .expect("the ISO sweep is found");
    assert_eq!(sweep["size"], 1050);
    assert_eq!(sweep["side"], "bought");
}
