//! A real PostgreSQL for the tests, never a mock.
//!
//! With `KATABOX_TEST_POSTGRES` set (a URL of a server whose user may
//! create databases), that server is used. Otherwise one throwaway server
//! per test process is started from the installed binaries: `initdb` into
//! a temporary directory with trust authentication, `pg_ctl start` on a
//! free port with its socket in that directory (as the `postgres` system
//! user through `runuser` when the tests run as root). A watcher process
//! stops it (`pg_ctl stop -m immediate`) and removes the directory when the
//! test process exits. Each test gets a fresh database.
//!
//! When no server can be had, the calling test panics saying why: a
//! Postgres test never passes without Postgres.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running server and how to reach it.
pub struct Postgres {
    /// `postgres://USER@HOST:PORT` without a database.
    base: String,
    /// The query string that goes with it (`?host=/socket/dir`), may be empty.
    query: String,
}

static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The server for this test process (started on first use); panics with
/// the reason when there is none.
pub fn server() -> &'static Postgres {
    match SERVER.get_or_init(start) {
        Ok(pg) => pg,
        Err(e) => panic!(
            "PostgreSQL tests need a server: {e}\n(install PostgreSQL so that `initdb` and `pg_ctl` are on PATH or in /usr/lib/postgresql/*/bin, or set KATABOX_TEST_POSTGRES=postgres://USER@HOST:PORT/DB)"
        ),
    }
}

/// A new empty database; returns its URL.
pub fn fresh_database() -> String {
    let pg = server();
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    let name = format!("kbtest_{}_{}_{n}", std::process::id(), nanos());
    pg.admin(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    pg.url(&name)
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u128)
        .unwrap_or(0)
}

impl Postgres {
    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}{}", self.base, self.query)
    }

    /// Runs one SQL statement on the `postgres` database.
    pub fn admin(&self, sql: &str) -> Result<(), String> {
        run_sql(&self.url("postgres"), sql)
    }
}

/// Runs SQL on the database at `url` (a small client of its own).
pub fn run_sql(url: &str, sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        let driver = tokio::spawn(conn);
        let r = client
            .batch_execute(sql)
            .await
            .map_err(|e| format!("{sql}: {e}"));
        drop(client);
        let _ = driver.await;
        r
    })
}

/// One number from SQL on the database at `url`.
pub fn query_i64(url: &str, sql: &str) -> Result<i64, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        let driver = tokio::spawn(conn);
        let r = client
            .query_one(sql, &[])
            .await
            .map_err(|e| format!("{sql}: {e}"))
            .and_then(|row| row.try_get::<_, i64>(0).map_err(|e| e.to_string()));
        drop(client);
        let _ = driver.await;
        r
    })
}

fn start() -> Result<Postgres, String> {
    if let Ok(url) = std::env::var("KATABOX_TEST_POSTGRES")
        && !url.trim().is_empty()
    {
        return external(url.trim());
    }
    let local = Local::start()?;
    Ok(Postgres {
        base: local.base(),
        query: local.query(),
    })
}

/// A server of this test process's own, which a test may stop and start
/// (to see what a restart of PostgreSQL does). Removed by the watcher.
pub struct Local {
    root: bool,
    pg_ctl: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Local {
    /// `initdb` and `pg_ctl start` (see the module docs).
    pub fn start() -> Result<Local, String> {
        let initdb = find_bin("initdb")?;
        let pg_ctl = find_bin("pg_ctl")?;
        let root = is_root();
        // Not tempfile's drop: the watcher removes it after the test process.
        let dir = tempfile::Builder::new()
            .prefix("katabox-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        if root {
            run(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        let data = dir.join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        run(as_postgres(root, &initdb).arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ]))?;
        let local = Local {
            root,
            pg_ctl,
            dir,
            data,
            port,
        };
        watch(root, &local.pg_ctl, &local.dir, &local.data)?;
        local.resume()?;
        Ok(local)
    }

    /// `postgres://postgres@localhost:PORT`.
    pub fn base(&self) -> String {
        format!("postgres://postgres@localhost:{}", self.port)
    }

    /// `?host=SOCKET_DIR`.
    pub fn query(&self) -> String {
        format!("?host={}", self.dir.display())
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}{}", self.base(), self.query())
    }

    /// Starts the (stopped) server again.
    pub fn resume(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        run(as_postgres(self.root, &self.pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .arg("-o")
            .arg(&opts)
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "start"]))
        .map_err(|e| {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            format!("{e}\n{log}")
        })
    }

    /// Stops the server at once (`-m immediate`: like a crash).
    pub fn halt(&self) -> Result<(), String> {
        run(as_postgres(self.root, &self.pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "stop", "-m", "immediate"]))
    }
}

fn external(url: &str) -> Result<Postgres, String> {
    // Split postgres://user@host:port/db?query into base and query.
    let (head, query) = match url.find('?') {
        Some(q) => (&url[..q], url[q..].to_string()),
        None => (url, String::new()),
    };
    let after = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[after..].find('/') {
        Some(slash) => head[..after + slash].to_string(),
        None => head.to_string(),
    };
    let pg = Postgres { base, query };
    pg.admin("SELECT 1")
        .map_err(|e| format!("KATABOX_TEST_POSTGRES does not answer: {e}"))?;
    Ok(pg)
}

/// Stops the server and removes its directory once this process is gone.
fn watch(root: bool, pg_ctl: &Path, dir: &Path, data: &Path) -> Result<(), String> {
    let stop = if root {
        format!(
            "runuser -u postgres -- {} -D {} stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "{} -D {} stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("starting the cleanup watcher: {e}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(root: bool, bin: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `name` on PATH, else in the newest /usr/lib/postgresql/*/bin.
fn find_bin(name: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin").join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{name}` was not found"))
}
