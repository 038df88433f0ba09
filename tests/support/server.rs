//! A real `katabox serve` process on a free loopback port, with its own data
//! directory, killed when dropped.

use super::http::{self, Response};
use serde_json::Value as J;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin token the test servers use.
pub const TOKEN: &str = "katabox-test-token-0123456789abcdef";

/// A running server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

/// A free port on 127.0.0.1.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local address")
}

impl Server {
    /// Starts `katabox serve` on a fresh data directory.
    pub fn start(bin: &str, extra: &[&str]) -> Result<Server, String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = tmp.path().join("data");
        let mut s = Server::start_on(bin, &data, extra)?;
        s._tmp = Some(tmp);
        Ok(s)
    }

    /// Starts `katabox serve` on a fresh data directory, its standard
    /// error (the request log) written to `log`.
    pub fn start_logged(bin: &str, extra: &[&str], log: &Path) -> Result<Server, String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = tmp.path().join("data");
        let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let mut s = Server::spawn(bin, &data, extra, Stdio::from(file))?;
        s._tmp = Some(tmp);
        Ok(s)
    }

    /// Starts `katabox serve` on the given data directory.
    pub fn start_on(bin: &str, data: &Path, extra: &[&str]) -> Result<Server, String> {
        Server::spawn(bin, data, extra, Stdio::null())
    }

    fn spawn(bin: &str, data: &Path, extra: &[&str], stderr: Stdio) -> Result<Server, String> {
        let addr = free_addr();
        let child = Command::new(bin)
            .arg("serve")
            .arg("--data")
            .arg(data)
            .arg("--listen")
            .arg(addr.to_string())
            .args(extra)
            .env("KATABOX_ADMIN_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawning {bin}: {e}"))?;
        let mut server = Server {
            child,
            addr,
            data: data.to_path_buf(),
            _tmp: None,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("katabox serve exited early: {status}"));
            }
            if Instant::now() > deadline {
                return Err("katabox serve did not listen within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a request.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, String> {
        http::send(self.addr, method, target, headers, body)
    }

    /// Calls the admin API with a JSON body; returns the status and the JSON answer.
    pub fn api(&self, method: &str, path: &str, body: Option<&J>) -> Result<(u16, J), String> {
        let mut headers = vec![("Authorization".to_string(), format!("Bearer {TOKEN}"))];
        let bytes = match body {
            Some(b) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                serde_json::to_vec(b).map_err(|e| e.to_string())?
            }
            None => Vec::new(),
        };
        let r = self.request(method, path, &headers, &bytes)?;
        let json = if r.body.is_empty() {
            J::Null
        } else {
            serde_json::from_slice(&r.body).map_err(|e| {
                format!(
                    "{method} {path}: answer is not JSON ({e}): {}",
                    String::from_utf8_lossy(&r.body)
                )
            })?
        };
        Ok((r.status, json))
    }

    /// Sends SIGKILL and waits.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Server {
    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The server's process id (for /proc/<pid>/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (a graceful shutdown).
    pub fn terminate(&self) -> Result<(), String> {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if ok {
            Ok(())
        } else {
            Err("kill -TERM failed".into())
        }
    }

    /// Waits up to `timeout` for the process to exit; its success.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<bool> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// True while the process has not exited.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}
