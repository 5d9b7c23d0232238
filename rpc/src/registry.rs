//! Registration: handlers for the methods of a [`MethodTable`], each checked against its
//! definition ([`RpcMethod`]), finished into an [`RpcApi`] with its OpenRPC document;
//! subscriptions fed from broadcast channels that drop subscribers too slow to keep up.

use std::sync::Arc;

use jsonrpsee::server::PendingSubscriptionSink;
use jsonrpsee::types::Params;
use jsonrpsee::{Extensions, RpcModule};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::RpcError;
use crate::methods::{Method as RpcMethod, MethodSpec, MethodTable, schema_of};
use crate::metrics::RpcMetrics;
use crate::openrpc::{Registered, document};
use crate::params::RpcParams;

/// Collects handlers for the methods of a table (each one's definition: [`RpcMethod`]).
pub struct Registry<Ctx: Send + Sync + 'static> {
    module: RpcModule<Ctx>,
    table: Arc<MethodTable>,
    registered: Vec<Registered>,
    metrics: Arc<RpcMetrics>,
}

/// Where a subscription's items come from: a broadcast channel of events and a function that
/// turns each event into zero or more notifications.
pub struct Feed<E, T> {
    /// The events.
    pub events: broadcast::Receiver<E>,
    /// Maps an event to the notifications it causes.
    pub map: Box<dyn FnMut(E) -> Vec<T> + Send>,
    /// Notifications sent before any event (a backfill), waiting for room rather than
    /// dropping a slow subscriber.
    pub initial: Vec<T>,
}

impl<Ctx: Send + Sync + 'static> Registry<Ctx> {
    /// A registry for the methods of `methods` whose handlers receive `ctx`.
    ///
    /// # Panics
    /// If `methods` is not a valid table ([`MethodTable::new`]).
    pub fn new(ctx: Ctx, methods: &'static [MethodSpec]) -> Self {
        Self::from_arc(Arc::new(ctx), methods)
    }

    /// A registry for the methods of `methods` whose handlers share `ctx` with the rest of
    /// the program.
    ///
    /// # Panics
    /// If `methods` is not a valid table ([`MethodTable::new`]).
    pub fn from_arc(ctx: Arc<Ctx>, methods: &'static [MethodSpec]) -> Self {
        let table = Arc::new(MethodTable::new(methods));
        Registry {
            module: RpcModule::from_arc(ctx),
            metrics: Arc::new(RpcMetrics::new(table.clone())),
            table,
            registered: Vec::new(),
        }
    }

    /// Serves method `M` with `handler`, which gets `M`'s decoded parameters and must answer
    /// `M`'s result type.
    ///
    /// # Panics
    /// If `M` is not in this registry's table, is a subscription, or is registered twice.
    pub fn method<M, F, Fut>(&mut self, handler: F)
    where
        M: RpcMethod,
        M::Result: Clone,
        M::Params: Send,
        F: Fn(M::Params, Arc<Ctx>) -> Fut + Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<M::Result, RpcError>> + Send + 'static,
    {
        self.check_defined::<M>();
        self.register::<M::Result, _, _>(M::SPEC.name, move |params: RpcParams, ctx| {
            let handler = handler.clone();
            let decoded = M::decode(&params);
            async move { handler(decoded?, ctx).await }
        });
    }

    /// Serves subscription `M`: `feed` gets `M`'s decoded parameters and returns the events to
    /// follow, each mapped to `M`'s notifications (slow subscribers are dropped with a close notification saying why).
    ///
    /// # Panics
    /// If `M` is not a subscription of this registry's table, or is registered twice.
    pub fn subscription<M, E, F>(&mut self, feed: F)
    where
        M: RpcMethod,
        E: Clone + Send + 'static,
        F: Fn(M::Params, Arc<Ctx>) -> Result<Feed<E, M::Result>, RpcError>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        self.check_defined::<M>();
        self.register_subscription::<E, M::Result, _>(M::SPEC.name, move |params, ctx| {
            feed(M::decode(&params)?, ctx)
        });
    }

    fn check_defined<M: RpcMethod>(&self) {
        let name = M::SPEC.name;
        let entry = self.spec(name);
        assert!(
            entry.param_names() == M::SPEC.param_names() && entry.access == M::SPEC.access,
            "{name}: the registry's table has another definition"
        );
    }

    fn spec(&self, name: &'static str) -> &'static MethodSpec {
        self.table
            .find(name)
            .unwrap_or_else(|| panic!("RPC method {name} is not in the method table"))
    }

    /// Registers `handler` for `name`. The handler gets the decoded-on-demand parameters; calls
    /// with surplus parameters are refused before it runs. The result type's schema goes into
    /// the OpenRPC document.
    ///
    /// # Panics
    /// If `name` is not in the table, is a subscription, or is registered twice: all
    /// programming errors that the node's start-up test catches.
    fn register<R, F, Fut>(&mut self, name: &'static str, handler: F)
    where
        R: Serialize + JsonSchema + Clone + Send + 'static,
        F: Fn(RpcParams, Arc<Ctx>) -> Fut + Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, RpcError>> + Send + 'static,
    {
        let spec = self.spec(name);
        assert!(spec.subscription.is_none(), "{name} is a subscription");
        let names = spec.param_names();
        self.module
            .register_async_method(
                name,
                move |params: Params<'static>, ctx: Arc<Ctx>, _: Extensions| {
                    let handler = handler.clone();
                    let names = names.clone();
                    async move {
                        let params = RpcParams::new(&params)?;
                        params.finish(&names)?;
                        handler(params, ctx).await
                    }
                },
            )
            .unwrap_or_else(|e| panic!("RPC method {name}: {e}"));
        self.registered.push(Registered {
            name,
            result: schema_of::<R>,
        });
    }

    /// Registers the subscription `name` (and its unsubscribe method): `feed` checks the
    /// parameters and returns the events to follow. A subscriber that lets the connection's
    /// buffer fill up, or falls so far behind that events are lost, is dropped with a close
    /// notification saying so, and counted.
    ///
    /// # Panics
    /// As [`Registry::register`], and if `name` is not a subscription in the table.
    fn register_subscription<E, T, F>(&mut self, name: &'static str, feed: F)
    where
        E: Clone + Send + 'static,
        T: Serialize + JsonSchema + Send + 'static,
        F: Fn(RpcParams, Arc<Ctx>) -> Result<Feed<E, T>, RpcError> + Clone + Send + Sync + 'static,
    {
        let spec = self.spec(name);
        let sub = spec
            .subscription
            .unwrap_or_else(|| panic!("{name} is not a subscription"));
        let names = spec.param_names();
        let metrics = self.metrics.clone();
        self.module
            .register_subscription(
                name,
                sub.notification,
                sub.unsubscribe,
                move |params: Params<'static>,
                      pending: PendingSubscriptionSink,
                      ctx: Arc<Ctx>,
                      _: Extensions| {
                    let feed = feed.clone();
                    let names = names.clone();
                    let metrics = metrics.clone();
                    async move {
                        // Opening a feed may read storage (a backfill): off the async runtime.
                        let opened = match RpcParams::new(&params)
                            .and_then(|p| p.finish(&names).map(|()| p))
                        {
                            Ok(p) => tokio::task::spawn_blocking(move || feed(p, ctx))
                                .await
                                .unwrap_or_else(|e| {
                                    Err(crate::rpc_error(
                                        crate::ErrorCode::InternalError,
                                        format!("opening the subscription failed: {e}"),
                                    ))
                                }),
                            Err(e) => Err(e),
                        };
                        let feed = match opened {
                            Ok(feed) => feed,
                            Err(e) => {
                                pending.reject(e).await;
                                return Ok(());
                            }
                        };
                        let Ok(sink) = pending.accept().await else {
                            return Ok(());
                        };
                        metrics.subscriptions_open.inc();
                        let outcome = pump(sink, feed).await;
                        metrics.subscriptions_open.dec();
                        if outcome.is_err() {
                            metrics.subscriptions_dropped.inc();
                        }
                        outcome.map_err(jsonrpsee::core::SubscriptionError::from)
                    }
                },
            )
            .unwrap_or_else(|e| panic!("RPC subscription {name}: {e}"));
        self.registered.push(Registered {
            name,
            result: schema_of::<T>,
        });
        // The unsubscribe method is registered by jsonrpsee; it answers a boolean.
        self.registered.push(Registered {
            name: sub.unsubscribe,
            result: schema_of::<bool>,
        });
    }

    /// Names of the registered methods.
    pub fn method_names(&self) -> Vec<&'static str> {
        self.module.method_names().collect()
    }

    /// Finishes the API: generates the OpenRPC document of the registered methods and serves
    /// it as `rpc.discover`.
    pub fn into_api(mut self) -> RpcApi<Ctx> {
        self.registered.push(Registered {
            name: "rpc.discover",
            result: schema_of::<crate::openrpc::Document>,
        });
        let doc = document(&self.table, &self.registered);
        let text: Arc<str> = serde_json::to_string(&doc)
            .expect("a JSON value serializes")
            .into();
        let doc = Arc::new(doc);
        self.module
            .register_method("rpc.discover", move |params, _, _| {
                RpcParams::new(&params)?.finish(&[])?;
                Ok::<_, RpcError>(Value::clone(&doc))
            })
            .unwrap_or_else(|e| panic!("rpc.discover: {e}"));
        RpcApi {
            module: self.module,
            document: text,
            metrics: self.metrics,
            table: self.table,
        }
    }
}

/// Forwards events to the subscriber until it unsubscribes or the node stops (`Ok`), or until
/// it is too slow (`Err` with the reason, sent as the close notification).
async fn pump<E: Clone, T: Serialize>(
    mut sink: jsonrpsee::SubscriptionSink,
    mut feed: Feed<E, T>,
) -> Result<(), String> {
    use jsonrpsee::core::server::TrySendError;
    for item in std::mem::take(&mut feed.initial) {
        let Ok(raw) = serde_json::value::to_raw_value(&item) else {
            continue;
        };
        if sink.send(raw).await.is_err() {
            return Ok(());
        }
    }
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return Ok(()),
            event = feed.events.recv() => event,
        };
        let event = match event {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                return Err(format!(
                    "subscription dropped: the subscriber fell {missed} events behind"
                ));
            }
        };
        for item in (feed.map)(event) {
            let Ok(raw) = serde_json::value::to_raw_value(&item) else {
                continue;
            };
            match sink.try_send(raw) {
                Ok(()) => {}
                Err(TrySendError::Closed(_)) => return Ok(()),
                Err(TrySendError::Full(_)) => {
                    return Err("subscription dropped: the subscriber is too slow (the \
                                connection's message buffer is full)"
                        .to_owned());
                }
            }
        }
    }
}

/// The finished API: the jsonrpsee module, its OpenRPC document, and the RPC metrics.
pub struct RpcApi<Ctx> {
    pub(crate) module: RpcModule<Ctx>,
    pub(crate) document: Arc<str>,
    pub(crate) metrics: Arc<RpcMetrics>,
    pub(crate) table: Arc<MethodTable>,
}

impl<Ctx> RpcApi<Ctx> {
    /// The OpenRPC document, as JSON text.
    pub fn document(&self) -> &str {
        &self.document
    }

    /// Names of the served methods (including `rpc.discover` and unsubscribe methods).
    pub fn method_names(&self) -> Vec<&'static str> {
        self.module.method_names().collect()
    }
}
