//! Method definitions: each JSON-RPC method is defined once, with [`rpc_api!`](crate::rpc_api),
//! as a type implementing [`Method`] — its name, summary, parameters (their wire types and
//! JSON Schemas), result type, errors and access level. That one definition gives the
//! method table the server checks access against, the OpenRPC entry, the typed server
//! registration ([`crate::Registry::method`]) and the typed client call
//! (`client::call`). A [`MethodTable`] is the set a server serves.

use std::collections::{HashMap, HashSet};

use i8o8i_primitives::BlockHash;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode::{self, *};

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read-only chain data: anyone who can reach the port.
    Public,
    /// Signs, spends, mines or changes node state (wallets, mining, peers), or holds up the
    /// node while it runs (replaying a block for a trace): needs a JWT.
    Private,
}

/// A schema-producing function: `T::json_schema` through the generator, so named types land
/// in the document's `components`.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, as a [`SchemaFn`].
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name (used in errors and for by-name calls).
    pub name: &'static str,
    /// Its JSON Schema.
    pub schema: SchemaFn,
    /// Whether it may be omitted.
    pub optional: bool,
    /// What it means.
    pub doc: &'static str,
}

/// What a subscription method sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// The `method` of its notifications.
    pub notification: &'static str,
    /// The method that ends it.
    pub unsubscribe: &'static str,
}

/// One method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// Full name, `namespace_method`.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Parameters in positional order.
    pub params: &'static [ParamSpec],
    /// Application errors it may return, beyond those every method may
    /// ([`MethodSpec::all_errors`] adds them).
    pub errors: &'static [ErrorCode],
    /// Access level.
    pub access: Access,
    /// Set for WebSocket subscriptions.
    pub subscription: Option<Subscription>,
}

impl MethodSpec {
    /// Parameter names in order.
    pub fn param_names(&self) -> Vec<&'static str> {
        self.params.iter().map(|p| p.name).collect()
    }

    /// Every error code the method may return: its own, then invalid parameters (if it takes
    /// any), unauthorized (if private), the per-connection rate limit and internal errors.
    pub fn all_errors(&self) -> Vec<ErrorCode> {
        let mut all = self.errors.to_vec();
        if !self.params.is_empty() {
            all.push(InvalidParams);
        }
        if self.access == Access::Private {
            all.push(Unauthorized);
        }
        all.extend([RateLimited, InternalError]);
        all
    }

    /// The namespace: the part before `_` (or `.` for `rpc.discover`).
    pub fn namespace(&self) -> &'static str {
        self.name.split(['_', '.']).next().unwrap_or(self.name)
    }
}

/// A block hash or a best-chain height, as `chain_getBlock` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HashOrHeight {
    /// Block hash.
    Hash(BlockHash),
    /// Best-chain height.
    Height(u64),
}

/// A JSON-RPC method, as [`rpc_api!`](crate::rpc_api) defines it.
pub trait Method {
    /// Its table entry: name, summary, parameters, errors, access.
    const SPEC: MethodSpec;
    /// Its parameters in positional order; optional ones are `Option`s.
    type Params: Serialize + Send + 'static;
    /// What it answers (for a subscription: each notification's payload).
    type Result: Serialize + JsonSchema + Send + 'static;
    /// Decodes a call's parameters, by position or by name, naming the one at fault.
    ///
    /// # Errors
    /// -32602 for a missing required parameter or one that does not decode.
    fn decode(params: &crate::RpcParams) -> Result<Self::Params, crate::RpcError>;
}

/// `rpc.discover`, which every server answers with its OpenRPC document.
pub const RPC_DISCOVER: MethodSpec = MethodSpec {
    name: "rpc.discover",
    summary: "This API's OpenRPC document (also served at GET /openrpc.json).",
    params: &[],
    errors: &[],
    access: Access::Public,
    subscription: None,
};

/// The methods a server serves (plus `rpc.discover`), looked up by name on every call.
#[derive(Debug)]
pub struct MethodTable {
    methods: Vec<&'static MethodSpec>,
    by_name: HashMap<&'static str, &'static MethodSpec>,
    subscription_methods: HashSet<&'static str>,
}

impl MethodTable {
    /// The table of `methods` and `rpc.discover`.
    ///
    /// # Panics
    /// On a definition error, which any test starting a server finds: a duplicate or
    /// un-namespaced name, an optional parameter before a required one, or a subscription whose
    /// unsubscribe method is not in `methods` or does not take exactly `subscription`.
    pub fn new(methods: &'static [MethodSpec]) -> MethodTable {
        let methods: Vec<&'static MethodSpec> = methods
            .iter()
            .chain(std::iter::once(&RPC_DISCOVER))
            .collect();
        let mut by_name = HashMap::new();
        for m in &methods {
            assert!(
                m.name.contains('_') || m.name == RPC_DISCOVER.name,
                "{} has no namespace",
                m.name
            );
            assert!(by_name.insert(m.name, *m).is_none(), "duplicate {}", m.name);
            // Optional parameters only at the end, so positions stay unambiguous.
            let first_optional = m.params.iter().position(|p| p.optional);
            let first_optional = first_optional.unwrap_or(m.params.len());
            assert!(
                m.params[first_optional..].iter().all(|p| p.optional),
                "{}: an optional parameter before a required one",
                m.name
            );
        }
        let mut subscription_methods = HashSet::new();
        for m in &methods {
            if let Some(sub) = m.subscription {
                let unsub = by_name
                    .get(sub.unsubscribe)
                    .unwrap_or_else(|| panic!("{}: no method {}", m.name, sub.unsubscribe));
                assert_eq!(unsub.param_names(), ["subscription"], "{}", sub.unsubscribe);
                subscription_methods.extend([m.name, sub.unsubscribe]);
            }
        }
        MethodTable {
            methods,
            by_name,
            subscription_methods,
        }
    }

    /// The method called `name`.
    pub fn find(&self, name: &str) -> Option<&'static MethodSpec> {
        self.by_name.get(name).copied()
    }

    /// Whether `name` subscribes or unsubscribes (WebSocket only).
    pub fn is_subscription_method(&self, name: &str) -> bool {
        self.subscription_methods.contains(name)
    }

    /// Every method, in definition order, `rpc.discover` last.
    pub fn methods(&self) -> &[&'static MethodSpec] {
        &self.methods
    }
}

/// Defines JSON-RPC methods, each once: a unit type per method implementing [`Method`], and
/// `METHODS`, the table of all of them in order.
///
/// ```
/// use i8o8i_rpc::rpc_api;
///
/// rpc_api! {
///     ExampleGetBlockHash {
///         name: "example_getBlockHash",
///         summary: "Hash of the best-chain block at a height.",
///         access: Public,
///         errors: [NotFound],
///         params: [(height: u64, "Block height"), [verbose: bool, "More detail"]],
///         result: i8o8i_primitives::BlockHash,
///     }
///     ExampleUnsubscribe {
///         name: "example_unsubscribe",
///         summary: "Ends a subscription.",
///         access: Public,
///         errors: [],
///         params: [(subscription: String, "The subscription id")],
///         result: bool,
///     }
/// }
/// # use i8o8i_rpc::methods::Method;
/// assert_eq!(ExampleGetBlockHash::SPEC.param_names(), ["height", "verbose"]);
/// assert_eq!(METHODS.len(), 2);
/// ```
///
/// A parameter is `(name: Type, "doc")` when required and `[name: Type, "doc"]` when optional
/// (its decoded type is then `Option<Type>`); `name: Type as Schema` documents it with the JSON
/// Schema of `Schema` while decoding it as `Type` (an address decoded as text, for instance,
/// whose network the handler checks). Errors name [`ErrorCode`] variants. A subscription
/// adds `notification: "method", unsubscribe: "method"`; the unsubscribe method is defined
/// like any other, taking `(subscription: String, ..)`.
#[macro_export]
macro_rules! rpc_api {
    ($(
        $ty:ident {
            name: $name:literal,
            summary: $summary:literal,
            access: $access:ident,
            errors: [$($err:ident),* $(,)?],
            params: [$($param:tt),* $(,)?],
            result: $result:ty
            $(, notification: $notification:literal, unsubscribe: $unsubscribe:literal)?
            $(,)?
        }
    )*) => {
        $(
            #[doc = $summary]
            // Summaries are plain text for the OpenRPC document (`<peer id>` is not HTML).
            #[allow(rustdoc::invalid_html_tags)]
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;

            impl $crate::methods::Method for $ty {
                const SPEC: $crate::MethodSpec = $crate::MethodSpec {
                    name: $name,
                    summary: $summary,
                    params: &[$($crate::__rpc_param!(spec $param)),*],
                    errors: &[$($crate::ErrorCode::$err),*],
                    access: $crate::Access::$access,
                    subscription: $crate::__rpc_subscription!($($notification, $unsubscribe)?),
                };
                type Params = ($($crate::__rpc_param!(type $param),)*);
                type Result = $result;

                #[allow(unused_mut, unused_variables, unused_assignments)]
                fn decode(
                    params: &$crate::RpcParams,
                ) -> ::core::result::Result<Self::Params, $crate::RpcError> {
                    let mut index = 0usize;
                    Ok(($({
                        let value = $crate::__rpc_param!(get params index $param);
                        index += 1;
                        value
                    },)*))
                }
            }
        )*

        /// Every method defined here, in order.
        pub const METHODS: &[$crate::MethodSpec] =
            &[$(<$ty as $crate::methods::Method>::SPEC),*];

        /// Decodes `params` as the parameters of the method called `name`, as the server does
        /// before calling its handler (`None`: no such method here). The fuzz targets run it
        /// for every method.
        ///
        /// # Errors
        /// Inside the `Some`: -32602 for parameters that do not decode.
        #[allow(dead_code)]
        pub fn decode_params(
            name: &str,
            params: &$crate::RpcParams,
        ) -> ::core::option::Option<::core::result::Result<(), $crate::RpcError>> {
            match name {
                $($name => Some(<$ty as $crate::methods::Method>::decode(params).map(|_| ())),)*
                _ => None,
            }
        }
    };
}

/// One parameter of [`rpc_api!`](crate::rpc_api): its table entry, decoded type, or decoding.
#[doc(hidden)]
#[macro_export]
macro_rules! __rpc_param {
    (spec ($name:ident : $t:ty $(as $schema:ty)?, $doc:literal)) => {
        $crate::ParamSpec {
            name: stringify!($name),
            schema: $crate::__rpc_schema!($t $(as $schema)?),
            optional: false,
            doc: $doc,
        }
    };
    (spec [$name:ident : $t:ty $(as $schema:ty)?, $doc:literal]) => {
        $crate::ParamSpec {
            name: stringify!($name),
            schema: $crate::__rpc_schema!($t $(as $schema)?),
            optional: true,
            doc: $doc,
        }
    };
    (type ($name:ident : $t:ty $(as $schema:ty)?, $doc:literal)) => { $t };
    (type [$name:ident : $t:ty $(as $schema:ty)?, $doc:literal]) => { Option<$t> };
    (get $params:ident $index:ident ($name:ident : $t:ty $(as $schema:ty)?, $doc:literal)) => {
        $params.required::<$t>($index, stringify!($name))?
    };
    (get $params:ident $index:ident [$name:ident : $t:ty $(as $schema:ty)?, $doc:literal]) => {
        $params.optional::<$t>($index, stringify!($name))?
    };
}

/// The JSON Schema function of a parameter: of its `as` type if it has one.
#[doc(hidden)]
#[macro_export]
macro_rules! __rpc_schema {
    ($t:ty) => {
        $crate::methods::schema_of::<$t>
    };
    ($t:ty as $schema:ty) => {
        $crate::methods::schema_of::<$schema>
    };
}

/// The subscription part of a table entry.
#[doc(hidden)]
#[macro_export]
macro_rules! __rpc_subscription {
    () => {
        None
    };
    ($notification:literal, $unsubscribe:literal) => {
        Some($crate::methods::Subscription {
            notification: $notification,
            unsubscribe: $unsubscribe,
        })
    };
}

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests {
    use super::*;

    crate::rpc_api! {
        TestGet {
            name: "test_get",
            summary: "Gets.",
            access: Public,
            errors: [NotFound],
            params: [(height: u64, "Height"), [detail: bool, "Detail"]],
            result: String,
        }
        TestSubscribe {
            name: "test_subscribe",
            summary: "Subscribes.",
            access: Private,
            errors: [],
            params: [],
            result: u64,
            notification: "test_event",
            unsubscribe: "test_unsubscribe",
        }
        TestUnsubscribe {
            name: "test_unsubscribe",
            summary: "Unsubscribes.",
            access: Private,
            errors: [],
            params: [(subscription: String, "Subscription id")],
            result: bool,
        }
    }

    fn params(json: &str) -> crate::RpcParams {
        let raw = jsonrpsee::types::Params::new(Some(json));
        crate::RpcParams::new(&raw).unwrap()
    }

    #[test]
    fn a_definition_decodes_its_parameters_by_position_and_by_name() {
        assert_eq!(TestGet::decode(&params("[7]")).unwrap(), (7, None));
        assert_eq!(
            TestGet::decode(&params("[7, true]")).unwrap(),
            (7, Some(true))
        );
        assert_eq!(
            TestGet::decode(&params(r#"{"detail": false, "height": 9}"#)).unwrap(),
            (9, Some(false))
        );
        let missing = TestGet::decode(&params("[]")).unwrap_err();
        assert_eq!(missing.code(), -32602);
        assert!(
            missing.message().contains("`height`"),
            "{}",
            missing.message()
        );
        let wrong = TestGet::decode(&params(r#"[7, "yes"]"#)).unwrap_err();
        assert!(wrong.message().contains("`detail`"), "{}", wrong.message());
    }

    #[test]
    fn the_table_has_every_definition_and_rpc_discover() {
        let table = MethodTable::new(METHODS);
        let names: Vec<_> = table.methods().iter().map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "test_get",
                "test_subscribe",
                "test_unsubscribe",
                "rpc.discover"
            ]
        );
        let get = table.find("test_get").unwrap();
        assert_eq!(get.param_names(), ["height", "detail"]);
        assert!(get.params[1].optional && !get.params[0].optional);
        assert_eq!(get.errors, [ErrorCode::NotFound]);
        assert!(table.is_subscription_method("test_subscribe"));
        assert!(table.is_subscription_method("test_unsubscribe"));
        assert!(!table.is_subscription_method("test_get"));
        assert_eq!(
            table.find("test_subscribe").unwrap().access,
            Access::Private
        );
    }

    #[test]
    #[should_panic(expected = "an optional parameter before a required one")]
    fn an_optional_parameter_before_a_required_one_is_refused() {
        static BAD: &[MethodSpec] = &[MethodSpec {
            name: "bad_method",
            summary: "",
            params: &[
                ParamSpec {
                    name: "a",
                    schema: schema_of::<u64>,
                    optional: true,
                    doc: "",
                },
                ParamSpec {
                    name: "b",
                    schema: schema_of::<u64>,
                    optional: false,
                    doc: "",
                },
            ],
            errors: &[],
            access: Access::Public,
            subscription: None,
        }];
        MethodTable::new(BAD);
    }
}
