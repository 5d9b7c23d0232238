//! The contract payload rules of consensus (the engine itself is tested in its own crate).

use i8o8i_primitives::ContractAddress;

use super::check_payload_fee;

const ADDRESS: ContractAddress = ContractAddress::from_byte_array([7; 32]);

#[test]
fn the_fee_must_cover_value_and_gas_reservation() {
    let call = |value: u64, gas_limit: u64| i8o8i_primitives::Transaction {
        version: 2,
        inputs: Vec::new(),
        outputs: Vec::new(),
        lock_time: 0,
        payload: Some(i8o8i_primitives::Payload::Call {
            contract: ADDRESS,
            input: Vec::new(),
            value: i8o8i_primitives::Amount::from_units(value),
            gas_limit,
        }),
    };
    let units = i8o8i_primitives::Amount::from_units;
    // inputs − outputs = 1,000 value + 50,000 reserved + 300 left for the relay fee.
    assert_eq!(
        check_payload_fee(&call(1_000, 50_000), units(51_300)),
        Ok(units(50_300))
    );
    assert_eq!(
        check_payload_fee(&call(1_000, 50_000), units(50_999)),
        Err(crate::error::TxError::ContractFee {
            needed: units(51_000),
            paid: units(50_999)
        })
    );
    assert_eq!(
        check_payload_fee(&call(u64::MAX, 1), units(5)),
        Err(crate::error::TxError::ValueOverflow)
    );
}
