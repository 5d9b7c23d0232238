//! Real `.wasm` modules in the chain's own engine, state in memory: end-to-end tests for
//! contract authors (deploy several contracts, call them as any account, with value, and
//! check exact gas, storage, events, transfers and balances — cw-multi-test's role, with the
//! chain's engine instead of a model of it) and `i8o8icoin contract bench`.
//!
//! Executions are the ones a block runs: [`Harness::deploy`] is a `Deploy` payload (the
//! per-byte code charge, the constructor, code and account stored on success) and
//! [`Harness::call`] a `Call` payload (value added to the balance, state kept only on
//! success). What the harness leaves out is the transaction around them: fees, the caller's
//! coins and the outputs transfers create (they are in each result's `transfers`).

use std::sync::Arc;

use i8o8i_primitives::contract::{ContractAccount, code_hash, contract_address};
use i8o8i_primitives::{Amount, ContractAddress, StoreError};

use crate::engine::{EngineError, Entry, ExecRequest, ExecResult};
use crate::state::{ContractStateReader, MemoryState, StateKey, StateOverlay};
use crate::{ContractEngine, ModuleError, gas, validate_module};

/// Why the harness could not run something (a contract failing is a result, not this).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The module would be refused at deploy.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// The engine could not be built.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Nothing is deployed at the address.
    #[error("no contract at {0}")]
    NoContract(ContractAddress),
    /// A balance would pass the largest amount.
    #[error("the contract's balance would overflow")]
    ValueOverflow,
    /// The in-memory state failed (a poisoned lock).
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// Contracts deployed in memory, run by the chain's engine.
pub struct Harness {
    engine: ContractEngine,
    state: Arc<MemoryState>,
    deployments: u64,
    /// Height the next execution sees as its block's.
    pub height: u64,
    /// Time the next execution sees as its block's.
    pub time: u64,
    /// Gas each execution may use.
    pub gas_limit: u64,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("height", &self.height)
            .field("time", &self.time)
            .field("gas_limit", &self.gas_limit)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// An empty state at height 1, a gas limit of 10,000,000 per execution.
    ///
    /// # Errors
    /// [`HarnessError::Engine`].
    pub fn new() -> Result<Harness, HarnessError> {
        Ok(Harness {
            engine: ContractEngine::new()?,
            state: Arc::default(),
            deployments: 0,
            height: 1,
            time: 1_700_000_000,
            gas_limit: 10_000_000,
        })
    }

    /// The engine (its compiled-module cache is warm after a first execution).
    pub fn engine(&self) -> &ContractEngine {
        &self.engine
    }

    /// Deploys `code` as `deployer` (an account script), running its constructor with `init`
    /// (SCALE arguments; empty without a constructor). Each deployment gets its own address,
    /// so the same code may be deployed again. On failure nothing is stored and the address
    /// stays empty.
    ///
    /// # Errors
    /// [`HarnessError::Module`] when the chain would refuse the module.
    pub fn deploy(
        &mut self,
        deployer: &[u8],
        code: &[u8],
        init: &[u8],
    ) -> Result<(ContractAddress, ExecResult), HarnessError> {
        validate_module(code)?;
        self.deployments += 1;
        let mut salt = [0u8; 32];
        salt[..8].copy_from_slice(&self.deployments.to_le_bytes());
        let hash = code_hash(code);
        let address = contract_address(deployer, &hash, &salt);
        let req = ExecRequest {
            code_hash: hash,
            code: Some(Arc::new(code.to_vec())),
            entry: Entry::Deploy,
            address,
            caller: deployer.to_vec(),
            value: 0,
            balance: 0,
            input: init.to_vec(),
            gas_limit: self.gas_limit,
            gas_precharged: gas::DEPLOY_PER_CODE_BYTE.saturating_mul(code.len() as u64),
            height: self.height,
            time: self.time,
        };
        let (mut overlay, result) = self.engine.execute(self.overlay(), req);
        if let Some(e) = result.storage_fault.clone() {
            return Err(e.into());
        }
        if result.status.is_success() {
            overlay.put(StateKey::code(&hash), Some(code.to_vec()));
            let account = ContractAccount {
                code_hash: hash,
                balance: Amount::from_units(result.balance),
                deployer: deployer.to_vec(),
                height: self.height,
                admin: None,
            };
            overlay.put_account(&address, &account);
            self.commit(overlay)?;
        }
        Ok((address, result))
    }

    /// Puts a contract as it is elsewhere (a node's, say) at `address`: its account, code
    /// and storage entries (key, value), replacing what was there.
    ///
    /// # Errors
    /// [`HarnessError::Module`] when the chain would refuse the code;
    /// [`HarnessError::Storage`].
    pub fn install(
        &mut self,
        address: ContractAddress,
        account: &ContractAccount,
        code: &[u8],
        storage: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), HarnessError> {
        validate_module(code)?;
        let mut overlay = self.overlay();
        overlay.put(StateKey::code(&code_hash(code)), Some(code.to_vec()));
        let mut account = account.clone();
        account.code_hash = code_hash(code);
        overlay.put_account(&address, &account);
        for (key, value) in storage {
            overlay.put(StateKey::storage(&address, key), Some(value.clone()));
        }
        self.commit(overlay)
    }

    /// Calls `contract` as `caller` with `input` (SCALE method name and arguments) and
    /// `value`, keeping its state changes if it succeeds, as a block would.
    ///
    /// # Errors
    /// [`HarnessError::NoContract`], [`HarnessError::ValueOverflow`].
    pub fn call(
        &mut self,
        caller: &[u8],
        contract: ContractAddress,
        input: &[u8],
        value: u64,
    ) -> Result<ExecResult, HarnessError> {
        let (req, mut account) = self.request(caller, contract, input, value)?;
        let (mut overlay, result) = self.engine.execute(self.overlay(), req);
        if let Some(e) = result.storage_fault.clone() {
            return Err(e.into());
        }
        if result.status.is_success() {
            account.balance = Amount::from_units(result.balance);
            overlay.put_account(&contract, &account);
            self.commit(overlay)?;
        }
        Ok(result)
    }

    /// [`Harness::call`] without keeping anything: what `contract_query` does.
    ///
    /// # Errors
    /// As [`Harness::call`].
    pub fn query(
        &self,
        caller: &[u8],
        contract: ContractAddress,
        input: &[u8],
    ) -> Result<ExecResult, HarnessError> {
        let (req, _) = self.request(caller, contract, input, 0)?;
        Ok(self.engine.execute(self.overlay(), req).1)
    }

    /// The request [`Harness::call`] would run; run it with [`Harness::run`] as often as
    /// needed (a benchmark), nothing being kept.
    ///
    /// # Errors
    /// As [`Harness::call`].
    pub fn request(
        &self,
        caller: &[u8],
        contract: ContractAddress,
        input: &[u8],
        value: u64,
    ) -> Result<(ExecRequest, ContractAccount), HarnessError> {
        let account = self
            .account(&contract)?
            .ok_or(HarnessError::NoContract(contract))?;
        let balance = account
            .balance
            .checked_add(Amount::from_units(value))
            .ok_or(HarnessError::ValueOverflow)?;
        let req = ExecRequest {
            code_hash: account.code_hash,
            code: None,
            entry: Entry::Call,
            address: contract,
            caller: caller.to_vec(),
            value,
            balance: balance.to_units(),
            input: input.to_vec(),
            gas_limit: self.gas_limit,
            gas_precharged: 0,
            height: self.height,
            time: self.time,
        };
        Ok((req, account))
    }

    /// Runs `req` over the current state and drops what it changed.
    pub fn run(&self, req: ExecRequest) -> ExecResult {
        self.engine.execute(self.overlay(), req).1
    }

    /// [`Harness::run`] in wasmi instead of the chain's engine (`contract bench --engine
    /// wasmi`); see [`crate::wasmi_engine`] for how its gas differs.
    #[cfg(feature = "wasmi")]
    pub fn run_in(
        &self,
        engine: &crate::wasmi_engine::WasmiEngine,
        req: ExecRequest,
    ) -> ExecResult {
        engine.execute(self.overlay(), req).1
    }

    /// The account of `contract`, if one is deployed there.
    ///
    /// # Errors
    /// [`HarnessError::Storage`].
    pub fn account(
        &self,
        contract: &ContractAddress,
    ) -> Result<Option<ContractAccount>, HarnessError> {
        Ok(self.overlay().account(contract)?)
    }

    /// The value `contract` stores under `key`.
    ///
    /// # Errors
    /// [`HarnessError::Storage`].
    pub fn storage(
        &self,
        contract: &ContractAddress,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, HarnessError> {
        Ok(self.state.get(&StateKey::storage(contract, key))?)
    }

    fn overlay(&self) -> StateOverlay {
        StateOverlay::new(self.state.clone())
    }

    fn commit(&self, overlay: StateOverlay) -> Result<(), HarnessError> {
        let changes = overlay.into_changes()?;
        self.state.apply(&changes.writes);
        Ok(())
    }
}
