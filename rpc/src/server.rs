//! The server: one port for HTTP and WebSocket, limits from the configuration, and a
//! [`Registry`] that only accepts handlers for methods in [`crate::METHODS`].

use std::net::SocketAddr;
use std::sync::Arc;

use i8o8i_config::RpcConfig;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::Params;
use jsonrpsee::{Extensions, RpcModule};
use serde::Serialize;

use crate::error::RpcError;
use crate::methods::find;
use crate::params::RpcParams;

/// Collects handlers for the methods of the table.
pub struct Registry<Ctx: Send + Sync + 'static> {
    module: RpcModule<Ctx>,
}

impl<Ctx: Send + Sync + 'static> Registry<Ctx> {
    /// A registry whose handlers receive `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Registry {
            module: RpcModule::new(ctx),
        }
    }

    /// A registry whose handlers share `ctx` with the rest of the program.
    pub fn from_arc(ctx: Arc<Ctx>) -> Self {
        Registry {
            module: RpcModule::from_arc(ctx),
        }
    }

    /// Registers `handler` for `name`. The handler gets the decoded-on-demand parameters; calls
    /// with surplus parameters are refused before it runs.
    ///
    /// # Panics
    /// If `name` is not in [`crate::METHODS`] or is registered twice: both are programming
    /// errors that the node's start-up test catches.
    pub fn register<R, F, Fut>(&mut self, name: &'static str, handler: F)
    where
        R: Serialize + Clone + Send + 'static,
        F: Fn(RpcParams, Arc<Ctx>) -> Fut + Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, RpcError>> + Send + 'static,
    {
        let spec =
            find(name).unwrap_or_else(|| panic!("RPC method {name} is not in the method table"));
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
    }

    /// Names of the registered methods.
    pub fn method_names(&self) -> Vec<&'static str> {
        self.module.method_names().collect()
    }

    /// The module, to start a server with.
    pub fn into_module(self) -> RpcModule<Ctx> {
        self.module
    }
}

/// A running server.
#[derive(Debug)]
pub struct RpcServer {
    handle: ServerHandle,
    addr: SocketAddr,
}

impl RpcServer {
    /// Binds `config.addr` (port 0 picks a free port) and serves `module` over HTTP and
    /// WebSocket with the configured limits.
    ///
    /// # Errors
    /// The I/O error if the address cannot be bound.
    pub async fn start<Ctx: Send + Sync + 'static>(
        config: &RpcConfig,
        module: RpcModule<Ctx>,
    ) -> std::io::Result<RpcServer> {
        let server_config = ServerConfig::builder()
            .max_request_body_size(config.max_request_bytes)
            .max_response_body_size(config.max_response_bytes)
            .max_connections(config.max_connections)
            .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
            .build();
        let server = Server::builder()
            .set_config(server_config)
            .build(config.addr)
            .await?;
        let addr = server.local_addr()?;
        let handle = server.start(module);
        tracing::info!(%addr, "JSON-RPC server listening (HTTP and WebSocket)");
        Ok(RpcServer { handle, addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, rpc_error};
    use jsonrpsee::core::client::ClientT;
    use jsonrpsee::http_client::HttpClientBuilder;
    use jsonrpsee::rpc_params;

    #[tokio::test]
    async fn serves_registered_methods_and_names_bad_params() {
        let mut reg = Registry::new(41u64);
        reg.register(
            "chain_getBlockHash",
            |p: RpcParams, ctx: Arc<u64>| async move {
                let height: u64 = p.required(0, "height")?;
                if height > 100 {
                    return Err(rpc_error(
                        ErrorCode::NotFound,
                        format!("no block at height {height}"),
                    ));
                }
                Ok(format!("{}", *ctx + height))
            },
        );
        let config = RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..RpcConfig::default()
        };
        let server = RpcServer::start(&config, reg.into_module()).await.unwrap();
        let client = HttpClientBuilder::default()
            .build(format!("http://{}", server.local_addr()))
            .unwrap();

        let ok: String = client
            .request("chain_getBlockHash", rpc_params![1])
            .await
            .unwrap();
        assert_eq!(ok, "42");
        let err = client
            .request::<String, _>("chain_getBlockHash", rpc_params!["x"])
            .await
            .unwrap_err();
        let jsonrpsee::core::client::Error::Call(obj) = err else {
            panic!("{err}")
        };
        assert_eq!(obj.code(), -32602);
        assert!(
            obj.message().starts_with("invalid parameter `height`"),
            "{}",
            obj.message()
        );
        let err = client
            .request::<String, _>("chain_getBlockHash", rpc_params![1, 2])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at most 1"), "{err}");
        let err = client
            .request::<String, _>("chain_getBlockHash", rpc_params![500])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no block at height 500"), "{err}");
        let err = client
            .request::<String, _>("chain_nope", rpc_params![])
            .await
            .unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("method not found"),
            "{err}"
        );
        server.stop().await;
    }

    #[test]
    #[should_panic(expected = "not in the method table")]
    fn unknown_methods_cannot_be_registered() {
        let mut reg = Registry::new(());
        reg.register(
            "chain_secretBackdoor",
            |_p: RpcParams, _c: Arc<()>| async move { Ok(0u8) },
        );
    }
}
