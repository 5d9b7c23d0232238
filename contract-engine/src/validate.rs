//! The deploy-time pass over a contract module: everything the engine must never see is refused
//! here with an error that says what is wrong.
//!
//! wasmparser validates the module with only the features of [`ALLOWED_FEATURES`] (so floats,
//! SIMD, threads, reference types, multi-memory, memory64, exceptions and GC fail with
//! wasmparser's own message and offset), then the structure is checked: size and count caps,
//! imports only from the host API with their exact signatures, one memory (exported, within the
//! cap), no start function, and the `call` / `deploy` / `migrate` exports.

use wasmparser::{
    ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

use crate::host::HOST_FUNCTIONS;
use crate::limits::{
    MAX_CODE_SIZE, MAX_DATA_SEGMENTS, MAX_EXPORTS, MAX_FUNCTIONS, MAX_GLOBALS, MAX_LOCALS,
    MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS,
};
use i8o8i_primitives::contract::{BUILD_SECTION, BuildRecord};

/// Wasm features a contract may use. Everything else, floats included, is refused.
pub const ALLOWED_FEATURES: WasmFeatures = WasmFeatures::MUTABLE_GLOBAL
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::BULK_MEMORY)
    // rustc emits `call_indirect` with a padded table index; the table is still the one
    // funcref table of the MVP.
    .union(WasmFeatures::CALL_INDIRECT_OVERLONG);

/// Why a contract module is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Larger than [`MAX_CODE_SIZE`].
    #[error("contract code of {size} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Code size.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// Not valid Wasm, or uses a feature outside [`ALLOWED_FEATURES`].
    #[error("invalid or unsupported Wasm: {0}")]
    Invalid(String),
    /// A count above its cap.
    #[error("too many {what}: {count} (at most {max})")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many there are.
        count: u64,
        /// The cap.
        max: u64,
    },
    /// An import the host does not provide, or with the wrong signature.
    #[error("import `{module}.{name}`: {reason}")]
    BadImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A start function (it would run at instantiation, outside gas accounting).
    #[error("start functions are not allowed; initialise state in `deploy`")]
    StartFunction,
    /// Memory missing, not exported as `memory`, or above the cap.
    #[error("memory: {0}")]
    Memory(String),
    /// A table above the element cap.
    #[error("table of {0} elements exceeds the {MAX_TABLE_ELEMENTS}-element limit")]
    TableTooLarge(u64),
    /// `call` missing, or `call` / `deploy` not of type `() -> ()`.
    #[error("export `{0}`: {1}")]
    BadExport(String, &'static str),
}

fn too_many(what: &'static str, count: impl Into<u64>, max: usize) -> Result<(), ModuleError> {
    let count = count.into();
    if count > max as u64 {
        return Err(ModuleError::TooMany {
            what,
            count,
            max: max as u64,
        });
    }
    Ok(())
}

fn invalid(e: wasmparser::BinaryReaderError) -> ModuleError {
    ModuleError::Invalid(e.to_string())
}

fn is_unit_fn(ty: &FuncType) -> bool {
    ty.params().is_empty() && ty.results().is_empty()
}

/// Checks `code` as a contract module.
///
/// # Errors
/// The first [`ModuleError`] found.
pub fn validate_module(code: &[u8]) -> Result<(), ModuleError> {
    if code.len() > MAX_CODE_SIZE {
        return Err(ModuleError::TooLarge {
            size: code.len(),
            max: MAX_CODE_SIZE,
        });
    }
    Validator::new_with_features(ALLOWED_FEATURES)
        .validate_all(code)
        .map_err(invalid)?;

    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut memories = 0u32;
    let mut memory_exported = false;
    let mut call_export = None;
    let mut deploy_export = None;
    let mut migrate_export = None;
    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(invalid)?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let bad = |reason: String| ModuleError::BadImport {
                        module: import.module.to_owned(),
                        name: import.name.to_owned(),
                        reason,
                    };
                    let TypeRef::Func(index) = import.ty else {
                        return Err(bad("only functions may be imported".into()));
                    };
                    if import.module != "env" {
                        return Err(bad("the host API is module `env`".into()));
                    }
                    let Some(host) = HOST_FUNCTIONS.iter().find(|h| h.name == import.name) else {
                        return Err(bad("no such host function".into()));
                    };
                    let ty = types
                        .get(index as usize)
                        .ok_or_else(|| bad("type index out of range".into()))?;
                    if ty.params() != host.params || ty.results() != host.results {
                        return Err(bad(format!(
                            "signature {:?} -> {:?}, expected {:?} -> {:?}",
                            ty.params(),
                            ty.results(),
                            host.params,
                            host.results
                        )));
                    }
                    func_types.push(index);
                }
            }
            Payload::FunctionSection(reader) => {
                too_many(
                    "functions",
                    reader.count() + func_types.len() as u32,
                    MAX_FUNCTIONS,
                )?;
                for index in reader {
                    func_types.push(index.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(invalid)?;
                    if table.ty.initial > MAX_TABLE_ELEMENTS as u64 {
                        return Err(ModuleError::TableTooLarge(table.ty.initial));
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    memories += 1;
                    if memory.initial > MAX_MEMORY_PAGES {
                        return Err(ModuleError::Memory(format!(
                            "{} initial pages exceed the {MAX_MEMORY_PAGES}-page (64 KiB each) limit",
                            memory.initial
                        )));
                    }
                }
            }
            Payload::GlobalSection(reader) => too_many("globals", reader.count(), MAX_GLOBALS)?,
            Payload::DataSection(reader) => {
                too_many("data segments", reader.count(), MAX_DATA_SEGMENTS)?
            }
            Payload::StartSection { .. } => return Err(ModuleError::StartFunction),
            Payload::ExportSection(reader) => {
                too_many("exports", reader.count(), MAX_EXPORTS)?;
                for export in reader {
                    let export = export.map_err(invalid)?;
                    match (export.name, export.kind) {
                        ("memory", ExternalKind::Memory) => memory_exported = true,
                        ("call", ExternalKind::Func) => call_export = Some(export.index),
                        ("deploy", ExternalKind::Func) => deploy_export = Some(export.index),
                        ("migrate", ExternalKind::Func) => migrate_export = Some(export.index),
                        ("call" | "deploy" | "migrate" | "memory", _) => {
                            return Err(ModuleError::BadExport(
                                export.name.to_owned(),
                                "exported with the wrong kind",
                            ));
                        }
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = 0u64;
                for entry in body.get_locals_reader().map_err(invalid)? {
                    let (count, _ty): (u32, ValType) = entry.map_err(invalid)?;
                    locals += u64::from(count);
                }
                too_many("locals in one function", locals, MAX_LOCALS)?;
            }
            _ => {}
        }
    }
    if memories == 0 || !memory_exported {
        return Err(ModuleError::Memory(
            "a contract must define its memory and export it as `memory`".into(),
        ));
    }
    let fn_type = |index: u32| {
        func_types
            .get(index as usize)
            .and_then(|t| types.get(*t as usize))
    };
    match call_export {
        None => return Err(ModuleError::BadExport("call".into(), "missing")),
        Some(i) if !fn_type(i).is_some_and(is_unit_fn) => {
            return Err(ModuleError::BadExport("call".into(), "must be `() -> ()`"));
        }
        Some(_) => {}
    }
    for (name, export) in [("deploy", deploy_export), ("migrate", migrate_export)] {
        if let Some(i) = export
            && !fn_type(i).is_some_and(is_unit_fn)
        {
            return Err(ModuleError::BadExport(name.into(), "must be `() -> ()`"));
        }
    }
    Ok(())
}

/// The contract's ABI text from its `i8o8i_abi` custom section, if it has one (see the SDK's
/// `entry_points!`).
pub fn abi_of(code: &[u8]) -> Option<String> {
    custom_text(code, "i8o8i_abi")
}

/// How the module was built, from the section `i8o8icoin contract build` adds
/// ([`BUILD_SECTION`]), if it has a well-formed one.
pub fn build_record_of(code: &[u8]) -> Option<BuildRecord> {
    BuildRecord::parse(&custom_text(code, BUILD_SECTION)?)
}

fn custom_text(code: &[u8], name: &str) -> Option<String> {
    for payload in Parser::new(0).parse_all(code) {
        if let Ok(Payload::CustomSection(section)) = payload
            && section.name() == name
        {
            return String::from_utf8(section.data().to_vec()).ok();
        }
    }
    None
}
