;; 1,000,000 rounds of xorshift64, the result returned: the compute loop that
;; benches/benches/contracts.rs and benches/engines time (and check against native Rust).
(module
  (import "env" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call") (local $x i64) (local $i i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $l
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (i64.const 1000000))))
    (i64.store (i32.const 0) (local.get $x))
    (call $ret (i32.const 0) (i32.const 8))))
