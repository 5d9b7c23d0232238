//! The interpreter: [`eval_script`] runs one script on a stack, [`verify_script`] runs a
//! scriptSig / scriptPubKey pair (with P2SH) the way Bitcoin Core's `VerifyScript` does.
//!
//! The code follows Core's `EvalScript` opcode by opcode, including its order of checks, because
//! the order decides which error a bad script reports and, with the consensus flags, whether it
//! fails at all.

use std::borrow::Cow;

use ripemd::Ripemd160;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::checker::{
    self, SEQUENCE_LOCKTIME_DISABLE_FLAG, SignatureChecker, is_compressed_or_uncompressed_pubkey,
    is_defined_hashtype_signature, is_low_der_signature, is_valid_signature_encoding,
};
use crate::error::ScriptError;
use crate::flags::VerifyFlags;
use crate::num::ScriptNum;
use crate::opcodes::{self as op, Opcode};
use crate::script::{Script, is_minimal_push, push_data_prefixed, read_op};
use crate::{
    MAX_OPS_PER_SCRIPT, MAX_PUBKEYS_PER_MULTISIG, MAX_SCRIPT_ELEMENT_SIZE, MAX_SCRIPT_SIZE,
    MAX_STACK_SIZE,
};

/// The main stack (and alt stack): byte strings, top last.
pub type Stack = Vec<Vec<u8>>;

/// Bitcoin's truth value of a stack item: any non-zero byte, except a lone sign bit in the last
/// byte ("negative zero").
pub fn cast_to_bool(v: &[u8]) -> bool {
    match v.iter().position(|&b| b != 0) {
        None => false,
        Some(i) => !(i == v.len() - 1 && v[i] == 0x80),
    }
}

/// Which IF branches are open and whether all of them execute, in O(1) per operation (Core's
/// `ConditionStack`): only the depth and the position of the first false entry matter.
#[derive(Default)]
struct ConditionStack {
    depth: usize,
    first_false: Option<usize>,
}

impl ConditionStack {
    fn is_empty(&self) -> bool {
        self.depth == 0
    }
    fn all_true(&self) -> bool {
        self.first_false.is_none()
    }
    fn push(&mut self, value: bool) {
        if self.first_false.is_none() && !value {
            self.first_false = Some(self.depth);
        }
        self.depth += 1;
    }
    fn pop(&mut self) {
        self.depth -= 1;
        if self.first_false == Some(self.depth) {
            self.first_false = None;
        }
    }
    fn toggle_top(&mut self) {
        let top = self.depth - 1;
        match self.first_false {
            None => self.first_false = Some(top),
            Some(pos) if pos == top => self.first_false = None,
            // A false entry below the top keeps the branch unexecuted whatever the top says.
            Some(_) => {}
        }
    }
}

const TRUE: &[u8] = &[1];
const FALSE: &[u8] = &[];

#[inline]
fn bool_item(b: bool) -> Vec<u8> {
    if b { TRUE.to_vec() } else { FALSE.to_vec() }
}

#[inline]
fn need(stack: &Stack, n: usize) -> Result<(), ScriptError> {
    if stack.len() < n {
        Err(ScriptError::InvalidStackOperation)
    } else {
        Ok(())
    }
}

#[inline]
fn num(bytes: &[u8], require_minimal: bool) -> Result<i64, ScriptError> {
    ScriptNum::decode(bytes, require_minimal, ScriptNum::DEFAULT_MAX_SIZE)
        .map(ScriptNum::value)
        .map_err(|_| ScriptError::ScriptNum)
}

#[inline]
fn num_item(n: i64) -> Vec<u8> {
    ScriptNum(n).encode()
}

#[inline]
fn top(stack: &Stack, i: usize) -> &[u8] {
    &stack[stack.len() - i]
}

/// Runs `script` on `stack` (Bitcoin Core's `EvalScript` for legacy scripts).
///
/// # Errors
/// The first [`ScriptError`] the script hits; the stack is then in an unspecified state.
pub fn eval_script<C: SignatureChecker + ?Sized>(
    stack: &mut Stack,
    script: &Script,
    flags: VerifyFlags,
    checker: &C,
) -> Result<(), ScriptError> {
    let bytes = script.as_bytes();
    if bytes.len() > MAX_SCRIPT_SIZE {
        return Err(ScriptError::ScriptSize);
    }
    let require_minimal = flags.contains(VerifyFlags::MINIMALDATA);
    let mut pc = 0usize;
    let mut code_start = 0usize;
    let mut op_count = 0usize;
    let mut exec = ConditionStack::default();
    let mut alt: Stack = Vec::new();

    while pc < bytes.len() {
        let executing = exec.all_true();
        let (opcode, push) = read_op(bytes, &mut pc).ok_or(ScriptError::BadOpcode)?;
        if push.len() > MAX_SCRIPT_ELEMENT_SIZE {
            return Err(ScriptError::PushSize);
        }
        // OP_RESERVED (below OP_16) does not count towards the limit.
        if opcode > op::OP_16 {
            op_count += 1;
            if op_count > MAX_OPS_PER_SCRIPT {
                return Err(ScriptError::OpCount);
            }
        }
        if opcode.is_disabled() {
            return Err(ScriptError::DisabledOpcode);
        }
        if opcode == op::OP_CODESEPARATOR && flags.contains(VerifyFlags::CONST_SCRIPTCODE) {
            return Err(ScriptError::OpCodeseparator);
        }

        if executing && opcode.is_push_data() {
            if require_minimal && !is_minimal_push(opcode, push) {
                return Err(ScriptError::MinimalData);
            }
            stack.push(push.to_vec());
        } else if executing || (op::OP_IF..=op::OP_ENDIF).contains(&opcode) {
            execute(
                opcode,
                stack,
                &mut alt,
                &mut exec,
                executing,
                ExecCtx {
                    bytes,
                    pc,
                    code_start: &mut code_start,
                    op_count: &mut op_count,
                    flags,
                    require_minimal,
                    checker,
                },
            )?;
        }

        if stack.len() + alt.len() > MAX_STACK_SIZE {
            return Err(ScriptError::StackSize);
        }
    }
    if !exec.is_empty() {
        return Err(ScriptError::UnbalancedConditional);
    }
    Ok(())
}

struct ExecCtx<'a, 'c, C: ?Sized> {
    bytes: &'a [u8],
    pc: usize,
    code_start: &'a mut usize,
    op_count: &'a mut usize,
    flags: VerifyFlags,
    require_minimal: bool,
    checker: &'c C,
}

#[inline(always)]
fn execute<C: SignatureChecker + ?Sized>(
    opcode: Opcode,
    stack: &mut Stack,
    alt: &mut Stack,
    exec: &mut ConditionStack,
    executing: bool,
    ctx: ExecCtx<'_, '_, C>,
) -> Result<(), ScriptError> {
    let flags = ctx.flags;
    let minimal = ctx.require_minimal;
    match opcode {
        // OP_1NEGATE and OP_1 ..= OP_16.
        Opcode(0x4f | 0x51..=0x60) => {
            stack.push(num_item(i64::from(opcode.0) - 0x50));
        }
        op::OP_NOP => {}
        op::OP_CHECKLOCKTIMEVERIFY => {
            if flags.contains(VerifyFlags::CHECKLOCKTIMEVERIFY) {
                need(stack, 1)?;
                let lock_time =
                    ScriptNum::decode(top(stack, 1), minimal, ScriptNum::LOCKTIME_MAX_SIZE)
                        .map_err(|_| ScriptError::ScriptNum)?
                        .value();
                if lock_time < 0 {
                    return Err(ScriptError::NegativeLocktime);
                }
                if !ctx.checker.check_lock_time(lock_time) {
                    return Err(ScriptError::UnsatisfiedLocktime);
                }
            }
        }
        op::OP_CHECKSEQUENCEVERIFY => {
            if flags.contains(VerifyFlags::CHECKSEQUENCEVERIFY) {
                need(stack, 1)?;
                let sequence =
                    ScriptNum::decode(top(stack, 1), minimal, ScriptNum::LOCKTIME_MAX_SIZE)
                        .map_err(|_| ScriptError::ScriptNum)?
                        .value();
                if sequence < 0 {
                    return Err(ScriptError::NegativeLocktime);
                }
                // With the disable flag set, CSV stays a NOP for future soft forks.
                if sequence & i64::from(SEQUENCE_LOCKTIME_DISABLE_FLAG) == 0
                    && !ctx.checker.check_sequence(sequence)
                {
                    return Err(ScriptError::UnsatisfiedLocktime);
                }
            }
        }
        // OP_NOP1 and OP_NOP4 ..= OP_NOP10.
        Opcode(0xb0 | 0xb3..=0xb9) => {
            if flags.contains(VerifyFlags::DISCOURAGE_UPGRADABLE_NOPS) {
                return Err(ScriptError::DiscourageUpgradableNops);
            }
        }
        op::OP_IF | op::OP_NOTIF => {
            let mut value = false;
            if executing {
                need(stack, 1)?;
                value = cast_to_bool(top(stack, 1));
                if opcode == op::OP_NOTIF {
                    value = !value;
                }
                stack.pop();
            }
            exec.push(value);
        }
        op::OP_ELSE => {
            if exec.is_empty() {
                return Err(ScriptError::UnbalancedConditional);
            }
            exec.toggle_top();
        }
        op::OP_ENDIF => {
            if exec.is_empty() {
                return Err(ScriptError::UnbalancedConditional);
            }
            exec.pop();
        }
        op::OP_VERIFY => {
            need(stack, 1)?;
            if !cast_to_bool(top(stack, 1)) {
                return Err(ScriptError::Verify);
            }
            stack.pop();
        }
        op::OP_RETURN => return Err(ScriptError::OpReturn),

        op::OP_TOALTSTACK => {
            need(stack, 1)?;
            alt.push(stack.pop().expect("checked"));
        }
        op::OP_FROMALTSTACK => {
            let item = alt.pop().ok_or(ScriptError::InvalidAltstackOperation)?;
            stack.push(item);
        }
        op::OP_2DROP => {
            need(stack, 2)?;
            stack.truncate(stack.len() - 2);
        }
        op::OP_2DUP => {
            need(stack, 2)?;
            let (a, b) = (top(stack, 2).to_vec(), top(stack, 1).to_vec());
            stack.push(a);
            stack.push(b);
        }
        op::OP_3DUP => {
            need(stack, 3)?;
            let (a, b, c) = (
                top(stack, 3).to_vec(),
                top(stack, 2).to_vec(),
                top(stack, 1).to_vec(),
            );
            stack.push(a);
            stack.push(b);
            stack.push(c);
        }
        op::OP_2OVER => {
            need(stack, 4)?;
            let (a, b) = (top(stack, 4).to_vec(), top(stack, 3).to_vec());
            stack.push(a);
            stack.push(b);
        }
        op::OP_2ROT => {
            need(stack, 6)?;
            let n = stack.len();
            stack[n - 6..].rotate_left(2);
        }
        op::OP_2SWAP => {
            need(stack, 4)?;
            let n = stack.len();
            stack.swap(n - 4, n - 2);
            stack.swap(n - 3, n - 1);
        }
        op::OP_IFDUP => {
            need(stack, 1)?;
            if cast_to_bool(top(stack, 1)) {
                let v = top(stack, 1).to_vec();
                stack.push(v);
            }
        }
        op::OP_DEPTH => {
            let depth = i64::try_from(stack.len()).map_err(|_| ScriptError::StackSize)?;
            stack.push(num_item(depth));
        }
        op::OP_DROP => {
            need(stack, 1)?;
            stack.pop();
        }
        op::OP_DUP => {
            need(stack, 1)?;
            let v = top(stack, 1).to_vec();
            stack.push(v);
        }
        op::OP_NIP => {
            need(stack, 2)?;
            stack.remove(stack.len() - 2);
        }
        op::OP_OVER => {
            need(stack, 2)?;
            let v = top(stack, 2).to_vec();
            stack.push(v);
        }
        op::OP_PICK | op::OP_ROLL => {
            need(stack, 2)?;
            let n = ScriptNum(num(top(stack, 1), minimal)?).to_i32_saturating();
            stack.pop();
            let n = usize::try_from(n).map_err(|_| ScriptError::InvalidStackOperation)?;
            if n >= stack.len() {
                return Err(ScriptError::InvalidStackOperation);
            }
            let idx = stack.len() - n - 1;
            let v = if opcode == op::OP_ROLL {
                stack.remove(idx)
            } else {
                stack[idx].clone()
            };
            stack.push(v);
        }
        op::OP_ROT => {
            need(stack, 3)?;
            let n = stack.len();
            stack[n - 3..].rotate_left(1);
        }
        op::OP_SWAP => {
            need(stack, 2)?;
            let n = stack.len();
            stack.swap(n - 2, n - 1);
        }
        op::OP_TUCK => {
            need(stack, 2)?;
            let v = top(stack, 1).to_vec();
            stack.insert(stack.len() - 2, v);
        }
        op::OP_SIZE => {
            need(stack, 1)?;
            let len = top(stack, 1).len() as i64;
            stack.push(num_item(len));
        }
        op::OP_EQUAL | op::OP_EQUALVERIFY => {
            need(stack, 2)?;
            let equal = top(stack, 2) == top(stack, 1);
            stack.truncate(stack.len() - 2);
            if opcode == op::OP_EQUALVERIFY {
                if !equal {
                    stack.push(bool_item(false));
                    return Err(ScriptError::EqualVerify);
                }
            } else {
                stack.push(bool_item(equal));
            }
        }
        op::OP_1ADD | op::OP_1SUB | op::OP_NEGATE | op::OP_ABS | op::OP_NOT | op::OP_0NOTEQUAL => {
            need(stack, 1)?;
            let a = num(top(stack, 1), minimal)?;
            let r = match opcode {
                op::OP_1ADD => a + 1,
                op::OP_1SUB => a - 1,
                op::OP_NEGATE => -a,
                op::OP_ABS => a.abs(),
                op::OP_NOT => i64::from(a == 0),
                _ => i64::from(a != 0),
            };
            let last = stack.len() - 1;
            stack[last] = num_item(r);
        }
        op::OP_ADD
        | op::OP_SUB
        | op::OP_BOOLAND
        | op::OP_BOOLOR
        | op::OP_NUMEQUAL
        | op::OP_NUMEQUALVERIFY
        | op::OP_NUMNOTEQUAL
        | op::OP_LESSTHAN
        | op::OP_GREATERTHAN
        | op::OP_LESSTHANOREQUAL
        | op::OP_GREATERTHANOREQUAL
        | op::OP_MIN
        | op::OP_MAX => {
            need(stack, 2)?;
            let a = num(top(stack, 2), minimal)?;
            let b = num(top(stack, 1), minimal)?;
            let r = match opcode {
                op::OP_ADD => a + b,
                op::OP_SUB => a - b,
                op::OP_BOOLAND => i64::from(a != 0 && b != 0),
                op::OP_BOOLOR => i64::from(a != 0 || b != 0),
                op::OP_NUMEQUAL | op::OP_NUMEQUALVERIFY => i64::from(a == b),
                op::OP_NUMNOTEQUAL => i64::from(a != b),
                op::OP_LESSTHAN => i64::from(a < b),
                op::OP_GREATERTHAN => i64::from(a > b),
                op::OP_LESSTHANOREQUAL => i64::from(a <= b),
                op::OP_GREATERTHANOREQUAL => i64::from(a >= b),
                op::OP_MIN => a.min(b),
                _ => a.max(b),
            };
            stack.truncate(stack.len() - 2);
            if opcode == op::OP_NUMEQUALVERIFY {
                if r == 0 {
                    stack.push(num_item(r));
                    return Err(ScriptError::NumEqualVerify);
                }
            } else {
                stack.push(num_item(r));
            }
        }
        op::OP_WITHIN => {
            need(stack, 3)?;
            let x = num(top(stack, 3), minimal)?;
            let min = num(top(stack, 2), minimal)?;
            let max = num(top(stack, 1), minimal)?;
            stack.truncate(stack.len() - 3);
            stack.push(bool_item(min <= x && x < max));
        }

        op::OP_RIPEMD160 | op::OP_SHA1 | op::OP_SHA256 | op::OP_HASH160 | op::OP_HASH256 => {
            need(stack, 1)?;
            let data = top(stack, 1);
            let hash: Vec<u8> = match opcode {
                op::OP_RIPEMD160 => Ripemd160::digest(data).to_vec(),
                op::OP_SHA1 => Sha1::digest(data).to_vec(),
                op::OP_SHA256 => Sha256::digest(data).to_vec(),
                op::OP_HASH160 => Ripemd160::digest(Sha256::digest(data)).to_vec(),
                _ => Sha256::digest(Sha256::digest(data)).to_vec(),
            };
            let last = stack.len() - 1;
            stack[last] = hash;
        }
        op::OP_CODESEPARATOR => {
            *ctx.code_start = ctx.pc;
        }
        op::OP_CHECKSIG | op::OP_CHECKSIGVERIFY => {
            need(stack, 2)?;
            let script_code = &ctx.bytes[*ctx.code_start..];
            let ok = eval_checksig(
                top(stack, 2),
                top(stack, 1),
                script_code,
                flags,
                ctx.checker,
            )?;
            stack.truncate(stack.len() - 2);
            if opcode == op::OP_CHECKSIGVERIFY {
                if !ok {
                    stack.push(bool_item(false));
                    return Err(ScriptError::CheckSigVerify);
                }
            } else {
                stack.push(bool_item(ok));
            }
        }
        op::OP_CHECKMULTISIG | op::OP_CHECKMULTISIGVERIFY => {
            let ok = eval_checkmultisig(
                stack,
                &ctx.bytes[*ctx.code_start..],
                ctx.op_count,
                flags,
                minimal,
                ctx.checker,
            )?;
            if opcode == op::OP_CHECKMULTISIGVERIFY {
                if !ok {
                    stack.push(bool_item(false));
                    return Err(ScriptError::CheckMultisigVerify);
                }
            } else {
                stack.push(bool_item(ok));
            }
        }
        // Reserved opcodes, OP_VER/OP_VERIF/OP_VERNOTIF, OP_CHECKSIGADD (tapscript only) and
        // every unassigned byte.
        _ => return Err(ScriptError::BadOpcode),
    }
    Ok(())
}

/// Bitcoin Core's `FindAndDelete`: removes every occurrence of `needle` that starts at an
/// instruction boundary of `script`. Returns the number removed and the new script if any was.
fn find_and_delete(script: &[u8], needle: &[u8]) -> (usize, Option<Vec<u8>>) {
    if needle.is_empty() {
        return (0, None);
    }
    let mut found = 0;
    let mut result = Vec::new();
    let (mut pc, mut kept_from) = (0usize, 0usize);
    loop {
        result.extend_from_slice(&script[kept_from..pc]);
        while script.len() - pc >= needle.len() && script[pc..].starts_with(needle) {
            pc += needle.len();
            found += 1;
        }
        kept_from = pc;
        if read_op(script, &mut pc).is_none() {
            break;
        }
    }
    if found == 0 {
        return (0, None);
    }
    result.extend_from_slice(&script[kept_from..]);
    (found, Some(result))
}

/// Removes the push of each signature from the script code (legacy signature hashing cannot
/// sign a script that contains the signature itself).
fn strip_signatures<'s>(
    script_code: &'s [u8],
    sigs: &mut dyn Iterator<Item = &[u8]>,
    flags: VerifyFlags,
) -> Result<Cow<'s, [u8]>, ScriptError> {
    let mut code = Cow::Borrowed(script_code);
    let mut needle = Vec::with_capacity(80);
    for sig in sigs {
        needle.clear();
        push_data_prefixed(&mut needle, sig);
        let (found, stripped) = find_and_delete(&code, &needle);
        if found > 0 && flags.contains(VerifyFlags::CONST_SCRIPTCODE) {
            return Err(ScriptError::SigFindAndDelete);
        }
        if let Some(stripped) = stripped {
            code = Cow::Owned(stripped);
        }
    }
    Ok(code)
}

fn check_signature_encoding(sig: &[u8], flags: VerifyFlags) -> Result<(), ScriptError> {
    // An empty signature is the compact way to fail a CHECK(MULTI)SIG on purpose.
    if sig.is_empty() {
        return Ok(());
    }
    if flags.intersects(VerifyFlags::DERSIG | VerifyFlags::LOW_S | VerifyFlags::STRICTENC)
        && !is_valid_signature_encoding(sig)
    {
        return Err(ScriptError::SigDer);
    }
    if flags.contains(VerifyFlags::LOW_S) && !is_low_der_signature(sig) {
        return Err(ScriptError::SigHighS);
    }
    if flags.contains(VerifyFlags::STRICTENC) && !is_defined_hashtype_signature(sig) {
        return Err(ScriptError::SigHashtype);
    }
    Ok(())
}

fn check_pubkey_encoding(pubkey: &[u8], flags: VerifyFlags) -> Result<(), ScriptError> {
    if flags.contains(VerifyFlags::STRICTENC) && !is_compressed_or_uncompressed_pubkey(pubkey) {
        return Err(ScriptError::PubkeyType);
    }
    Ok(())
}

fn eval_checksig<C: SignatureChecker + ?Sized>(
    sig: &[u8],
    pubkey: &[u8],
    script_code: &[u8],
    flags: VerifyFlags,
    checker: &C,
) -> Result<bool, ScriptError> {
    let code = strip_signatures(script_code, &mut core::iter::once(sig), flags)?;
    check_signature_encoding(sig, flags)?;
    check_pubkey_encoding(pubkey, flags)?;
    let ok = checker.check_ecdsa_signature(sig, pubkey, Script::from_bytes(&code));
    if !ok && flags.contains(VerifyFlags::NULLFAIL) && !sig.is_empty() {
        return Err(ScriptError::SigNullFail);
    }
    Ok(ok)
}

/// `[dummy] [sig ...] m [pubkey ...] n CHECKMULTISIG`: pops everything including the dummy and
/// returns whether m of the n keys signed, in order.
fn eval_checkmultisig<C: SignatureChecker + ?Sized>(
    stack: &mut Stack,
    script_code: &[u8],
    op_count: &mut usize,
    flags: VerifyFlags,
    minimal: bool,
    checker: &C,
) -> Result<bool, ScriptError> {
    // Positions count from the top of the stack, 1 = top, as in Core.
    let mut i = 1usize;
    need(stack, i)?;
    let key_count = ScriptNum(num(top(stack, i), minimal)?).to_i32_saturating();
    if !(0..=MAX_PUBKEYS_PER_MULTISIG).contains(&key_count) {
        return Err(ScriptError::PubkeyCount);
    }
    let mut keys_left = key_count as usize;
    *op_count += keys_left;
    if *op_count > MAX_OPS_PER_SCRIPT {
        return Err(ScriptError::OpCount);
    }
    i += 1;
    let mut ikey = i;
    // Position of the last non-signature item; used for the NULLFAIL cleanup check.
    let mut ikey2 = keys_left + 2;
    i += keys_left;
    need(stack, i)?;
    let sig_count = ScriptNum(num(top(stack, i), minimal)?).to_i32_saturating();
    if sig_count < 0 || sig_count > key_count {
        return Err(ScriptError::SigCount);
    }
    let mut sigs_left = sig_count as usize;
    i += 1;
    let mut isig = i;
    i += sigs_left;
    need(stack, i)?;

    let code = {
        let mut sigs = (0..sigs_left).map(|k| top(stack, isig + k));
        strip_signatures(script_code, &mut sigs, flags)?
    };
    let code = Script::from_bytes(&code);

    let mut success = true;
    while success && sigs_left > 0 {
        let sig = top(stack, isig);
        let pubkey = top(stack, ikey);
        // Encoding is checked pair by pair, so with STRICTENC the evaluation order is observable.
        check_signature_encoding(sig, flags)?;
        check_pubkey_encoding(pubkey, flags)?;
        if checker.check_ecdsa_signature(sig, pubkey, code) {
            isig += 1;
            sigs_left -= 1;
        }
        ikey += 1;
        keys_left -= 1;
        // More signatures left than keys: too many failed already.
        if sigs_left > keys_left {
            success = false;
        }
    }

    // Pop every argument; with NULLFAIL a failed check requires all signatures to be empty.
    while i > 1 {
        i -= 1;
        if !success
            && flags.contains(VerifyFlags::NULLFAIL)
            && ikey2 == 0
            && !top(stack, 1).is_empty()
        {
            return Err(ScriptError::SigNullFail);
        }
        ikey2 = ikey2.saturating_sub(1);
        stack.pop();
    }
    // The off-by-one bug: one more item is consumed, and NULLDUMMY requires it to be empty.
    need(stack, 1)?;
    if flags.contains(VerifyFlags::NULLDUMMY) && !top(stack, 1).is_empty() {
        return Err(ScriptError::SigNullDummy);
    }
    stack.pop();
    Ok(success)
}

/// Verifies that `script_sig` satisfies `script_pubkey` under `flags` (Bitcoin Core's
/// `VerifyScript` for non-witness spends): runs the scriptSig, then the scriptPubKey on the
/// resulting stack; with P2SH and a P2SH scriptPubKey, also the serialized redeem script.
///
/// Witness and taproot flags are accepted and ignored. CLEANSTACK is applied as given; Bitcoin
/// Core only allows it together with P2SH and WITNESS (it asserts), so callers that mean Core's
/// semantics should pass those too.
///
/// # Errors
/// The [`ScriptError`] that made the spend invalid.
pub fn verify_script<C: SignatureChecker + ?Sized>(
    script_sig: &Script,
    script_pubkey: &Script,
    flags: VerifyFlags,
    checker: &C,
) -> Result<(), ScriptError> {
    if flags.contains(VerifyFlags::SIGPUSHONLY) && !script_sig.is_push_only() {
        return Err(ScriptError::SigPushOnly);
    }
    let mut stack = Stack::new();
    eval_script(&mut stack, script_sig, flags, checker)?;
    let p2sh = flags.contains(VerifyFlags::P2SH) && script_pubkey.is_p2sh();
    let stack_copy = if p2sh { Some(stack.clone()) } else { None };
    eval_script(&mut stack, script_pubkey, flags, checker)?;
    if !stack.last().is_some_and(|v| cast_to_bool(v)) {
        return Err(ScriptError::EvalFalse);
    }

    if let Some(mut stack) = stack_copy {
        // scriptSig must be literals only, or the redeem script could be computed.
        if !script_sig.is_push_only() {
            return Err(ScriptError::SigPushOnly);
        }
        // The scriptPubKey succeeded, so it consumed (HASH160) a pushed redeem script: the copy
        // is non-empty. Guard anyway rather than trust that reasoning with a panic.
        let redeem = stack.pop().ok_or(ScriptError::EvalFalse)?;
        eval_script(&mut stack, Script::from_bytes(&redeem), flags, checker)?;
        if !stack.last().is_some_and(|v| cast_to_bool(v)) {
            return Err(ScriptError::EvalFalse);
        }
        return clean_stack(&stack, flags);
    }
    clean_stack(&stack, flags)
}

fn clean_stack(stack: &Stack, flags: VerifyFlags) -> Result<(), ScriptError> {
    if flags.contains(VerifyFlags::CLEANSTACK) && stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    Ok(())
}

/// Bitcoin Core's `CScript::GetSigOpCount(fAccurate)`: CHECKSIG counts 1; CHECKMULTISIG counts
/// its key count when `accurate` and preceded by `OP_1`..`OP_16`, else 20. Parsing stops at the
/// first malformed push.
pub fn sig_op_count(script: &Script, accurate: bool) -> usize {
    let bytes = script.as_bytes();
    let mut pc = 0;
    let mut count = 0;
    let mut last = op::OP_INVALIDOPCODE;
    while let Some((opcode, _)) = read_op(bytes, &mut pc) {
        match opcode {
            op::OP_CHECKSIG | op::OP_CHECKSIGVERIFY => count += 1,
            op::OP_CHECKMULTISIG | op::OP_CHECKMULTISIGVERIFY => {
                count += match last.small_int() {
                    Some(n @ 1..=16) if accurate => n as usize,
                    _ => MAX_PUBKEYS_PER_MULTISIG as usize,
                };
            }
            _ => {}
        }
        last = opcode;
    }
    count
}

/// Exposed for the bitcoin-compat checker and tests: the signature-hash code of the interpreter
/// is not needed elsewhere.
#[doc(hidden)]
pub fn verify_ecdsa_with_hashtype(
    sig_with_hashtype: &[u8],
    pubkey: &[u8],
    sighash: &[u8; 32],
) -> bool {
    match sig_with_hashtype.split_last() {
        Some((_, der)) => checker::verify_ecdsa(der, pubkey, sighash),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoSignatureChecker;
    use crate::parse_asm;

    fn run(sig: &str, pubkey: &str, flags: &str) -> Result<(), ScriptError> {
        verify_script(
            &parse_asm(sig).unwrap(),
            &parse_asm(pubkey).unwrap(),
            flags.parse().unwrap(),
            &NoSignatureChecker,
        )
    }

    #[test]
    fn negative_zero_is_false() {
        assert!(!cast_to_bool(&[0x80]));
        assert!(!cast_to_bool(&[0, 0, 0x80]));
        assert!(cast_to_bool(&[0x80, 0]));
        assert!(cast_to_bool(&[0, 1]));
        assert!(!cast_to_bool(&[]));
    }

    #[test]
    fn condition_stack_nesting() {
        assert_eq!(
            run("1", "IF 0 IF 0 ELSE 0 ENDIF ELSE 0 ENDIF 1", ""),
            Ok(())
        );
        assert_eq!(run("0", "IF 0 ELSE 1 ENDIF", ""), Ok(()));
        assert_eq!(
            run("0", "IF 0 IF 1 ELSE RETURN ENDIF ELSE 1 ENDIF", ""),
            Ok(())
        );
        assert_eq!(
            run("1", "ELSE", ""),
            Err(ScriptError::UnbalancedConditional)
        );
    }

    #[test]
    fn script_size_limit_is_10000_bytes() {
        // 3,333 three-byte pushes and a final OP_1: exactly 10,000 bytes. It runs (and then
        // trips the stack limit), while one byte more is refused before anything runs.
        let mut script = Vec::new();
        for _ in 0..3_333 {
            script.extend_from_slice(&[0x02, 0xaa, 0xbb]);
        }
        script.push(op::OP_1.0);
        assert_eq!(script.len(), 10_000);
        let empty = Script::from_bytes(&[]);
        let flags = VerifyFlags::empty();
        assert_eq!(
            verify_script(
                empty,
                Script::from_bytes(&script),
                flags,
                &NoSignatureChecker
            ),
            Err(ScriptError::StackSize)
        );
        script.push(op::OP_1.0);
        assert_eq!(
            verify_script(
                empty,
                Script::from_bytes(&script),
                flags,
                &NoSignatureChecker
            ),
            Err(ScriptError::ScriptSize)
        );
    }

    #[test]
    fn element_size_limit_is_520_bytes() {
        let push = |n: usize| {
            crate::Builder::new()
                .push_slice(&vec![1u8; n])
                .push_opcode(op::OP_SIZE)
                .into_script()
        };
        let s = push(520);
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                &s,
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Ok(())
        );
        let s = push(521);
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                &s,
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Err(ScriptError::PushSize)
        );
        // Even in an unexecuted branch.
        let s = crate::Builder::new()
            .push_int(0)
            .push_opcode(op::OP_IF)
            .push_slice(&[0; 521])
            .push_opcode(op::OP_ENDIF)
            .push_int(1)
            .into_script();
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                &s,
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Err(ScriptError::PushSize)
        );
    }

    #[test]
    fn op_count_limit_is_201() {
        let mut s = vec![op::OP_1.0];
        s.extend(std::iter::repeat_n(op::OP_NOP.0, 201));
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                Script::from_bytes(&s),
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Ok(())
        );
        s.push(op::OP_NOP.0);
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                Script::from_bytes(&s),
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Err(ScriptError::OpCount)
        );
        // Pushes and OP_RESERVED in an unexecuted branch do not count.
        let mut s = vec![op::OP_1.0];
        s.extend(std::iter::repeat_n(op::OP_NOP.0, 200));
        s.extend_from_slice(&[op::OP_0.0, op::OP_IF.0, op::OP_RESERVED.0, op::OP_ENDIF.0]);
        assert_eq!(
            verify_script(
                Script::from_bytes(&[]),
                Script::from_bytes(&s),
                VerifyFlags::empty(),
                &NoSignatureChecker
            ),
            Err(ScriptError::OpCount)
        );
    }

    #[test]
    fn multisig_keys_count_towards_op_limit() {
        // 0 0 20 CHECKMULTISIG is 1 + 20 ops; ten of them = 210 > 201.
        let one = "0 0 0 20 CHECKMULTISIG DROP";
        let ok = [one; 9].join(" ");
        assert_eq!(
            run("", &format!("{ok} 1"), ""),
            Err(ScriptError::InvalidStackOperation)
        );
        assert_eq!(
            run("", "0 0 21 CHECKMULTISIG", ""),
            Err(ScriptError::PubkeyCount)
        );
    }

    #[test]
    fn stack_plus_altstack_limit_is_1000() {
        let s = format!("{} TOALTSTACK {} 1", "1 ".repeat(500), "1 ".repeat(499));
        assert_eq!(run("", &s, ""), Ok(()));
        let s = format!("{} TOALTSTACK {} 1", "1 ".repeat(500), "1 ".repeat(500));
        assert_eq!(run("", &s, ""), Err(ScriptError::StackSize));
    }

    #[test]
    fn disabled_opcodes_fail_even_unexecuted() {
        assert_eq!(
            run("1", "IF 1 ELSE CAT ENDIF", ""),
            Err(ScriptError::DisabledOpcode)
        );
        assert_eq!(run("1", "IF 1 ELSE RESERVED ENDIF", ""), Ok(()));
        assert_eq!(
            run("1", "IF 1 ELSE VERIF ENDIF", ""),
            Err(ScriptError::BadOpcode)
        );
    }

    #[test]
    fn each_flag_changes_the_outcome() {
        assert_eq!(run("0x02 0x0100", "DROP 1", "MINIMALDATA"), Ok(()));
        assert_eq!(
            run("0x01 0x01", "DROP 1", "MINIMALDATA"),
            Err(ScriptError::MinimalData)
        );
        assert_eq!(run("0x01 0x01", "DROP 1", ""), Ok(()));
        assert_eq!(
            run("NOP", "1", "SIGPUSHONLY"),
            Err(ScriptError::SigPushOnly)
        );
        assert_eq!(
            run("1 1", "", "P2SH,CLEANSTACK"),
            Err(ScriptError::CleanStack)
        );
        assert_eq!(
            run("NOP1", "1", "DISCOURAGE_UPGRADABLE_NOPS"),
            Err(ScriptError::DiscourageUpgradableNops)
        );
        assert_eq!(run("1", "CHECKLOCKTIMEVERIFY", ""), Ok(()));
        assert_eq!(
            run("1", "CHECKLOCKTIMEVERIFY", "CHECKLOCKTIMEVERIFY"),
            Err(ScriptError::UnsatisfiedLocktime)
        );
        assert_eq!(
            run("-1", "CHECKLOCKTIMEVERIFY", "CHECKLOCKTIMEVERIFY"),
            Err(ScriptError::NegativeLocktime)
        );
        assert_eq!(
            run("1", "CHECKSEQUENCEVERIFY", "CHECKSEQUENCEVERIFY"),
            Err(ScriptError::UnsatisfiedLocktime)
        );
        assert_eq!(
            run(
                "0x05 0x0000008000",
                "CHECKSEQUENCEVERIFY",
                "CHECKSEQUENCEVERIFY"
            ),
            Ok(()),
            "disable flag set"
        );
        assert_eq!(
            run("0 0 0", "CHECKMULTISIG", "NULLDUMMY"),
            Ok(()),
            "0-of-0 succeeds"
        );
        assert_eq!(
            run("1 0 0", "CHECKMULTISIG", "NULLDUMMY"),
            Err(ScriptError::SigNullDummy)
        );
        assert_eq!(run("1 0 0", "CHECKMULTISIG", ""), Ok(()));
        assert_eq!(run("0x01 0x01 0x01 0x02", "CHECKSIG NOT", ""), Ok(()));
        assert_eq!(
            run("0x01 0x01 0x01 0x02", "CHECKSIG NOT", "DERSIG"),
            Err(ScriptError::SigDer)
        );
        assert_eq!(
            run("0 0x01 0x05", "CHECKSIG NOT", "STRICTENC"),
            Err(ScriptError::PubkeyType)
        );
        assert_eq!(
            run("0 CODESEPARATOR", "1", "CONST_SCRIPTCODE"),
            Err(ScriptError::OpCodeseparator)
        );
    }

    #[test]
    fn nullfail_requires_empty_failing_signatures() {
        let sig = "0x09 0x300602010102010101";
        assert_eq!(
            run(
                &format!("{sig} 0x21 0x{}", "02".repeat(33)),
                "CHECKSIG NOT",
                "NULLFAIL"
            ),
            Err(ScriptError::SigNullFail)
        );
        assert_eq!(
            run(
                &format!("{sig} 0x21 0x{}", "02".repeat(33)),
                "CHECKSIG NOT",
                ""
            ),
            Ok(())
        );
    }

    #[test]
    fn find_and_delete_matches_core() {
        let (n, out) = find_and_delete(&[0x01, 0xaa, 0x01, 0xaa, 0x51], &[0x01, 0xaa]);
        assert_eq!((n, out.as_deref()), (2, Some(&[0x51][..])));
        // Only at instruction boundaries: 0x02 0x01 0xaa contains the needle inside a push.
        let (n, out) = find_and_delete(&[0x02, 0x01, 0xaa], &[0x01, 0xaa]);
        assert_eq!((n, out), (0, None));
        assert_eq!(find_and_delete(&[0x51], &[]), (0, None));
    }

    #[test]
    fn sigop_counting() {
        let s = parse_asm("CHECKSIG 3 CHECKMULTISIG CHECKMULTISIGVERIFY").unwrap();
        assert_eq!(sig_op_count(&s, true), 1 + 3 + 20);
        assert_eq!(sig_op_count(&s, false), 1 + 20 + 20);
    }
}
