//! `threadlens serve`: a local stand-in for Perspective API's `comments:analyze` and
//! `comments:suggestscore`, so moderation tools built on Perspective (Coral Talk and others)
//! keep working offline when it shuts down. HTTP is axum on tokio; scoring goes through the
//! micro-batcher (`batcher`) into the same scoring path as `threadlens score`; the wire format
//! and its errors are in `api`, moderator feedback in `feedback`, Prometheus metrics in
//! `metrics`. Nothing of an analyzed comment is written anywhere (with or without
//! `doNotStore`); only suggestscore decisions go to the feedback file. Keys are never logged.

pub mod api;
pub mod batcher;
pub mod feedback;
pub mod metrics;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use api::ApiError;
use batcher::{BatchSettings, Batcher, Refused};
use feedback::Feedback;
use metrics::Metrics;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Accepted `key` query values; empty: no key needed.
    pub api_keys: Vec<String>,
    pub batch: BatchSettings,
    /// Longest time a request waits for its scores.
    pub timeout: Duration,
    /// Largest request body read.
    pub max_body: usize,
    pub limits: ConnLimits,
}

/// What a slow, idle or half-sent connection may hold (issue 34 case 5: 300 idle connections
/// used up a 256-descriptor limit, slowloris clients were held as long as they liked, and
/// SIGTERM waited for ever on a half-sent request).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Connections open at once; one more is closed at accept, before it is read.
    pub max_connections: usize,
    /// Longest wait for a request's whole header, from the first byte or, on a kept-alive
    /// connection, from the end of the previous answer: idle and slowloris connections close.
    pub header_timeout: Duration,
    /// Longest time reading one request body (then 408).
    pub body_timeout: Duration,
    /// Longest wait, after SIGTERM or Ctrl-C, for the requests in flight; then the rest close.
    pub drain: Duration,
}

impl Default for ConnLimits {
    fn default() -> ConnLimits {
        ConnLimits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            drain: Duration::from_secs(30),
        }
    }
}

struct App {
    batcher: Batcher,
    metrics: Arc<Metrics>,
    keys: Vec<String>,
    feedback: Option<Feedback>,
    timeout: Duration,
    max_body: usize,
    body_timeout: Duration,
}

/// The analyze and suggestscore paths, as Perspective serves them.
pub const ANALYZE_PATH: &str = "/v1alpha1/comments:analyze";
pub const SUGGEST_PATH: &str = "/v1alpha1/comments:suggestscore";

/// Runs the server until SIGTERM or Ctrl-C, then answers the requests in flight and returns.
/// `on_listen` is told the bound address (the port, when 0 was asked for).
pub fn run(
    scorer: crate::score::scorer::Scorer,
    opts: ServeOptions,
    feedback: Option<Feedback>,
    on_listen: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::default());
    let (batcher, worker) = Batcher::start(scorer, opts.batch, metrics.clone());
    let app = Arc::new(App {
        batcher,
        metrics,
        keys: opts.api_keys.clone(),
        feedback,
        timeout: opts.timeout,
        max_body: opts.max_body,
        body_timeout: opts.limits.body_timeout,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        on_listen(listener.local_addr()?);
        let router = Router::new()
            .route(ANALYZE_PATH, post(analyze))
            .route(SUGGEST_PATH, post(suggest))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/$discovery/rest", get(discovery))
            .route("/metrics", get(metrics_text))
            .with_state(app);
        accept_loop(listener, router, opts.limits).await;
        anyhow::Ok(())
    })?;
    // Every handle to the batcher is gone with the router: the worker finishes and stops.
    drop(runtime);
    let _ = worker.join();
    Ok(())
}

/// Accepts connections until SIGTERM or Ctrl-C, each served by hyper with the header timeout
/// and held by a permit of [`ConnLimits::max_connections`]; then stops accepting, lets the
/// requests in flight finish for at most [`ConnLimits::drain`], and returns (what is still
/// open is closed when the runtime goes).
async fn accept_loop(listener: tokio::net::TcpListener, router: Router, limits: ConnLimits) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors or a connection reset before accept: wait a little
                // rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream); // full: closed at once, so it holds nothing
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.drain, graceful.shutdown()).await;
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

/// Most bytes of an over-limit body read and discarded before answering (beyond it the
/// connection is just closed).
const DRAIN_LIMIT: usize = 64 << 20;

fn json_response(code: u16, body: &serde_json::Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.code, &e.body())
}

impl App {
    /// Refuses a request without a valid key when keys are configured.
    fn check_key(&self, query: &HashMap<String, String>) -> Result<(), ApiError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        match query.get("key") {
            Some(k) if self.keys.iter().any(|x| x == k) => Ok(()),
            Some(_) => Err(ApiError {
                code: 403,
                status: "PERMISSION_DENIED",
                message: "API key not valid. Please pass a valid API key.".into(),
            }),
            None => Err(ApiError {
                code: 403,
                status: "PERMISSION_DENIED",
                message: "The request is missing a valid API key.".into(),
            }),
        }
    }

    /// What every API request does first: check the key, then read the body within its limit.
    async fn admit(
        &self,
        query: &HashMap<String, String>,
        body: Body,
    ) -> Result<axum::body::Bytes, ApiError> {
        self.check_key(query)?;
        match tokio::time::timeout(self.body_timeout, self.read_body(body)).await {
            Ok(read) => read,
            Err(_) => Err(ApiError {
                code: 408,
                status: "DEADLINE_EXCEEDED",
                message: format!(
                    "The request body took longer than {:?} to arrive.",
                    self.body_timeout
                ),
            }),
        }
    }

    /// Reads the body within `max_body`. A body over the limit is still read to its end (up
    /// to [`DRAIN_LIMIT`] more bytes) and discarded before the 400 goes out, so the client gets
    /// the answer on a cleanly closed connection rather than a reset while it is still sending.
    async fn read_body(&self, mut body: Body) -> Result<axum::body::Bytes, ApiError> {
        use axum::body::HttpBody;
        let mut buf: Vec<u8> = Vec::new();
        let mut over: Option<usize> = None;
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
            let data = match frame {
                None => break,
                Some(Err(_)) => {
                    return Err(ApiError {
                        code: 400,
                        status: "INVALID_ARGUMENT",
                        message: "The request body could not be read.".into(),
                    })
                }
                Some(Ok(f)) => match f.into_data() {
                    Ok(d) => d,
                    Err(_) => continue,
                },
            };
            match over.as_mut() {
                Some(drained) => {
                    *drained += data.len();
                    if *drained > DRAIN_LIMIT {
                        break;
                    }
                }
                None if buf.len() + data.len() > self.max_body => over = Some(data.len()),
                None => buf.extend_from_slice(&data),
            }
        }
        if over.is_some() {
            return Err(ApiError {
                code: 400,
                status: "INVALID_ARGUMENT",
                message: format!(
                    "Request payload too large (the limit is {} bytes).",
                    self.max_body
                ),
            });
        }
        Ok(buf.into())
    }

    async fn analyze(
        &self,
        query: &HashMap<String, String>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let body = self.admit(query, body).await?;
        let a = api::parse_analyze(&body)?;
        let context = a
            .attributes
            .iter()
            .any(|(_, s, _)| matches!(s, api::Source::Stance(_)))
            .then(|| a.context.clone())
            .flatten();
        let rx = self
            .batcher
            .submit(a.text.clone(), context)
            .map_err(|r| match r {
                Refused::Full => ApiError {
                    code: 429,
                    status: "RESOURCE_EXHAUSTED",
                    message: "The scoring queue is full; retry shortly.".into(),
                },
                Refused::Stopped => ApiError {
                    code: 503,
                    status: "UNAVAILABLE",
                    message: "The server is shutting down.".into(),
                },
            })?;
        let scores = match tokio::time::timeout(self.timeout, rx).await {
            Err(_) => {
                return Err(ApiError {
                    code: 504,
                    status: "DEADLINE_EXCEEDED",
                    message: format!("Scoring took longer than {:?}.", self.timeout),
                })
            }
            Ok(Err(_)) | Ok(Ok(Err(_))) => {
                return Err(ApiError {
                    code: 500,
                    status: "INTERNAL",
                    message: "Scoring failed.".into(),
                })
            }
            Ok(Ok(Ok(s))) => s,
        };
        let r = api::analyze_response(&a, &scores);
        Ok(json_response(
            200,
            &serde_json::to_value(r).unwrap_or_default(),
        ))
    }

    async fn suggest(
        &self,
        query: &HashMap<String, String>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let body = self.admit(query, body).await?;
        let s = api::parse_suggest(&body)?;
        if let Some(fb) = &self.feedback {
            if !s.labels.iter().any(|(a, _)| a == feedback::ATTRIBUTE) {
                return Err(ApiError::invalid(format!(
                    "This server records suggested scores for {} only.",
                    feedback::ATTRIBUTE
                )));
            }
            fb.record(&s).map_err(|e| ApiError {
                code: 500,
                status: "INTERNAL",
                message: format!("Could not record the suggested score: {e}"),
            })?;
        }
        let mut body = serde_json::Map::new();
        if let Some(t) = &s.client_token {
            body.insert("clientToken".into(), serde_json::Value::String(t.clone()));
        }
        Ok(json_response(200, &serde_json::Value::Object(body)))
    }
}

/// Answers a request, recording its status and latency.
fn finish(
    app: &App,
    endpoint: &'static str,
    start: Instant,
    r: Result<Response, ApiError>,
) -> Response {
    let response = r.unwrap_or_else(|e| error_response(&e));
    app.metrics.request(
        endpoint,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

async fn analyze(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let start = Instant::now();
    let r = app.analyze(&query, body).await;
    finish(&app, "analyze", start, r)
}

async fn suggest(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let start = Instant::now();
    let r = app.suggest(&query, body).await;
    finish(&app, "suggestscore", start, r)
}

/// The API's discovery document (written for this server, in Google's discovery format), so
/// Google's client libraries work with only the discovery URL changed:
/// `discoveryServiceUrl="http://HOST/$discovery/rest?version=v1alpha1"`.
const DISCOVERY: &str = include_str!("discovery.json");

async fn discovery(headers: axum::http::HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        DISCOVERY.replace("{ROOT}", &format!("http://{host}/")),
    )
        .into_response()
}

async fn metrics_text(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}
