//! The `tend` binary as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

/// `tend ARGS` on the SQLite database at `database`, not yet started.
fn command(database: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tend"));
    command.args(args).env(
        "TEND_DATABASE_URL",
        format!("sqlite:{}", database.display()),
    );
    command
}

fn tend(database: &Path, args: &[&str]) -> Output {
    command(database, args).output().expect("tend runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &["--help"][..],
        &["demo", "--help"],
        &["import", "--help"],
        &["summary", "--help"],
        &["export", "--help"],
        &["health", "--help"],
        &["health", "rescore", "--help"],
        &["health", "backfill", "--help"],
        &["health", "evaluate", "--help"],
        &["user", "add", "--help"],
        &["token", "create", "--help"],
        &["audit", "--help"],
        &["serve", "--help"],
    ] {
        let output = tend(&dir.path().join("t.db"), command);
        assert!(output.status.success(), "{command:?}");
        assert!(text(&output.stdout).contains("Usage: tend"), "{command:?}");
    }
}

#[test]
fn demo_prints_the_portfolio_summary_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let export = dir.path().join("export");
    let output = tend(
        &db,
        &[
            "demo",
            "--accounts",
            "40",
            "--as-of",
            "2026-06-01",
            "--export",
            export.to_str().unwrap(),
        ],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("Portfolio as of 2026-05-31"), "{stdout}");
    assert!(
        stdout.contains("Last 12 months (2025-06-01 to 2026-05-31)"),
        "{stdout}"
    );
    for check in [
        "NPS",
        "Logo churn (12 months)",
        "CSAT",
        "First response, median (min)",
        "Renewal rate",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(check)),
            "{check} missing in {stdout}"
        );
    }
    assert!(export.join("accounts.csv").is_file() && export.join("demo-truth.csv").is_file());

    // A second demo replaces the first; the summary command agrees with it, and the
    // demo's health table follows the summary.
    assert!(
        tend(&db, &["demo", "--accounts", "40", "--as-of", "2026-06-01"])
            .status
            .success()
    );
    // Without --as-of the summary covers the last day of the data, as the demo did.
    let summary = text(&tend(&db, &["summary"]).stdout);
    let health = stdout
        .strip_prefix(&summary)
        .expect("the demo starts with the summary");
    assert!(health.starts_with("\nHealth on 2026-05-31: "), "{health}");
}

#[test]
fn demo_will_not_overwrite_real_customer_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(&accounts, "id,name,created_on\nacme,Acme,2024-01-01\n").unwrap();
    assert!(
        tend(&db, &["import", "accounts", accounts.to_str().unwrap()])
            .status
            .success()
    );
    let output = tend(&db, &["demo", "--accounts", "5"]);
    assert!(!output.status.success());
    assert_eq!(
        text(&output.stderr),
        "error: the database holds customer data that is not a demo\n\
         Point the demo at another database with --database-url.\n"
    );
    // The engine says what is wrong; the command line says what to do about it.
    let no_health = tend(&db, &["health"]);
    assert!(
        text(&no_health.stderr)
            .ends_with("no health snapshots yet\nRun `tend health rescore` first.\n"),
        "{}",
        text(&no_health.stderr)
    );
}

#[test]
fn a_bad_file_fails_with_its_line_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(&accounts, "id,name,created_on\nacme,Acme,01/02/2024\n").unwrap();
    let output = tend(&db, &["import", "accounts", accounts.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("accounts.csv: line 2, column 3 (created_on): must be a date as YYYY-MM-DD, got \"01/02/2024\""),
        "{}",
        text(&output.stderr)
    );
    let unknown = tend(&db, &["import", "deals", accounts.to_str().unwrap()]);
    assert!(text(&unknown.stderr).contains("unknown entity \"deals\""));
}

#[test]
fn health_commands_score_explain_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let output = tend(&db, &["demo", "--accounts", "60", "--as-of", "2026-06-01"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Health on 2026-05-31: "), "{stdout}");

    let output = tend(&db, &["health", "--limit", "0"]);
    let table = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(table.starts_with("Health on 2026-05-31: "), "{table}");
    let first = table.lines().nth(2).expect("an account row");
    let account = first.split_whitespace().next().unwrap().to_string();

    let output = tend(&db, &["health", &account, "--explain"]);
    let explained = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        explained.contains(&format!("({account}): health ")),
        "{explained}"
    );
    assert!(
        explained.contains("30 days earlier (2026-05-01)"),
        "{explained}"
    );
    assert!(explained.contains("license_utilization"), "{explained}");

    let output = tend(&db, &["health", "--band", "purple"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains(": 0 accounts"));

    let output = tend(&db, &["health", "rescore", "--as-of", "2026-05-20"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("active accounts of 60 on 2026-05-20"));

    let output = tend(&db, &["health", "backfill", "--days", "3"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("from 2026-05-29 to 2026-05-31"));

    let output = tend(
        &db,
        &["health", "evaluate", "--horizon", "90", "--dates", "3"],
    );
    let report = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        report.contains("against churn in the following 90 days"),
        "{report}"
    );
    assert!(report.contains("  all "), "{report}");

    let output = tend(&db, &["health", "NOPE"]);
    assert!(!output.status.success());
    assert_eq!(
        text(&output.stderr),
        "As of 2026-05-31, the last day of the store's data (--as-of to choose another day).\n\
         error: no account with id \"NOPE\"\n"
    );
}

#[test]
fn a_bad_scorecard_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.toml");
    std::fs::write(
        &card,
        "[[scorecard]]\nname = \"x\"\nbands = [{ name = \"all\", from = 0, to = 90 }]\n\n[[scorecard.group]]\nname = \"usage\"\nweight = 100\n\n[[scorecard.group.measure]]\nname = \"dau_mau\"\nweight = 100\nrule = { kind = \"percentile\" }\n",
    )
    .unwrap();
    let output = tend(
        &dir.path().join("t.db"),
        &["--scorecard", card.to_str().unwrap(), "health", "rescore"],
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: {}, line 3: scorecard \"x\"",
            card.display()
        )),
        "{stderr}"
    );
    assert!(!dir.path().join("t.db").exists(), "no database was created");
}

#[test]
fn import_all_takes_a_company_folder_whole_and_reports_in_one_currency() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let folder = dir.path().join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    let write = |name: &str, text: &str| std::fs::write(folder.join(name), text).unwrap();
    write(
        "Accounts.csv",
        "id,name,created_on\nacme,Acme,2025-01-01\nbrise,Brise,2025-01-01\n",
    );
    write(
        "contracts.CSV",
        "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
         k1,acme,Platform,10,10000000,USD,2026-01-01,2026-12-31\n\
         k2,brise,Platform,10,5000000,EUR,2026-01-01,2026-12-31\n",
    );
    write("fx_rates.csv", "date,currency,rate\n2026-01-01,EUR,1.2\n");
    write(
        "Survey_Responses.csv",
        "id,account_id,kind,score,responded_at\nr1,acme,nps,10,2026-09-30T10:00:00Z\n",
    );
    write("notes.txt", "call Acme");
    let folder_arg = folder.to_str().unwrap();

    let refused = tend(&db, &["import", "all", folder_arg]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not an entity's file: notes.txt"),
        "{}",
        text(&refused.stderr)
    );

    let output = tend(&db, &["import", "all", folder_arg, "--ignore-unknown"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("notes.txt: skipped, not an entity's file."),
        "{stdout}"
    );
    assert!(
        stdout.contains("rates without a base are read as against USD, the reporting currency"),
        "{stdout}"
    );
    assert!(stdout.contains("Imported 4 files from"), "{stdout}");

    let summary = tend(&db, &["summary"]);
    let stdout = text(&summary.stdout);
    assert_eq!(
        text(&summary.stderr),
        "As of 2026-09-30, the last day of the store's data (--as-of to choose another day).\n"
    );
    assert!(stdout.contains("Portfolio as of 2026-09-30"), "{stdout}");
    assert!(
        stdout.contains("2 active accounts, ARR USD 160,000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("by currency as contracted: USD 100,000, EUR 50,000; converted to USD"),
        "{stdout}"
    );
    let in_euros = text(&tend(&db, &["--currency", "eur", "summary"]).stdout);
    assert!(
        in_euros.contains("2 active accounts, ARR EUR 133,333"),
        "{in_euros}"
    );
}

#[test]
fn a_churned_account_says_when_it_churned_in_the_table_and_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let folder = dir.path().join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    let write = |name: &str, text: &str| std::fs::write(folder.join(name), text).unwrap();
    write(
        "accounts.csv",
        "id,name,created_on,churned_on,churn_reason\n\
         acme,Acme,2025-01-01,,\ncinder,Cinder,2025-01-01,2026-10-15,budget cuts\n",
    );
    write(
        "contracts.csv",
        "id,account_id,product,seats,arr_minor,currency,start_date,end_date,status\n\
         k1,acme,Platform,10,10000000,USD,2026-01-01,2026-12-31,active\n\
         k2,cinder,Platform,10,10000000,USD,2025-10-15,2026-10-14,churned\n",
    );
    let mut usage = String::from("account_id,day,events,active_users,active_users_30d\n");
    for d in 1..=31 {
        usage.push_str(&format!("acme,2026-10-{d:02},20,4,8\n"));
        if d < 15 {
            usage.push_str(&format!("cinder,2026-10-{d:02},5,1,2\n"));
        }
    }
    write("usage-daily.csv", &usage);
    assert!(tend(&db, &["import", "all", folder.to_str().unwrap()])
        .status
        .success());
    assert!(tend(&db, &["health", "rescore", "--as-of", "2026-10-10"])
        .status
        .success());

    let table = text(&tend(&db, &["health", "--as-of", "2026-10-10"]).stdout);
    let line = table
        .lines()
        .find(|l| l.starts_with("cinder"))
        .expect("cinder in the table");
    assert!(line.contains("CHURNED 2026-10-15; "), "{line}");

    let alone = tend(&db, &["health", "cinder"]);
    let stdout = text(&alone.stdout);
    assert!(alone.status.success(), "{}", text(&alone.stderr));
    assert!(
        stdout.starts_with(
            "Cinder (cinder) churned on 2026-10-15 (budget cuts); its last health before churning:\n\
             Cinder (cinder): health "
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(" on 2026-10-14, scorecard \"standard\""),
        "{stdout}"
    );
}

#[test]
fn users_and_tokens_are_managed_and_audited_from_the_command_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let mut add = command(
        &db,
        &[
            "user",
            "add",
            "alex.morgan",
            "--email",
            "alex@vendor.example",
            "--name",
            "Alex Morgan",
            "--role",
            "csm",
            "--password-stdin",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let output = add.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "Added alex.morgan <alex@vendor.example> as csm.\n"
    );
    let list = text(&tend(&db, &["user", "list"]).stdout);
    assert!(
        list.lines().nth(1).unwrap().starts_with("alex.morgan"),
        "{list}"
    );

    let bad = tend(
        &db,
        &[
            "user", "add", "kim", "--email", "kim", "--name", "Kim", "--role", "am",
        ],
    );
    assert!(!bad.status.success());
    assert_eq!(
        text(&bad.stderr),
        "error: email: \"kim\" is not an email address\n"
    );

    let created = tend(
        &db,
        &[
            "token",
            "create",
            "agent",
            "--role",
            "viewer",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_string();
    assert!(secret.starts_with("tend_"), "{secret}");
    let id = secret.split('_').nth(1).unwrap().to_string();
    let tokens = text(&tend(&db, &["token", "list"]).stdout);
    assert!(
        tokens.contains(&id) && tokens.contains("valid") && !tokens.contains(&secret),
        "{tokens}"
    );
    assert!(tend(&db, &["token", "revoke", &id]).status.success());
    assert!(text(&tend(&db, &["token", "list"]).stdout).contains("revoked"));

    let audit = text(&tend(&db, &["audit"]).stdout);
    let actions: Vec<&str> = audit
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(
        actions,
        ["token.revoke", "token.create", "user.add"],
        "{audit}"
    );
}

#[test]
fn serve_says_how_to_start_answers_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tend.db");
    let mut server = command(&db, &["serve", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut said = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve stopped early: {said}"
        );
        said.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("tend is listening on http://") {
            break rest.to_string();
        }
    };
    assert!(
        said.contains("--role admin"),
        "an empty store says how to create the first admin: {said}"
    );
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: tend\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.ends_with("{\"status\":\"ok\"}"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
}
