//! `i8o8icoin contract bench`: a contract method run many times in the chain's own engine
//! (the [`Harness`]: real module, host functions and gas, state in memory), timed one call at
//! a time after a warm-up, for contract authors who want numbers without writing Rust. With
//! `--engine wasmi` the same call runs in the wasmi interpreter instead, with the same module,
//! host functions and state ([`WasmiEngine`]), to see what the chain's compiled engine gains.
//!
//! Every timed run starts from the same state (its writes are dropped), so a `transfer` can
//! be repeated a thousand times from one balance; what it measures is one execution as a block
//! runs it — instantiation, host calls, the module's own code — minus the node around it
//! (transaction checks, fees, writing the block).

use std::time::{Duration, Instant};

use i8o8i_contract_engine::harness::Harness;
use i8o8i_contract_engine::wasmi_engine::WasmiEngine;
use i8o8i_contract_engine::{ExecRequest, ExecResult};
use i8o8i_primitives::ContractAddress;
use i8o8i_primitives::contract::{ExecStatus, GasBreakdown};
use serde::Serialize;

/// How many runs.
#[derive(Debug, Clone, Copy)]
pub struct Runs {
    /// Runs timed.
    pub iterations: u32,
    /// Runs before timing starts (the module is compiled on the first).
    pub warmup: u32,
}

/// Which engine `contract bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    /// The chain's engine (wasmtime, compiled).
    Wasmtime,
    /// The wasmi interpreter, for comparison.
    Wasmi,
}

/// What `contract bench` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// The contract run.
    pub contract: ContractAddress,
    /// The method.
    pub method: String,
    /// The engine timed: `wasmtime` (the chain's) or `wasmi`.
    pub engine: String,
    /// How this binary was built: `release`, or `debug` (slower than a node's release build;
    /// run `cargo run --release -p i8o8i-cli -- contract bench …` for figures to quote).
    pub build: String,
    /// Runs timed.
    pub iterations: u32,
    /// Runs before timing.
    pub warmup: u32,
    /// How the call ended (every run ends the same way).
    pub status: ExecStatus,
    /// Gas of one call, as the engine timed metered it.
    pub gas_used: u64,
    /// Gas of the same call in the chain's engine (what a block charges): `gasUsed` itself
    /// for wasmtime; for wasmi, whose metering of the Wasm part differs, the chain's figure.
    pub chain_gas_used: u64,
    /// Where it goes.
    pub gas_breakdown: GasBreakdown,
    /// Median time of one call (ns).
    pub median_ns: u64,
    /// 99th percentile (ns).
    pub p99_ns: u64,
    /// Fastest (ns).
    pub min_ns: u64,
    /// Gas per microsecond at the median: how fast this engine turns gas into work for this
    /// method.
    pub gas_per_microsecond: u64,
    /// Calls per second at the median.
    pub calls_per_second: u64,
    /// Return data of the call (hex).
    pub return_data: String,
}

/// Runs `req` `runs.warmup + runs.iterations` times in `harness` on `engine`, timing each of
/// the last `iterations`.
///
/// # Errors
/// wasmi could not be set up (a bug).
pub fn bench(
    harness: &Harness,
    req: &ExecRequest,
    method: &str,
    runs: Runs,
    engine: EngineChoice,
) -> anyhow::Result<BenchReport> {
    let chain = harness.run(req.clone());
    let report = match engine {
        EngineChoice::Wasmtime => timed(req, runs, |req| harness.run(req)),
        EngineChoice::Wasmi => {
            let wasmi = WasmiEngine::new()?;
            timed(req, runs, |req| harness.run_in(&wasmi, req))
        }
    };
    let (first, times) = report;
    let median = percentile(&times, 50);
    let p99 = percentile(&times, 99);
    let median_ns = nanos(median).max(1);
    Ok(BenchReport {
        contract: req.address,
        method: method.to_owned(),
        engine: match engine {
            EngineChoice::Wasmtime => "wasmtime",
            EngineChoice::Wasmi => "wasmi",
        }
        .into(),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        iterations: runs.iterations.max(1),
        warmup: runs.warmup,
        status: first.status,
        gas_used: first.gas_used,
        chain_gas_used: chain.gas_used,
        gas_breakdown: first.gas,
        median_ns,
        p99_ns: nanos(p99),
        min_ns: times.first().copied().map_or(0, nanos),
        gas_per_microsecond: first.gas_used.saturating_mul(1_000) / median_ns,
        calls_per_second: 1_000_000_000 / median_ns,
        return_data: hex::encode(&first.return_data),
    })
}

/// The first result of `run` after the warm-up, and the sorted times of `runs.iterations`
/// more.
fn timed(
    req: &ExecRequest,
    runs: Runs,
    run: impl Fn(ExecRequest) -> ExecResult,
) -> (ExecResult, Vec<Duration>) {
    for _ in 0..runs.warmup {
        run(req.clone());
    }
    let first = run(req.clone());
    let mut times = Vec::with_capacity(runs.iterations as usize);
    for _ in 0..runs.iterations.max(1) {
        let req = req.clone();
        let start = Instant::now();
        let result = run(req);
        times.push(start.elapsed());
        // Determinism is the engine's job, checked elsewhere; a mismatch here would make
        // the figures meaningless, so it is worth the comparison.
        debug_assert_eq!(result.gas_used, first.gas_used);
    }
    times.sort();
    (first, times)
}

/// The `pct`th percentile of sorted `times` (nearest rank).
fn percentile(times: &[Duration], pct: usize) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    let rank = (times.len() * pct).div_ceil(100).max(1);
    times[rank.min(times.len()) - 1]
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl BenchReport {
    /// The report as a person reads it.
    pub fn text(&self) -> String {
        let g = &self.gas_breakdown;
        let parts = [
            ("execution", g.execution),
            ("instantiation", g.instantiation),
            ("host calls", g.host_calls),
            ("storage reads", g.storage_reads),
            ("storage writes", g.storage_writes),
            ("events", g.events),
            ("transfers", g.transfers),
            ("hashing", g.hashing),
            ("signatures", g.signatures),
            ("nested calls", g.nested_calls),
            ("code", g.code),
        ];
        let mut out = format!(
            "{} on {} ({} engine, {} build), {} runs after {} warm-up\n\
             status        {}\n\
             gas           {}{}\n\
             time / call   median {:.2} µs, p99 {:.2} µs, min {:.2} µs\n\
             throughput    {} gas/µs, {} calls/s\n\
             gas by part\n",
            self.method,
            self.contract,
            self.engine,
            self.build,
            self.iterations,
            self.warmup,
            status_text(&self.status),
            self.gas_used,
            if self.engine == "wasmtime" {
                String::new()
            } else {
                format!(
                    " (wasmi's metering; the chain charges {})",
                    self.chain_gas_used
                )
            },
            self.median_ns as f64 / 1_000.0,
            self.p99_ns as f64 / 1_000.0,
            self.min_ns as f64 / 1_000.0,
            self.gas_per_microsecond,
            self.calls_per_second,
        );
        for (name, gas) in parts.into_iter().filter(|(_, gas)| *gas > 0) {
            out.push_str(&format!("  {name:<15} {gas}\n"));
        }
        if self.build == "debug" {
            out.push_str(
                "(a debug build: for figures to quote, run it from a release build, \
                 `cargo run --release -p i8o8i-cli -- contract bench …`)\n",
            );
        }
        out
    }
}

fn status_text(status: &ExecStatus) -> String {
    match status {
        ExecStatus::Success => "success".into(),
        ExecStatus::Reverted(why) => format!("reverted: {why}"),
        ExecStatus::OutOfGas => "out of gas".into(),
        ExecStatus::Trapped(why) => format!("trapped: {why}"),
        ExecStatus::NoContract(why) => format!("no contract: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let times: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&times, 50), Duration::from_micros(50));
        assert_eq!(percentile(&times, 99), Duration::from_micros(99));
        assert_eq!(percentile(&times[..1], 99), Duration::from_micros(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
