//! `ij serve`: the routes of `route_table::ROUTES` on axum (tokio and hyper are
//! already in the tree through polars). Every handler calls `routes::answer`;
//! what is not a route is a JSON 404, a path and query longer than
//! `MAX_URI_LEN` a 414, and at most `MAX_IN_FLIGHT` answers are built at
//! once (bounded memory under load).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawPathParams, RawQuery};
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;

use crate::api::query::{ApiError, MAX_URI_LEN};
use crate::api::route_table::{RouteId, ROUTES};
use crate::api::routes::{answer, Reply};
use crate::api::Api;

/// Answers built at once; the others wait their turn.
pub const MAX_IN_FLIGHT: usize = 256;

struct State {
    api: Api,
    permits: Semaphore,
}

fn response(reply: Reply) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, reply.content_type)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(Body::from(reply.body))
        .expect("a valid response")
}

async fn handle(
    state: Arc<State>,
    id: RouteId,
    uri: Uri,
    params: Vec<String>,
    query: Option<String>,
) -> Response {
    if uri.path().len() + query.as_deref().map_or(0, str::len) > MAX_URI_LEN {
        let e = ApiError {
            status: 414,
            message: format!("Requête trop longue (au plus {MAX_URI_LEN} caractères)"),
            data: None,
        };
        return response(Reply::error(&e));
    }
    let _permit = state
        .permits
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let refs: Vec<&str> = params.iter().map(String::as_str).collect();
    response(answer(&state.api, id, &refs, query.as_deref()))
}

/// The router of every route of `ROUTES`.
pub fn router(api: Api) -> Router {
    let state = Arc::new(State {
        api,
        permits: Semaphore::new(MAX_IN_FLIGHT),
    });
    let mut router = Router::new();
    for route in ROUTES {
        let id = route.id;
        if route.path_params.is_empty() {
            let s = state.clone();
            router = router.route(
                route.path,
                get(move |uri: Uri, RawQuery(q): RawQuery| {
                    handle(s.clone(), id, uri, Vec::new(), q)
                }),
            );
        } else {
            let s = state.clone();
            router = router.route(
                route.path,
                get(
                    move |uri: Uri, path: RawPathParams, RawQuery(q): RawQuery| {
                        let values = path.iter().map(|(_, v)| v.to_string()).collect();
                        handle(s.clone(), id, uri, values, q)
                    },
                ),
            );
        }
        if route.suffixed {
            for ext in route.formats {
                let s = state.clone();
                let ext = ext.to_string();
                router = router.route(
                    &format!("{}.{ext}", route.path),
                    get(move |uri: Uri, RawQuery(q): RawQuery| {
                        handle(s.clone(), id, uri, vec![ext.clone()], q)
                    }),
                );
            }
        }
    }
    router.fallback(|uri: Uri| async move {
        let e = ApiError::not_found(format!(
            "Route inconnue : {} (voir /api/doc)",
            crate::api::query::shorten(uri.path())
        ));
        response(Reply::error(&e))
    })
}

/// Serves `api` on `addr` until the process ends; prints the address it
/// listens on (useful with port 0) on stdout once ready.
pub fn serve(api: Api, addr: SocketAddr, threads: usize) -> crate::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| crate::Error::usage(format!("cannot start the server's runtime: {e}")))?;
    let version = api.data.version.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| crate::Error::usage(format!("cannot listen on {addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| crate::Error::usage(format!("cannot listen on {addr}: {e}")))?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ij serve: http://{local}/api (release {version})");
            let _ = out.flush();
        }
        axum::serve(listener, router(api))
            .await
            .map_err(|e| crate::Error::usage(format!("the server stopped: {e}")))
    })
}
