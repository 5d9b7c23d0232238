//! Stack-height instrumentation: how deep a contract's calls may nest is decided by the module
//! itself, the same on every platform, instead of by where the native stack runs out (which
//! depends on the frame sizes the compiler picked for that CPU).
//!
//! The approach is pallet-contracts' (`wasm-instrument`'s `stack_height` pass): every defined
//! function gets a *cost* — [`limits::STACK_FRAME_COST`] for the frame itself, plus its
//! parameters and locals, plus the most values its operand stack ever holds (wasmparser's
//! validator measures it) — and a module-wide counter in a new global adds a function's cost
//! when it is entered and takes it off when it returns. Entering a function that would take the
//! counter past [`limits::MAX_STACK_HEIGHT`] traps with "call stack exhausted" through a host
//! function only this pass can import.
//!
//! The counting is done by the functions themselves, with no extra call: each defined function
//! starts with a *prologue* that adds its cost to the counter, keeps the new height in a local
//! of its own, and traps past the limit; after each call it makes to a defined function
//! (direct or through the table) it sets the counter back to that kept height. However the
//! callee ended (`return`, a branch out of its body, falling off its end), the caller is back
//! at its own height, so no callee needs an epilogue, and a trap ends the whole instance.
//! Exports and table elements reach the functions unchanged; the host's calls of `call` /
//! `deploy` / `migrate` start from a counter of 0 on a fresh instance. Custom sections are
//! dropped (the original module, ABI included, is what the chain stores and hashes: this copy
//! exists only to be compiled).
//!
//! An earlier form of this pass gave each function a *thunk* (a wrapper doing the counting,
//! reached instead of it), as `wasm-instrument` does for exports and tables. It doubled the
//! calls a contract made: a fifth of a token transfer's time went to entering and leaving
//! thunks. The heights counted are the same; the gas is lower by what the thunks' calls cost.
//!
//! The budget leaves a wide margin: a slot stands for an 8-byte value, the limit is
//! [`limits::MAX_STACK_HEIGHT`] slots (256 KiB of values) against [`limits::MAX_WASM_STACK`]
//! (1 MiB) of native stack, so the counter always trips first; the tests check it with the
//! shapes that use the most native stack per slot, on half the native stack.
//!
//! This pass is consensus: its output decides gas (the prologues and restores are metered like
//! any code) and which calls trap; changing it changes the gas of contract calls, which a running network
//! must schedule like any other consensus change.

use wasm_encoder::reencode::{self, Reencode, utils};
use wasm_encoder::{
    CodeSection, ConstExpr, EntityType, Function, GlobalSection, GlobalType, ImportSection,
    Instruction, Module, SectionId, ValType,
};
use wasmparser::{FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator};

use crate::ALLOWED_FEATURES;
use crate::limits::{MAX_STACK_HEIGHT, STACK_FRAME_COST};

/// Module of the import the pass adds; validation refuses contracts importing from anything
/// but `env`, so no contract can call it itself.
pub const STACK_MODULE: &str = "i8o8i";
/// Name of the added import, `() -> ()`: it traps with "call stack exhausted".
pub const STACK_EXHAUSTED: &str = "stack_exhausted";

/// `code` with the stack-height counter. `code` must have passed
/// [`validate_module`](crate::validate_module).
///
/// # Errors
/// The module is not valid Wasm (a message from wasmparser or wasm-encoder).
pub fn instrument(code: &[u8]) -> Result<Vec<u8>, String> {
    let plan = Plan::of(code).map_err(|e| e.to_string())?;
    let mut module = Module::new();
    let mut pass = Instrumenter {
        plan,
        imports_done: false,
        globals_done: false,
        next_body: 0,
    };
    pass.parse_core_module(&mut module, Parser::new(0), code)
        .map_err(|e| e.to_string())?;
    Ok(module.finish())
}

/// What the pass learns about a module before rewriting it.
#[derive(Debug, Default)]
struct Plan {
    /// Imported functions: indices below this are host functions and stay as they are.
    imported: u32,
    /// Parameter count of each type.
    type_params: Vec<u32>,
    /// A `() -> ()` type (every contract has one: `call`'s).
    unit_type: Option<u32>,
    /// Type of each defined function.
    func_types: Vec<u32>,
    /// Stack cost of each defined function.
    costs: Vec<u32>,
    /// Globals the module defines; the counter is the next.
    globals: u32,
}

impl Plan {
    fn of(code: &[u8]) -> Result<Plan, wasmparser::BinaryReaderError> {
        let mut plan = Plan::default();
        let mut validator = Validator::new_with_features(ALLOWED_FEATURES);
        let mut allocs = FuncValidatorAllocations::default();
        for payload in Parser::new(0).parse_all(code) {
            let payload = payload?;
            match &payload {
                Payload::TypeSection(types) => {
                    for ty in types.clone().into_iter_err_on_gc_types() {
                        let ty = ty?;
                        if ty.params().is_empty()
                            && ty.results().is_empty()
                            && plan.unit_type.is_none()
                        {
                            plan.unit_type = Some(plan.type_params.len() as u32);
                        }
                        plan.type_params.push(ty.params().len() as u32);
                    }
                }
                Payload::ImportSection(imports) => {
                    for import in imports.clone().into_imports() {
                        if matches!(import?.ty, wasmparser::TypeRef::Func(_)) {
                            plan.imported += 1;
                        }
                    }
                }
                Payload::FunctionSection(functions) => {
                    for ty in functions.clone() {
                        plan.func_types.push(ty?);
                    }
                }
                Payload::GlobalSection(globals) => plan.globals = globals.count(),
                _ => {}
            }
            if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
                let mut func = func.into_validator(allocs);
                let mut locals = body.get_binary_reader();
                func.read_locals(&mut locals)?;
                let mut ops = body.get_operators_reader()?;
                let mut highest = 0;
                while !ops.eof() {
                    let offset = ops.original_position();
                    func.op(offset, &ops.read()?)?;
                    highest = highest.max(func.operand_stack_height());
                }
                plan.costs.push(
                    STACK_FRAME_COST
                        .saturating_add(func.len_locals())
                        .saturating_add(highest),
                );
                allocs = func.into_allocations();
            }
        }
        Ok(plan)
    }

    /// Index of the added import: right after the module's own imports.
    fn exhausted(&self) -> u32 {
        self.imported
    }

    /// Index of defined function `i` (counted from 0) once the import is added.
    fn original(&self, i: u32) -> u32 {
        self.imported + 1 + i
    }

    /// The counter's global index.
    fn counter(&self) -> u32 {
        self.globals
    }
}

struct Instrumenter {
    plan: Plan,
    imports_done: bool,
    globals_done: bool,
    /// Defined function whose body is rewritten next.
    next_body: u32,
}

type PassError = reencode::Error<String>;

impl Instrumenter {
    fn add_import(&mut self, imports: &mut ImportSection) -> Result<(), PassError> {
        let Some(unit) = self.plan.unit_type else {
            return Err(PassError::UserError("no `() -> ()` type".into()));
        };
        imports.import(STACK_MODULE, STACK_EXHAUSTED, EntityType::Function(unit));
        self.imports_done = true;
        Ok(())
    }

    fn add_global(&mut self, globals: &mut GlobalSection) {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(ty, &ConstExpr::i32_const(0));
        self.globals_done = true;
    }

    /// Defined function `i`'s body with the counting: the prologue (count its cost in, keep
    /// the height in a new last local, trap past the limit), then its own code with the
    /// counter set back to the kept height after every call into a defined function.
    fn counted(
        &mut self,
        i: u32,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<Function, PassError> {
        let plan = &self.plan;
        let cost = plan.costs.get(i as usize).copied().unwrap_or(u32::MAX);
        // Costs above the limit can never run; clamping keeps the constant a valid i32.
        let cost = cost.min(MAX_STACK_HEIGHT + 1) as i32;
        let params = plan
            .func_types
            .get(i as usize)
            .and_then(|&t| plan.type_params.get(t as usize))
            .copied()
            .unwrap_or(0);
        let counter = plan.counter();
        let imported = plan.imported;
        let exhausted = plan.exhausted();
        let mut locals = Vec::new();
        let mut height = params;
        for group in body.get_locals_reader()? {
            let (count, ty) = group?;
            height = height
                .checked_add(count)
                .ok_or_else(|| PassError::UserError("too many locals".into()))?;
            locals.push((count, self.val_type(ty)?));
        }
        locals.push((1, ValType::I32));
        let mut f = Function::new(locals);
        f.instruction(&Instruction::GlobalGet(counter))
            .instruction(&Instruction::I32Const(cost))
            .instruction(&Instruction::I32Add)
            .instruction(&Instruction::LocalTee(height))
            .instruction(&Instruction::GlobalSet(counter))
            .instruction(&Instruction::LocalGet(height))
            .instruction(&Instruction::I32Const(MAX_STACK_HEIGHT as i32))
            .instruction(&Instruction::I32GtU)
            .instruction(&Instruction::If(wasm_encoder::BlockType::Empty))
            .instruction(&Instruction::Call(exhausted))
            .instruction(&Instruction::Unreachable)
            .instruction(&Instruction::End);
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            let into_defined = match op {
                wasmparser::Operator::Call { function_index } => function_index >= imported,
                wasmparser::Operator::CallIndirect { .. } => true,
                _ => false,
            };
            f.instruction(&self.instruction(op)?);
            if into_defined {
                f.instruction(&Instruction::LocalGet(height))
                    .instruction(&Instruction::GlobalSet(counter));
            }
        }
        Ok(f)
    }
}

impl Reencode for Instrumenter {
    type Error = String;

    /// Host functions keep their index; defined functions move up one, past the added import.
    fn function_index(&mut self, func: u32) -> Result<u32, PassError> {
        Ok(if func < self.plan.imported {
            func
        } else {
            self.plan.original(func - self.plan.imported)
        })
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), PassError> {
        utils::parse_import_section(self, imports, section)?;
        self.add_import(imports)
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), PassError> {
        utils::parse_global_section(self, globals, section)?;
        self.add_global(globals);
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), PassError> {
        let f = self.counted(self.next_body, &body)?;
        self.next_body += 1;
        code.function(&f);
        Ok(())
    }

    /// Names would point at the wrong functions now, and nothing else is read by the engine.
    fn parse_custom_section(
        &mut self,
        _module: &mut Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), PassError> {
        Ok(())
    }

    /// Adds the import and global sections where a module has none.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), PassError> {
        if !self.imports_done && !matches!(before, Some(SectionId::Type | SectionId::Import)) {
            let mut imports = ImportSection::new();
            self.add_import(&mut imports)?;
            module.section(&imports);
        }
        let globals_go_before = matches!(
            before,
            None | Some(
                SectionId::Export
                    | SectionId::Start
                    | SectionId::Element
                    | SectionId::DataCount
                    | SectionId::Code
                    | SectionId::Data
            )
        );
        if !self.globals_done && globals_go_before {
            let mut globals = GlobalSection::new();
            self.add_global(&mut globals);
            module.section(&globals);
        }
        Ok(())
    }
}
