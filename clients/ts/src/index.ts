/**
 * @i8o8icoin/sdk: build, sign and submit I8o8iCoin transactions from TypeScript, byte for byte
 * as the Rust node does, and call the node's JSON-RPC API with types generated from its
 * OpenRPC document.
 */
export * from './errors.js';
export * from './bytes.js';
export * from './scale.js';
export * from './tx.js';
export * from './sighash.js';
export * from './script.js';
export * from './address.js';
export * from './keys.js';
export * from './kdf.js';
export * from './sign.js';
export * from './request.js';
export * from './policy.js';
export * from './client.js';
export * from './abi.js';
/** The node's JSON-RPC types, generated from its OpenRPC document (`rpc.Balance`, `rpc.TxJson`, …). */
export type * as rpc from './generated/methods.js';
