//! The HTTP server, bounded against slow and greedy clients: a cap on open connections (when
//! it is reached, the connection idle the longest makes room for the new one), a header-read
//! timeout from a request's first byte, an idle timeout between requests, a deadline and a
//! shared byte budget for request bodies read before they are verified, and the process's own
//! descriptor limit raised at start.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// How the server protects itself; every value has an environment setting (README.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; at the cap, the longest-idle one is closed for a new one.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, from their first byte.
    pub header_timeout: Duration,
    /// How long a connection may stay open with no request in progress (keep-alive, or a
    /// request whose headers are still trickling in). A keep-alive connection is kept this
    /// long whatever the header timeout, so that a load balancer in front, whose own idle
    /// timeout is shorter, never sends a request on a connection hereby has just closed.
    pub idle_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Bytes of request bodies read but not yet verified, across all connections.
    pub body_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(10),
            body_budget: 32 * 1024 * 1024,
        }
    }
}

/// How long a new connection is safe from being closed to make room for another.
const GRACE: Duration = Duration::from_secs(1);

/// How often a closing connection checks whether its last request has finished.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Raises this process's soft limit on open files to its hard limit; the limits before and
/// after (`None`: unlimited).
pub fn raise_descriptor_limit() -> std::io::Result<(Option<u64>, Option<u64>)> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let before = getrlimit(Resource::Nofile);
    // An "unlimited" hard limit still stops at the kernel's `nr_open` for descriptors.
    let target = before.maximum.or_else(|| {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|n| n.trim().parse().ok())
    });
    if target.is_some() && before.current != target {
        setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: target,
                maximum: before.maximum,
            },
        )?;
    }
    Ok((before.current, getrlimit(Resource::Nofile).current))
}

/// One open connection, as the cap sees it.
struct Tracked {
    /// When the last request finished (or the connection opened); `None` while one runs.
    idle_since: Mutex<Option<Instant>>,
    /// When the first bytes of the next request arrived, while its headers are incomplete.
    headers_since: Mutex<Option<Instant>>,
    /// Told when `headers_since` is set.
    headers_started: Notify,
    in_flight: AtomicUsize,
    /// Told to close, to make room for a new connection.
    evict: Notify,
    /// Already chosen to make room: not chosen again.
    evicted: std::sync::atomic::AtomicBool,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Tracked {
    /// Bytes arrived: with no request in progress, they begin the next request's headers.
    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            let mut since = locked(&self.headers_since);
            if since.is_none() {
                *since = Some(Instant::now());
                self.headers_started.notify_one();
            }
        }
    }
}

/// A connection's socket, telling its [`Tracked`] when bytes arrive (hyper's own header
/// timeout would also run while a keep-alive connection waits for its next request).
struct Watched {
    stream: TcpStream,
    tracked: Arc<Tracked>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.tracked.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Counts a request in progress on a connection for as long as it lives.
struct InFlight(Arc<Tracked>);

impl InFlight {
    fn start(t: Arc<Tracked>) -> InFlight {
        t.in_flight.fetch_add(1, Ordering::SeqCst);
        *locked(&t.idle_since) = None;
        *locked(&t.headers_since) = None;
        InFlight(t)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *locked(&self.0.idle_since) = Some(Instant::now());
        }
    }
}

#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<Tracked>>>,
    next: AtomicU64,
}

impl Registry {
    fn add(&self) -> (u64, Arc<Tracked>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let t = Arc::new(Tracked {
            idle_since: Mutex::new(Some(Instant::now())),
            headers_since: Mutex::new(None),
            headers_started: Notify::new(),
            in_flight: AtomicUsize::new(0),
            evict: Notify::new(),
            evicted: std::sync::atomic::AtomicBool::new(false),
        });
        locked(&self.open).insert(id, t.clone());
        (id, t)
    }

    fn remove(&self, id: u64) {
        locked(&self.open).remove(&id);
    }

    /// The connection idle the longest (not already asked to close): since when, and which.
    fn longest_idle(&self) -> Option<(Instant, Arc<Tracked>)> {
        let open = locked(&self.open);
        open.values()
            .filter(|t| !t.evicted.load(Ordering::SeqCst))
            .filter_map(|t| locked(&t.idle_since).map(|since| (since, t.clone())))
            .min_by_key(|(since, _)| *since)
    }

    /// Asks the connection idle the longest to close, once it has been idle for [`GRACE`]
    /// (a new connection gets that long to send its request); `false` when every connection
    /// is busy.
    async fn make_room(&self) -> bool {
        loop {
            match self.longest_idle() {
                None => return false,
                Some((since, t)) if since.elapsed() >= GRACE => {
                    t.evicted.store(true, Ordering::SeqCst);
                    t.evict.notify_one();
                    return true;
                }
                Some((since, _)) => tokio::time::sleep_until((since + GRACE).into()).await,
            }
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or memory: wait for some to be given back.
                    tracing::warn!(error = %e, "Could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                metrics::counter!("hereby_connections_shed_total").increment(1);
                // Meanwhile new connections wait in the listen queue.
                registry.make_room().await;
                match tokio::time::timeout(limits.header_timeout, slots.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(permit)) => permit,
                    _ => continue,
                }
            }
        };
        // Registered before its task first runs, so that it can be asked to make room at once.
        let (id, tracked) = registry.add();
        let slot = Slot {
            id,
            tracked,
            registry: registry.clone(),
            _permit: permit,
        };
        connections.spawn(connection(
            stream,
            slot,
            router.clone(),
            limits.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("Some connections did not finish within 20 s of shutdown");
    }
    Ok(())
}

/// Completes once the connection has had no request in progress for `limit`.
async fn idle_for(t: &Tracked, limit: Duration) {
    loop {
        let since = *locked(&t.idle_since);
        match since {
            Some(since) if since.elapsed() >= limit => return,
            Some(since) => tokio::time::sleep_until((since + limit).into()).await,
            None => tokio::time::sleep(limit).await,
        }
    }
}

/// Completes once a request's headers have been arriving for `limit` without being complete.
async fn headers_for(t: &Tracked, limit: Duration) {
    loop {
        let since = *locked(&t.headers_since);
        match since {
            Some(since) if since.elapsed() >= limit => return,
            Some(since) => tokio::time::sleep_until((since + limit).into()).await,
            None => t.headers_started.notified().await,
        }
    }
}

/// A connection's place under the cap: given back, and forgotten, when the connection ends.
struct Slot {
    id: u64,
    tracked: Arc<Tracked>,
    registry: Arc<Registry>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

async fn connection(
    stream: TcpStream,
    slot: Slot,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let tracked = slot.tracked.clone();
    let requests = tracked.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let in_flight = InFlight::start(requests.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(req.map(Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let stream = Watched {
        stream,
        tracked: tracked.clone(),
    };
    // hyper's header timeout is off: it would also close a keep-alive connection waiting for
    // its next request, whatever the idle timeout. `headers_for` runs from the first byte.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        let grace_over = async {
            match closing {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let quiet = tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "A connection ended with an error");
                }
                break;
            }
            _ = idle_for(&tracked, limits.idle_timeout), if closing.is_none() => true,
            _ = headers_for(&tracked, limits.header_timeout), if closing.is_none() => true,
            _ = tracked.evict.notified(), if closing.is_none() => true,
            _ = stop.changed(), if closing.is_none() => false,
            _ = grace_over => true,
        };
        // Nothing in progress (a keep-alive wait, or headers still trickling in): close now.
        if quiet && tracked.in_flight.load(Ordering::SeqCst) == 0 {
            break;
        }
        if closing.is_none() {
            conn.as_mut().graceful_shutdown();
        }
        // A request is running: let it finish (its body and handler have deadlines).
        closing = Some(tokio::time::Instant::now() + CLOSE_GRACE);
    }
    drop(slot);
}

/// The share of [`Limits::body_budget`] and the deadline for reading one request's body.
#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    deadline: Duration,
    max_body: usize,
}

impl BodyBudget {
    pub fn new(limits: &Limits, max_body: usize) -> BodyBudget {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(
                limits.body_budget.min(Semaphore::MAX_PERMITS),
            )),
            deadline: limits.body_timeout,
            max_body,
        }
    }
}

/// Middleware for routes whose bodies are read before they are verified: the body must
/// arrive within the deadline, and while it is held it counts against the shared budget; a
/// request that would overdraw it gets 503 (Slack retries).
pub async fn bounded_body(State(budget): State<BodyBudget>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > budget.max_body as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(budget.deadline, read_within(&budget, body)).await {
        Err(_) => {
            metrics::counter!("hereby_slow_bodies_total").increment(1);
            (
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time",
            )
                .into_response()
        }
        Ok(Err(refusal)) => refusal,
        Ok(Ok((bytes, held))) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            drop(held);
            response
        }
    }
}

async fn read_within(
    budget: &BodyBudget,
    mut body: Body,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), Response> {
    let mut buf: Vec<u8> = Vec::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| (StatusCode::BAD_REQUEST, "request body broken off").into_response())?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if buf.len() + chunk.len() > budget.max_body {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response());
        }
        let n = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        let permit = budget
            .bytes
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| {
                metrics::counter!("hereby_bodies_over_budget_total").increment(1);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many requests in progress, please retry",
                )
                    .into_response()
            })?;
        match held.as_mut() {
            Some(h) => h.merge(permit),
            None => held = Some(permit),
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(buf), held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_descriptor_limit_is_raised_to_the_hard_limit() {
        let (_, after) = raise_descriptor_limit().unwrap();
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(after, now.current);
        if now.maximum.is_some() {
            assert_eq!(now.current, now.maximum);
        }
    }

    #[tokio::test]
    async fn the_connection_idle_longest_is_the_one_asked_to_make_room() {
        let registry = Registry::default();
        let (_, oldest) = registry.add();
        let (_, busy) = registry.add();
        let (_, newer) = registry.add();
        let _running = InFlight::start(busy.clone());
        *locked(&oldest.idle_since) = Some(Instant::now() - GRACE * 2);
        *locked(&newer.idle_since) = Some(Instant::now() - GRACE);
        assert!(registry.make_room().await);
        let told = tokio::time::timeout(Duration::from_secs(5), oldest.evict.notified()).await;
        assert!(told.is_ok());
        assert!(oldest.evicted.load(Ordering::SeqCst));
        assert!(!newer.evicted.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_cap_with_every_connection_busy_makes_no_room() {
        let registry = Registry::default();
        let (_, busy) = registry.add();
        let _running = InFlight::start(busy);
        assert!(!registry.make_room().await);
    }
}
